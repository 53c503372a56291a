"""Observation and reward of batches of predicted states, as the real task computes them.

The generic path writes each state into MuJoCo and calls the task's own code (exact, about
20-130 µs a state). Where a task's functions are simple enough, a vectorized numpy version
computes the same numbers for the whole batch at once; a test holds each one equal to
dm_control's on real states.
"""

from __future__ import annotations

import numpy as np

from mosim_ray.tasks import Simulator, make_simulator


class TaskFunctions:
    """(obs, reward) of states reached after actions: MuJoCo one state at a time (exact)."""

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


class ReacherFunctions(TaskFunctions):
    """dm_control reacher: obs (position, to_target, velocity), reward 1 inside the target.

    The finger is a two-link planar chain: finger = arm + R(q0) (hand + R(q1) finger_offset),
    with the link offsets read from the model (and checked planar) rather than hard-coded.
    """

    vectorized = True

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        m = sim.physics.model
        named = sim.physics.named.model
        for body in ("arm", "hand", "finger"):
            if not np.allclose(named.body_quat[body], [1, 0, 0, 0]):
                raise ValueError(
                    f"reacher: body {body} is rotated; the planar formula needs it not"
                )
        for joint in ("shoulder", "wrist"):
            if not np.allclose(named.jnt_axis[joint], [0, 0, 1]):
                raise ValueError(f"reacher: joint {joint} is not about z")
        self.arm = np.asarray(named.body_pos["arm", :2], dtype=np.float64)
        self.hand = np.asarray(named.body_pos["hand", :2], dtype=np.float64)
        self.finger = np.asarray(named.body_pos["finger", :2] + named.geom_pos["finger", :2])
        self.radii = float(named.geom_size["target", 0] + named.geom_size["finger", 0])
        assert m.nq == 2

    def __call__(self, states, actions, contexts):
        states = np.asarray(states, dtype=np.float64)
        q0, q1 = states[:, 0], states[:, 1]
        c0, s0, c01, s01 = np.cos(q0), np.sin(q0), np.cos(q0 + q1), np.sin(q0 + q1)
        fx = self.arm[0] + c0 * self.hand[0] - s0 * self.hand[1]
        fy = self.arm[1] + s0 * self.hand[0] + c0 * self.hand[1]
        fx = fx + c01 * self.finger[0] - s01 * self.finger[1]
        fy = fy + s01 * self.finger[0] + c01 * self.finger[1]
        to_target = np.stack([contexts[:, 0] - fx, contexts[:, 1] - fy], axis=1)
        obs = np.concatenate([states[:, :2], to_target, states[:, 2:4]], axis=1)
        reward = (np.linalg.norm(to_target, axis=1) <= self.radii).astype(np.float64)
        return obs.astype(np.float32), reward


_VECTORIZED = {"reacher": ReacherFunctions}


def task_functions(task: str, exact: bool = False) -> TaskFunctions:
    """The fastest available (obs, reward) function of a task; ``exact`` forces MuJoCo."""
    sim = make_simulator(task)
    domain = getattr(sim, "domain", None)
    if not exact and domain in _VECTORIZED:
        return _VECTORIZED[domain](sim)
    return TaskFunctions(sim)
