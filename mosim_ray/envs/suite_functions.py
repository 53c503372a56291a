"""Vectorized observation and reward of dm_control suite tasks, for whole batches of states.

Each class computes what the task's own ``get_observation`` and ``get_reward`` compute after
``mj_step1`` (as ``Simulator.evaluate`` does), for N states at once: positions and orientations
by batched forward kinematics (``PlanarKinematics``), speeds from the subtree centre-of-mass
velocity as the task's ``subtreelinvel`` sensor reads it, rewards by dm_control's own
``rewards.tolerance`` (which takes arrays). Constants are read from the model and the task
(``_RUN_SPEED``, ``task._move_speed``, site sizes), not copied. ``tests/test_task_functions.py``
holds each one equal to MuJoCo on real states.
"""

from __future__ import annotations

import mujoco
import numpy as np
from dm_control.suite import cheetah, hopper, walker
from dm_control.utils import rewards

from mosim_ray.envs.exact_functions import TaskFunctions
from mosim_ray.envs.kinematics import PlanarKinematics
from mosim_ray.envs.touch import TouchSensors
from mosim_ray.tasks import Simulator

_SUBTREE_LINVEL = int(mujoco.mjtSensor.mjSENS_SUBTREELINVEL)


class _PlanarFunctions(TaskFunctions):
    """Shared set-up: the observation layout is checked against the task's, and the planar
    kinematics is built from the task's model (raising where it does not apply)."""

    vectorized = True
    obs_keys: tuple[str, ...] = ()

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        keys = tuple(k for k, _ in self.spec.obs_keys)
        if keys != self.obs_keys:
            raise ValueError(f"{sim.name}: observation keys {keys}, expected {self.obs_keys}")
        self.model: mujoco.MjModel = sim.physics.model.ptr
        self.kin = PlanarKinematics(self.model, sim.name)
        self.nq = self.spec.nq
        self.task = sim.env.task

    def body(self, name: str) -> int:
        return int(self.model.body(name).id)

    def speed_body(self, sensor: str) -> int:
        """The body whose subtree COM velocity the ``subtreelinvel`` sensor ``sensor`` reads."""
        s = self.model.sensor(sensor)
        if int(s.type[0]) != _SUBTREE_LINVEL or s.noise[0] != 0 or s.cutoff[0] != 0:
            raise ValueError(f"{self.sim.name}: sensor {sensor!r} is not a plain subtreelinvel")
        return int(s.objid[0])

    @staticmethod
    def stack(*parts: np.ndarray) -> np.ndarray:
        """[N, k_i] pieces -> float32 observation [N, sum k_i], float64 until the last cast."""
        return np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1).astype(np.float32)


class CheetahFunctions(_PlanarFunctions):
    """cheetah-run: obs (position = qpos[1:], velocity = qvel); reward linear in the torso
    subtree's forward COM speed up to ``_RUN_SPEED``. No control cost."""

    obs_keys = ("position", "velocity")

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        self.torso = self.speed_body("torso_subtreelinvel")

    def __call__(self, states, actions, contexts):
        states = np.asarray(states, dtype=np.float64)
        qpos, qvel = states[:, : self.nq], states[:, self.nq :]
        speed = self.kin.subtree_linvel(self.kin.frames(qpos), qvel, self.torso)[0]
        run = cheetah._RUN_SPEED
        reward = rewards.tolerance(
            speed, bounds=(run, float("inf")), margin=run, value_at_margin=0, sigmoid="linear"
        )
        return self.stack(qpos[:, 1:], qvel), reward


