"""Task names: the dm_control suite tasks we use and generic ``mjcf:<path>`` models.

Importing this module needs no MuJoCo: ``make_simulator`` (and so ``get_spec``) imports dm_control
when first called.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mosim_ray.tasks.simulator import Simulator
    from mosim_ray.tasks.spec import TaskSpec

SUITE_TASKS: dict[str, tuple[str, str]] = {
    "reacher-easy": ("reacher", "easy"),
    "reacher-hard": ("reacher", "hard"),
    "acrobot-swingup": ("acrobot", "swingup"),
    "cheetah-run": ("cheetah", "run"),
    "hopper-hop": ("hopper", "hop"),
    "hopper-stand": ("hopper", "stand"),
    "walker-walk": ("walker", "walk"),
    "humanoid-walk": ("humanoid", "walk"),
    "quadruped-walk": ("quadruped", "walk"),
}
MJCF_PREFIX = "mjcf:"


class UnknownTaskError(ValueError):
    """A task name that is neither registered nor an ``mjcf:<path>`` model."""


def task_names() -> list[str]:
    return sorted(SUITE_TASKS)


def check_task_name(name: str) -> None:
    if name in SUITE_TASKS:
        return
    if name.startswith(MJCF_PREFIX):
        path = Path(name[len(MJCF_PREFIX) :])
        if not path.is_file():
            raise UnknownTaskError(f"MJCF model file not found: {path}")
        return
    raise UnknownTaskError(
        f"unknown task {name!r}; known: {', '.join(task_names())} (or 'mjcf:<path to model.xml>')"
    )


@cache
def get_spec(name: str) -> TaskSpec:
    """TaskSpec of a task, read from MuJoCo itself (cached)."""
    return make_simulator(name).spec


def make_simulator(name: str, seed: int | None = None) -> Simulator:
    """A fresh simulator of ``name`` (``cheetah-run`` or ``mjcf:path/to/model.xml``)."""
    check_task_name(name)
    if name.startswith(MJCF_PREFIX):
        from mosim_ray.tasks.mjcf import MjcfSimulator

        return MjcfSimulator(name, seed)
    from mosim_ray.tasks.suite import SuiteSimulator

    return SuiteSimulator(name, seed)
