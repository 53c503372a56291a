"""The interface of a task's observation and reward functions, and its exact MuJoCo version."""

from __future__ import annotations

import numpy as np

from mosim_ray.tasks import Simulator


class TaskFunctions:
    """(obs, reward) of states reached after actions: MuJoCo one state at a time (exact).

    Subclasses compute the same numbers for a whole batch at once and set ``vectorized``.
    """

    vectorized = False

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.spec = sim.spec

    def __call__(
        self, states: np.ndarray, actions: np.ndarray, contexts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """states [N, nq+nv], actions [N, nu], contexts [N, context_dim] ->
        (obs [N, obs_dim] float32, reward [N] float64)."""
        return self.sim.evaluate(states, actions, contexts)
