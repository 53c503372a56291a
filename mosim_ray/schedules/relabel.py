"""Goal relabelling of real transitions: the model-free control's match of fresh imagined goals.

With ``task_contexts`` MoSim's imagined branches start from real states with a fresh goal
(reacher's target) and are scored by the task's known reward. A model-free control that is to
differ from MoSim only by the model gets the same help without a model: real transitions
(previous state, action, next state) replayed under a goal drawn from the task's own reset
distribution, observation, reward and termination computed by the task's functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from ray.rllib.policy.sample_batch import SampleBatch

from mosim_ray.config import ConfigError
from mosim_ray.data.reader import Episode
from mosim_ray.envs.task_functions import task_functions
from mosim_ray.sac.buffer import TransitionReplayBuffer
from mosim_ray.schedules.real_segments import module_actions
from mosim_ray.tasks import get_spec

GOALS = 4096
"""fresh goals drawn from the task's resets once, at the start (a reset costs ~0.1 ms; a batch
draws from these)"""


class RelabelledTransitions:
    """Real transitions kept as physical states; each sample gets a fresh goal."""

    def __init__(self, task: str, capacity: int = 1_000_000, seed: int | None = None):
        spec = get_spec(task)
        if not spec.context_dim:
            raise ConfigError(f"relabel_fraction: {task} has no goal to relabel (reacher has)")
        self.fns = task_functions(task)
        self.low, self.high = (np.asarray(b, np.float64) for b in spec.action_bounds)
        self.physical = TransitionReplayBuffer(capacity, seed=seed)
        """the ring of physical transitions in a replay buffer's columns: obs the previous state
        [N, nq+nv], act the robot's torques [N, nu], nobs the next state (rew, term unused)"""
        self.rng = np.random.default_rng(seed)
        self.goals = self._draw_goals(GOALS)
        """[GOALS, context_dim] contexts of fresh task resets"""

    def __len__(self) -> int:
        return len(self.physical)

    def _draw_goals(self, n: int) -> np.ndarray:
        sim = self.fns.sim
        goals = []
        for seed in self.rng.integers(2**31 - 1, size=n):
            sim.reset(int(seed))
            goals.append(sim.context())
        return np.asarray(goals, np.float64)

    def add_episodes(self, episodes: Iterable[Episode]) -> int:
        """Every step of ``episodes`` (states [T+1, S], actions [T, nu] torques); returns the
        count added."""
        added = 0
        for ep in episodes:
            states = ep.states.astype(np.float64)
            n = len(ep.actions)
            self.physical.add_arrays(
                {
                    "obs": states[:-1],
                    "act": ep.actions.astype(np.float64),
                    "rew": np.zeros(n, np.float32),
                    "nobs": states[1:],
                    "term": np.zeros(n, np.float32),
                }
            )
            added += n
        return added

    def sample(self, n: int) -> dict[str, np.ndarray]:
        """``n`` replay transitions (obs, act in the module's [-1, 1], rew, nobs, term), each
        under a goal drawn from ``goals``."""
        t = self.physical.sample(n)
        prev, torques, nxt = t[SampleBatch.OBS], t[SampleBatch.ACTIONS], t[SampleBatch.NEXT_OBS]
        goals = self.goals[self.rng.integers(len(self.goals), size=n)]
        # the previous state's observation (the task's observation is a function of the state)
        obs, _, _ = self.fns.transition(prev, prev, torques, goals)
        nobs, rew, term = self.fns.transition(prev, nxt, torques, goals)
        return {
            SampleBatch.OBS: obs.astype(np.float32),
            SampleBatch.ACTIONS: module_actions(torques, self.low, self.high),
            SampleBatch.REWARDS: rew.astype(np.float32),
            SampleBatch.NEXT_OBS: nobs.astype(np.float32),
            SampleBatch.TERMINATEDS: term.astype(np.float32),
        }

    def get_state(self) -> dict[str, Any]:
        return {
            "physical": self.physical.get_state(),
            "physical_rng": self.physical._rng.bit_generator.state,
            "rng": self.rng.bit_generator.state,
            "goals": self.goals,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.physical.set_state(state["physical"])
        self.physical._rng.bit_generator.state = state["physical_rng"]
        self.rng.bit_generator.state = state["rng"]
        self.goals = state["goals"]
