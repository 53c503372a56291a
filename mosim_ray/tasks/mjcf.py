"""``MjcfSimulator``: any MuJoCo XML model, state and actions only (``mjcf:path/to/model.xml``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mosim_ray.tasks.physics import dm_mujoco, model_facts
from mosim_ray.tasks.registry import MJCF_PREFIX
from mosim_ray.tasks.simulator import Simulator
from mosim_ray.tasks.spec import HINGE, HINGE_WRAP, SLIDE, TaskSpec


class MjcfSimulator(Simulator):
    """Any MuJoCo XML model: state and actions only (the observation is the state, no reward)."""

    def __init__(self, name: str, seed: int | None = None, reset_noise: float = 0.1):
        self.name, self.seed = name, seed
        self.reset_noise = reset_noise
        self.path = Path(name[len(MJCF_PREFIX) :])
        self._physics = dm_mujoco.Physics.from_xml_path(str(self.path))
        model = self._physics.model
        low = np.where(model.actuator_ctrllimited, model.actuator_ctrlrange[:, 0], -np.inf)
        high = np.where(model.actuator_ctrllimited, model.actuator_ctrlrange[:, 1], np.inf)
        self.spec = TaskSpec(
            name=name,
            **model_facts(model),
            control_dt=float(model.opt.timestep),
            action_low=tuple(float(x) for x in low),
            action_high=tuple(float(x) for x in high),
            context_dim=int(model.na),
            has_reward=False,
        )
        self._rng = np.random.default_rng(seed)
        self.reset()

    @property
    def physics(self):
        return self._physics

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        with self._physics.reset_context():
            qpos = self._physics.data.qpos
            kinds = self.spec.qpos_kinds
            for i, kind in enumerate(kinds):
                if kind in (HINGE, HINGE_WRAP, SLIDE):
                    qpos[i] += self._rng.uniform(-self.reset_noise, self.reset_noise)

    def step(self, action: np.ndarray) -> float:
        self._physics.set_control(self.check_action(action))
        self._physics.step()
        return 0.0

    def observation(self) -> np.ndarray:
        return self.state().astype(np.float32)

    def evaluate(self, states, actions, contexts=None, previous_states=None):
        states = np.asarray(states, dtype=np.float64)
        return states.astype(np.float32), np.zeros(len(states))
