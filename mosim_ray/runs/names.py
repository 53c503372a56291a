"""Names of things on disk."""

from __future__ import annotations


def folder_name(task: str) -> str:
    """A task name as a folder name: ``gym:Hopper-v5`` -> ``gym_Hopper-v5``,
    ``mjcf:robots/arm.xml`` -> ``mjcf_robots_arm.xml``."""
    return task.replace(":", "_").replace("/", "_")