class WalkerFunctions(_PlanarFunctions):
    """walker-walk (and -stand, -run): obs (orientations = xx, xz of every body's rotation,
    torso height, qvel); reward (3 standing + upright) / 4, times (5 moving + 1) / 6 when the
    task asks for a speed. No control cost."""

    obs_keys = ("orientations", "height", "velocity")

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        self.torso = self.body("torso")
        self.speed_of = self.speed_body("torso_subtreelinvel")
        self.move_speed = float(self.task._move_speed)

    def __call__(self, states, actions, contexts):
        states = np.asarray(states, dtype=np.float64)
        qpos, qvel = states[:, : self.nq], states[:, self.nq :]
        frames = self.kin.frames(qpos)
        xmat = self.kin.xmats(frames, range(1, self.kin.nbody))  # [B, 9, N]
        orientations = xmat[:, [0, 2]].transpose(2, 0, 1)  # xx, xz per body: [N, B, 2]
        height = frames.xpos[self.torso][2]
        upright = (1 + self.kin.xmats(frames, [self.torso])[0, 8]) / 2
        stand = walker._STAND_HEIGHT
        standing = rewards.tolerance(height, bounds=(stand, float("inf")), margin=stand / 2)
        reward = (3 * standing + upright) / 4
        if self.move_speed != 0:
            speed = self.kin.subtree_linvel(frames, qvel, self.speed_of)[0]
            move = rewards.tolerance(
                speed,
                bounds=(self.move_speed, float("inf")),
                margin=self.move_speed / 2,
                value_at_margin=0.5,
                sigmoid="linear",
            )
            reward = reward * (5 * move + 1) / 6
        return self.stack(orientations, height, qvel), reward


class HopperFunctions(_PlanarFunctions):
    """hopper-hop and hopper-stand: obs (qpos[1:], qvel, touch = log1p of the foot's two touch
    sensors); reward standing (torso COM above the foot COM by ``_STAND_HEIGHT``..2) times
    hopping speed (hop) or times a small-control term of the action (stand).

    ``touch`` reads contact forces (acceleration stage): it goes through MuJoCo, but only for
    the states whose foot may touch something (``TouchSensors``); every other term is numpy.
    """

    obs_keys = ("position", "velocity", "touch")

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        self.torso, self.foot = self.body("torso"), self.body("foot")
        self.speed_of = self.speed_body("torso_subtreelinvel")
        self.touch = TouchSensors(self.model, self.kin, ["touch_toe", "touch_heel"])
        self.hopping = bool(self.task._hopping)

    def __call__(self, states, actions, contexts):
        states = np.asarray(states, dtype=np.float64)
        actions = np.asarray(actions, dtype=np.float64)
        qpos, qvel = states[:, : self.nq], states[:, self.nq :]
        frames = self.kin.frames(qpos)
        touch = np.log1p(self.touch(frames, states, actions, contexts))
        height = frames.xipos[self.torso, 2] - frames.xipos[self.foot, 2]
        standing = rewards.tolerance(height, (hopper._STAND_HEIGHT, 2))
        if self.hopping:
            speed = self.kin.subtree_linvel(frames, qvel, self.speed_of)[0]
            hop = hopper._HOP_SPEED
            hopping = rewards.tolerance(
                speed,
                bounds=(hop, float("inf")),
                margin=hop / 2,
                value_at_margin=0.5,
                sigmoid="linear",
            )
            reward = standing * hopping
        else:
            small = rewards.tolerance(actions, margin=1, value_at_margin=0, sigmoid="quadratic")
            reward = standing * (small.mean(axis=1) + 4) / 5
        return self.stack(qpos[:, 1:], qvel, touch), reward


class AcrobotFunctions(_PlanarFunctions):
    """acrobot-swingup (and -swingup_sparse): obs (orientations = xz, then zz, of the two arms'
    rotations; qvel); reward by the distance from the tip site to the target site."""

    obs_keys = ("orientations", "velocity")

    def __init__(self, sim: Simulator):
        super().__init__(sim)
        self.arms = [self.body("upper_arm"), self.body("lower_arm")]
        self.tip, self.target = int(self.model.site("tip").id), int(self.model.site("target").id)
        self.radius = float(self.model.site_size[self.target, 0])
        self.sparse = bool(self.task._sparse)

    def __call__(self, states, actions, contexts):
        states = np.asarray(states, dtype=np.float64)
        qpos, qvel = states[:, : self.nq], states[:, self.nq :]
        frames = self.kin.frames(qpos)
        xmat = self.kin.xmats(frames, self.arms)  # [2, 9, N]
        orientations = np.concatenate([xmat[:, 2], xmat[:, 8]]).T  # horizontal, vertical
        gap = self.kin.site_xpos(frames, self.target) - self.kin.site_xpos(frames, self.tip)
        distance = np.linalg.norm(gap, axis=0)
        reward = rewards.tolerance(
            distance, bounds=(0, self.radius), margin=0 if self.sparse else 1
        )
        return self.stack(orientations, qvel), reward


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
