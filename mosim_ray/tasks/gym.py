"""``GymSimulator``: a Gymnasium MuJoCo environment (``gym:Hopper-v5``) with its own observation,
reward and termination.

Any registered Gymnasium id whose environment is a ``gymnasium.envs.mujoco.MujocoEnv`` works:
Gymnasium's own (``Hopper-v5``, ``HalfCheetah-v5``, ``Walker2d-v5``, ``Ant-v5``, ...) or a user's
subclass registered with ``gymnasium.register``. ``gym:my_pkg.envs:TinyArm-v0`` imports
``my_pkg.envs`` before looking the id up (Gymnasium's own ``module:id`` form), so processes that
never ran the user's ``register`` call (Ray actors, env runners) find the environment too.

The state is (qpos, qvel); one control step is the env's ``dt`` (``frame_skip`` physics steps);
the reset distribution is the env's own ``reset`` (seeded); no time limit (the caller's).

**A transition's observation, reward and termination** (``evaluate_transitions``: previous state,
state reached, action) are what the env's own ``step`` returns, computed by that code: the previous
state is written into MuJoCo (``mj_forward``, as the env's ``set_state``), the env's
``do_simulation`` is replaced, for that one call, by writing the reached state (``ctrl`` = the
action, then ``mj_forward`` and ``mj_rnePostConstraint``, as ``do_simulation`` ends), and ``step``
runs as written: forward velocity from the x position before and after, costs from the action,
health from the state, ``_get_obs()`` from ``data``.

* Exact (bit for bit, ``tests/test_gym_tasks.py``) where ``step`` reads qpos, qvel and the action:
  Hopper, HalfCheetah, Walker2d.
* Quantities MuJoCo derives from the state (body positions ``xpos``, contact forces ``cfrc_ext``)
  come from MuJoCo's own computation at the state (``mj_forward``, ``mj_rnePostConstraint``).
  After a real ``mj_step`` they still hold the values of the last sub-step's internal evaluation
  (its Runge-Kutta stage, or the state before the last Euler sub-step), which a state alone does
  not determine, and the contact solver starts from another warm start: Ant's x velocity (from
  the torso's ``xpos``), its contact forces (observation) and contact cost differ a little
  (measured in the tests).

**Requirements on a user's env** (what makes ``gym:YourEnv-v0`` work):

* a ``MujocoEnv`` subclass, observation a 1-D ``Box``, actions a bounded ``Box``;
* ``step`` advances the physics only through ``self.do_simulation(action, self.frame_skip)``;
* what ``step`` returns is a function of ``data`` before and after that call (qpos, qvel,
  ``act``, and whatever ``mj_forward`` derives from them), the action and constants: no step
  counters, no previous actions, no ``data.time`` (not restored), no random draws in ``step``;
* ``render_mode=None`` (the default).

Not supported: observations or rewards that need more than that (a frame stack, a goal that
moves during the episode), and exact contact forces after a step (see above).
"""

from __future__ import annotations

import mujoco
import numpy as np

from mosim_ray.tasks.physics import model_facts
from mosim_ray.tasks.registry import GYM_PREFIX
from mosim_ray.tasks.simulator import Simulator
from mosim_ray.tasks.spec import TaskSpec

# Gymnasium MuJoCo environments that never terminate (the others say so with their
# ``_terminate_when_unhealthy``; a user's env without that attribute may terminate).
_NEVER_TERMINATE = {"HalfCheetahEnv", "SwimmerEnv", "ReacherEnv", "PusherEnv"}


class _Physics:
    """The env's MjModel and MjData, shaped as the part of dm_control's ``Physics`` that
    ``Simulator`` uses (``model``, ``data``, ``forward``)."""

    def __init__(self, model, data):
        self.model, self.data = model, data

    def forward(self) -> None:
        mujoco.mj_forward(self.model, self.data)


def make_gym_env(env_id: str):
    """The unwrapped Gymnasium env of ``env_id``; raises ``ValueError`` unless a ``MujocoEnv``."""
    import gymnasium as gym
    from gymnasium.envs.mujoco import MujocoEnv

    env = gym.make(env_id).unwrapped
    if not isinstance(env, MujocoEnv):
        raise ValueError(
            f"gym:{env_id} is a {type(env).__name__}, not a gymnasium.envs.mujoco.MujocoEnv: "
            "gym: tasks need MuJoCo's state (qpos, qvel) and do_simulation"
        )
    for space, what in ((env.observation_space, "observation"), (env.action_space, "action")):
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"gym:{env_id}: the {what} space must be a 1-D Box, got {space}")
    if not (np.isfinite(env.action_space.low).all() and np.isfinite(env.action_space.high).all()):
        raise ValueError(f"gym:{env_id}: the action space must be bounded, got {env.action_space}")
    if env.render_mode is not None:
        raise ValueError(f"gym:{env_id}: render_mode must be None, got {env.render_mode!r}")
    return env


