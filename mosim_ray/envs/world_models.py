"""Which world model a run of a task uses: one rule for every kind of run."""

from __future__ import annotations

from pathlib import Path

from mosim_ray.envs.imagined import check_same_physics


def resolve_world_model(task: str, checkpoint: str | None = None) -> str:
    """The world model a run of ``task`` uses: ``checkpoint``, or the shipped model of the task's
    robot (a reacher-easy model serves reacher-hard). Checked to simulate ``task``; a path that
    exists comes back absolute (actors and Tune trials run in other folders)."""
    from mosim_ray.model import WorldModel
    from mosim_ray.model.world_model import shipped_model

    path = checkpoint or shipped_model(task)
    check_same_physics(WorldModel.load(path).task, task)
    return str(Path(path).resolve()) if Path(path).exists() else path
