"""Task names: the dm_control suite tasks we use, Gymnasium MuJoCo environments (``gym:<id>``)
and generic ``mjcf:<path>`` models.

Importing this module needs no MuJoCo: ``make_simulator`` (and so ``get_spec``) imports dm_control
when first called; ``check_task_name`` imports only gymnasium's registry for ``gym:`` names.
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
SUITE_REWARD_RANGE = (0.0, 1.0)
"""every dm_control suite task's per-step reward lies in [0, 1] (``rewards.tolerance``)"""
MJCF_PREFIX = "mjcf:"
GYM_PREFIX = "gym:"


class UnknownTaskError(ValueError):
    """A task name that is neither registered, nor a registered ``gym:<id>``, nor an
    ``mjcf:<path>`` model."""


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
    if name.startswith(GYM_PREFIX):
        _check_gym_id(name[len(GYM_PREFIX) :])
        return
    raise UnknownTaskError(
        f"unknown task {name!r}; known: {', '.join(task_names())} (or 'gym:<Gymnasium MuJoCo id>',"
        " e.g. 'gym:Hopper-v5', or 'mjcf:<path to model.xml>')"
    )


def gym_mujoco_ids() -> list[str]:
    """Gymnasium's own MuJoCo environment ids, latest version (v5) only."""
    import gymnasium as gym

    return sorted(
        env_id
        for env_id, spec in gym.registry.items()
        if str(spec.entry_point).startswith("gymnasium.envs.mujoco") and env_id.endswith("-v5")
    )


def _check_gym_id(env_id: str) -> None:
    """Raises ``UnknownTaskError`` unless ``env_id`` (``[module:]EnvId``) is registered (after
    importing ``module``, as ``gymnasium.make`` does)."""
    import importlib

    import gymnasium as gym

    module, _, registered = env_id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        gym.spec(registered)
    except Exception as e:  # gymnasium raises its own Error, ModuleNotFoundError, ValueError
        raise UnknownTaskError(
            f"unknown Gymnasium id {env_id!r} in task 'gym:{env_id}' ({e}); Gymnasium's MuJoCo "
            f"ids: {', '.join(gym_mujoco_ids())}; your own MujocoEnv: gymnasium.register(...) "
            "it, then 'gym:YourEnv-v0' (or 'gym:your_module:YourEnv-v0')"
        ) from None


def reward_range(name: str) -> tuple[float, float] | None:
    """The per-step reward's bounds the task guarantees; None where none is known
    (Gymnasium's environments and MJCF models)."""
    return SUITE_REWARD_RANGE if name in SUITE_TASKS else None


@cache
def get_spec(name: str) -> TaskSpec:
    """TaskSpec of a task, read from MuJoCo itself (cached)."""
    return make_simulator(name).spec


def make_simulator(name: str, seed: int | None = None, physics_steps: bool = False) -> Simulator:
    """A fresh simulator of ``name`` (``cheetah-run``, ``gym:Hopper-v5`` or
    ``mjcf:path/to/model.xml``). ``physics_steps``: one MuJoCo step per ``step`` (dm_control
    suite tasks only; ``SuiteSimulator``)."""
    check_task_name(name)
    if physics_steps and (name.startswith(MJCF_PREFIX) or name.startswith(GYM_PREFIX)):
        raise ValueError(
            f"task {name!r}: physics-step simulation is for dm_control suite tasks only"
        )
    if name.startswith(MJCF_PREFIX):
        from mosim_ray.tasks.mjcf import MjcfSimulator

        return MjcfSimulator(name, seed)
    if name.startswith(GYM_PREFIX):
        from mosim_ray.tasks.gym import GymSimulator

        return GymSimulator(name, seed)
    from mosim_ray.tasks.suite import SuiteSimulator

    return SuiteSimulator(name, seed, physics_steps)