def may_terminate(env) -> bool:
    """Whether ``env.step`` can return terminated=True (see ``TaskSpec.has_termination``)."""
    flag = getattr(env, "_terminate_when_unhealthy", None)
    if flag is not None:
        return bool(flag)
    gymnasium_own = type(env).__module__.startswith("gymnasium.envs.mujoco")
    return not (gymnasium_own and type(env).__name__ in _NEVER_TERMINATE)


class GymSimulator(Simulator):
    """A Gymnasium ``MujocoEnv`` (``gym:Hopper-v5``) with the env's observation, reward and
    termination."""

    def __init__(self, name: str, seed: int | None = None):
        self.name, self.seed = name, seed
        self.env_id = name[len(GYM_PREFIX) :]
        self.env = make_gym_env(self.env_id)
        self._physics = _Physics(self.env.model, self.env.data)
        self._obs, self._terminated, self._target = None, False, None
        self.reset(seed)
        model = self.env.model
        self.spec = TaskSpec(
            name=name,
            **model_facts(model),
            control_dt=float(self.env.dt),
            action_low=tuple(float(x) for x in self.env.action_space.low),
            action_high=tuple(float(x) for x in self.env.action_space.high),
            obs_keys=(("observation", int(self.env.observation_space.shape[0])),),
            context_dim=int(model.na),
            has_termination=may_terminate(self.env),
        )

    @property
    def physics(self) -> _Physics:
        return self._physics

    def set_state(self, state, context=None, forward: bool = True) -> None:
        super().set_state(state, context, forward)
        self._terminated = False

    def reset(self, seed: int | None = None) -> None:
        obs, _ = self.env.reset(seed=seed)
        self._obs, self._terminated = obs, False

    def step(self, action: np.ndarray) -> float:
        obs, reward, terminated, _, _ = self.env.step(self.check_action(action))
        self._obs, self._terminated = obs, bool(terminated)
        return float(reward)

    def terminated(self) -> bool:
        return self._terminated

    def observation(self) -> np.ndarray:
        obs = self.env._get_obs() if self._obs is None else self._obs
        return np.asarray(obs, dtype=np.float32).reshape(-1)

    def evaluate(self, states, actions, contexts=None, previous_states=None):
        if previous_states is None:
            raise ValueError(
                f"{self.name}: the reward depends on the state before the step "
                "(forward velocity): pass previous_states, or use evaluate_transitions"
            )
        obs, reward, _ = self.evaluate_transitions(previous_states, states, actions, contexts)
        return obs, reward

    def evaluate_transitions(self, previous_states, states, actions, contexts=None):
        previous_states = np.asarray(previous_states, dtype=np.float64)
        states = np.asarray(states, dtype=np.float64)
        actions = np.asarray(actions, dtype=np.float64)
        n = len(states)
        if len(previous_states) != n or len(actions) != n:
            raise ValueError(
                f"{self.name}: {len(previous_states)} previous states, {n} states and "
                f"{len(actions)} actions: need one of each per transition"
            )
        obs = np.empty((n, self.spec.obs_dim), dtype=np.float32)
        reward = np.empty(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        env = self.env
        env.do_simulation = self._arrive  # shadows the method for the calls below only
        try:
            for i in range(n):
                context = None if contexts is None else contexts[i]
                self.set_state(previous_states[i], context)
                self._target = (states[i], context)
                o, r, t, _, _ = env.step(actions[i])
                obs[i], reward[i], terminated[i] = np.asarray(o).reshape(-1), r, t
        finally:
            del env.do_simulation
            self._target = None
        self._obs = None
        return obs, reward, terminated

    def _arrive(self, ctrl, n_frames) -> None:
        """``do_simulation`` that lands on the target state instead of integrating."""
        state, context = self._target
        d = self.env.data
        d.ctrl[:] = ctrl
        self.set_state(state, context, forward=False)
        mujoco.mj_forward(self.env.model, d)
        mujoco.mj_rnePostConstraint(self.env.model, d)
