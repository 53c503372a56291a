"""Touch sensors of a batch of states: exact, through MuJoCo only where a contact is possible.

A touch sensor reads the normal forces of the contacts on its site's body, which come out of
MuJoCo's constraint solver (acceleration stage): no closed form of the state gives them. But a
body with no contact reads exactly 0. So the states are screened in numpy (``ContactScreen``)
and only those where the body may touch something go through MuJoCo: ``mj_forward`` with the
action in ``ctrl``, as ``Simulator.evaluate`` does, run in C by ``mujoco.rollout``.
"""

from __future__ import annotations

import mujoco
import numpy as np
from mujoco import rollout

from mosim_ray.envs.contact_screen import ContactScreen
from mosim_ray.envs.kinematics import Frames, PlanarKinematics

_TOUCH = int(mujoco.mjtSensor.mjSENS_TOUCH)


class TouchSensors:
    """The readings [N, len(sensors)] of the touch sensors named ``sensors``.

    ``model``: the task's ``MjModel``; ``kin``: its ``PlanarKinematics``.
    """

    def __init__(self, model: mujoco.MjModel, kin: PlanarKinematics, sensors: list[str]):
        m = self.model = model
        self.adr = []
        bodies = set()
        for name in sensors:
            sensor = m.sensor(name)
            if int(sensor.type[0]) != _TOUCH:
                raise ValueError(f"sensor {name!r} is not a touch sensor")
            self.adr.append(int(sensor.adr[0]))
            bodies.add(int(m.site_bodyid[sensor.objid[0]]))
        self.screen = ContactScreen(m, kin, bodies)
        self.data = mujoco.MjData(m)
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self._template = np.empty(mujoco.mj_stateSize(m, spec))
        mujoco.mj_getState(m, self.data, self._template, spec)
        self._qpos_at = mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_TIME)
        self._act_at = self._qpos_at + m.nq + m.nv

    def __call__(
        self, frames: Frames, states: np.ndarray, actions: np.ndarray, contexts: np.ndarray
    ) -> np.ndarray:
        """frames of states [N, nq+nv], actions [N, nu], contexts [N, na] -> readings [N, k]."""
        out = np.zeros((len(states), len(self.adr)))
        rows = np.flatnonzero(self.screen(frames))
        if len(rows) == 0:
            return out
        m = self.model
        initial = np.tile(self._template, (len(rows), 1))
        initial[:, self._qpos_at : self._qpos_at + m.nq + m.nv] = states[rows]
        if m.na:
            initial[:, self._act_at : self._act_at + m.na] = contexts[rows, : m.na]
        control = np.ascontiguousarray(actions[rows], dtype=np.float64)[:, None, :]
        # the sensors of step 1 are those of the mj_forward that begins mj_step, at the state
        _, sensordata = rollout.rollout(m, self.data, initial, control, nstep=1)
        out[rows] = sensordata[:, 0, self.adr]
        return out
