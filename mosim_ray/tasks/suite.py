"""``SuiteSimulator``: a dm_control suite task (``cheetah-run``) with its observation and reward."""

from __future__ import annotations

import numpy as np

from mosim_ray.tasks.physics import model_facts, suite
from mosim_ray.tasks.registry import SUITE_TASKS
from mosim_ray.tasks.simulator import Simulator
from mosim_ray.tasks.spec import TaskSpec

# Observation entries computed in MuJoCo's acceleration stage (contact forces): not a function of
# (qpos, qvel) alone.
_ACC_STAGE_OBS = {"hopper": ("touch",), "quadruped": ("imu", "force_torque")}


class SuiteSimulator(Simulator):
    """A dm_control suite task (``cheetah-run``) with its observation and reward.

    ``physics_steps``: each ``step`` is one MuJoCo step (``spec.control_dt`` is then the physics
    timestep) instead of the task's control step of several: the unit of the paper's prediction
    experiments ("action repeat = 1, control step = 1"), for test data only.
    """

    def __init__(self, name: str, seed: int | None = None, physics_steps: bool = False):
        self.name, self.seed = name, seed
        domain, task = SUITE_TASKS[name]
        self.domain = domain
        self.env = suite.load(
            domain, task, task_kwargs={"random": seed, "time_limit": float("inf")}
        )
        if physics_steps:  # the suite's tasks fix their control timestep; no argument overrides it
            self.env._n_sub_steps = 1
        ts = self.env.reset()
        self._obs = None
        model = self.env.physics.model
        spec = self.env.action_spec()
        self.spec = TaskSpec(
            name=name,
            **model_facts(model),
            control_dt=float(self.env.control_timestep()),
            action_low=tuple(float(x) for x in spec.minimum),
            action_high=tuple(float(x) for x in spec.maximum),
            obs_keys=tuple((k, int(np.size(v))) for k, v in ts.observation.items()),
            context_dim=len(self.context()),
            acc_stage_obs=_ACC_STAGE_OBS.get(domain, ()),
        )

    @property
    def physics(self):
        return self.env.physics

    def context(self) -> np.ndarray:
        act = super().context()
        if self.domain == "reacher":
            target = self.physics.named.model.geom_pos["target", ["x", "y"]]
            return np.concatenate([np.asarray(target, dtype=np.float64), act])
        return act

    def _set_context(self, context: np.ndarray) -> None:
        if self.domain == "reacher":
            self.physics.named.model.geom_pos["target", ["x", "y"]] = context[:2]
            context = context[2:]
        super()._set_context(context)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            # dm_control draws initial states from task.random; reseeding it makes episodes
            # reproducible without rebuilding the environment.
            self.env.task._random = np.random.RandomState(seed)
        self.env.reset()
        self._obs = None

    def step(self, action: np.ndarray) -> float:
        ts = self.env.step(self.check_action(action))
        self._obs = ts.observation  # the observation of the new state: no need to compute it twice
        return float(ts.reward)

    def _flat_obs(self, obs=None) -> np.ndarray:
        obs = self.env.task.get_observation(self.physics) if obs is None else obs
        return np.concatenate([np.asarray(v, dtype=np.float32).reshape(-1) for v in obs.values()])

    def observation(self) -> np.ndarray:
        obs, self._obs = self._obs, None
        return self._flat_obs(obs)

    def evaluate(self, states, actions, contexts=None, previous_states=None):
        import mujoco

        states = np.asarray(states, dtype=np.float64)
        actions = np.asarray(actions, dtype=np.float64)
        n = len(states)
        obs = np.empty((n, self.spec.obs_dim), dtype=np.float32)
        rew = np.empty(n, dtype=np.float64)
        m, d = self.physics.model.ptr, self.physics.data.ptr
        # dm_control's physics.step ends with mj_step1 after the last sub-step, with ctrl still
        # holding the action: the same call here reproduces its observation and reward exactly
        # (acceleration-stage sensors aside, which mj_forward approximates).
        use_forward = bool(self.spec.acc_stage_obs)
        for i in range(n):
            self.set_state(states[i], None if contexts is None else contexts[i], forward=False)
            self.physics.data.ctrl[:] = actions[i]
            if use_forward:
                mujoco.mj_forward(m, d)
            else:
                mujoco.mj_step1(m, d)
            obs[i] = self._flat_obs()
            rew[i] = self.env.task.get_reward(self.physics)
        return obs, rew
