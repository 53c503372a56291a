"""Observation, reward (and termination) of batches of predicted states, as the real task
computes them.

The exact path (``TaskFunctions``) writes each state into MuJoCo and calls the task's own code
(about 20-130 µs a state). Where a task's functions allow it, a vectorized numpy version
(``suite_functions``) computes the same numbers for the whole batch at once; a test holds each
one equal to dm_control's on real states. Gymnasium tasks (``gym:Hopper-v5``) always take the exact
path: their env's own ``step`` on (previous state, state, action), which also says terminated.
"""

from __future__ import annotations

from mosim_ray.envs.exact_functions import TaskFunctions
from mosim_ray.envs.suite_functions import (
    AcrobotFunctions,
    CheetahFunctions,
    HopperFunctions,
    ReacherFunctions,
    WalkerFunctions,
)
from mosim_ray.tasks import make_simulator

__all__ = ["TaskFunctions", "task_functions"]

# dm_control domain -> its vectorized functions (each covers every task of the domain)
_VECTORIZED: dict[str, type[TaskFunctions]] = {
    "acrobot": AcrobotFunctions,
    "cheetah": CheetahFunctions,
    "hopper": HopperFunctions,
    "reacher": ReacherFunctions,
    "walker": WalkerFunctions,
}


def task_functions(task: str, exact: bool = False) -> TaskFunctions:
    """The fastest available (obs, reward) function of a task; ``exact`` forces MuJoCo."""
    sim = make_simulator(task)
    domain = getattr(sim, "domain", None)
    if not exact and domain in _VECTORIZED:
        return _VECTORIZED[domain](sim)
    return TaskFunctions(sim)
