"""The interface of a task's observation, reward and termination functions, and its exact
MuJoCo version."""

from __future__ import annotations

import numpy as np

from mosim_ray.tasks import Simulator


class TaskFunctions:
    """(obs, reward) of states reached after actions: MuJoCo one state at a time (exact).

    Subclasses compute the same numbers for a whole batch at once and set ``vectorized``; they
    serve tasks whose reward needs only the state reached and that never terminate (dm_control's).
    ``transition`` is the full interface (previous state, termination), the one
    ``ImaginedVecEnv`` calls.
    """

    vectorized = False

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.spec = sim.spec

    def __call__(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        contexts: np.ndarray,
        previous_states: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """states [N, nq+nv], actions [N, nu], contexts [N, context_dim], previous_states
        [N, nq+nv] (needed by ``gym:`` tasks) -> (obs [N, obs_dim] float32, reward [N] float64)."""
        if previous_states is None:
            return self.sim.evaluate(states, actions, contexts)
        return self.sim.evaluate(states, actions, contexts, previous_states=previous_states)

    def transition(
        self,
        previous_states: np.ndarray,
        states: np.ndarray,
        actions: np.ndarray,
        contexts: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions [N, nu] applied at previous_states [N, nq+nv] reached states [N, nq+nv];
        contexts [N, context_dim] -> (obs [N, obs_dim] float32, reward [N] float64,
        terminated [N] bool), as the task's ``step`` returns them."""
        if self.vectorized:
            obs, reward = self(states, actions, contexts)
            return obs, reward, np.zeros(len(obs), dtype=bool)
        return self.sim.evaluate_transitions(previous_states, states, actions, contexts)
