"""Task registry: dm_control suite tasks and generic MuJoCo XML models behind one interface.

A *task* is a MuJoCo system plus, for dm_control tasks, the task's observation and reward. The
physical state is ``np.concatenate([qpos, qvel])`` in MuJoCo order (``nq + nv`` entries; ``nq != nv``
when the model has free or ball joints). Some tasks carry more than (qpos, qvel):

* a *context*: per-episode quantities the observation or reward depends on but the physics state does
  not hold (reacher's target position lives in ``model.geom_pos``; quadruped's actuator activations
  live in ``data.act``). ``Simulator.context()`` reads it and ``set_state(..., context=...)`` writes it.
* acceleration-stage sensors (hopper ``touch``, quadruped ``imu`` / ``force_torque``) depend on contact
  forces of the last physics sub-step and so cannot be recomputed exactly from the state alone:
  ``TaskSpec.acc_stage_obs`` names them; ``evaluate`` computes them from the state with ``mj_forward``
  (an approximation, measured in the tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# No rendering here: choose the headless "disable" backend before dm_control is imported.
os.environ.setdefault("MUJOCO_GL", "disable")

import numpy as np  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

# dm_control's MJCF compiler warns about deprecated attributes in its own suite models.
absl_logging.set_verbosity(absl_logging.ERROR)

SUITE_TASKS: dict[str, tuple[str, str]] = {
    "reacher-easy": ("reacher", "easy"),
    "reacher-hard": ("reacher", "hard"),
    "acrobot-swingup": ("acrobot", "swingup"),
    "cheetah-run": ("cheetah", "run"),
    "hopper-hop": ("hopper", "hop"),
    "hopper-stand": ("hopper", "stand"),
    "walker-walk": ("walker", "walk"),
    "humanoid-walk": ("humanoid", "walk"),
    "quadruped-walk": ("quadruped", "walk"),
}
MJCF_PREFIX = "mjcf:"

# Observation entries computed in MuJoCo's acceleration stage (contact forces): not a function of
# (qpos, qvel) alone.
_ACC_STAGE_OBS = {"hopper": ("touch",), "quadruped": ("imu", "force_torque")}

# qpos entry kinds, used by models to embed angles and integrate quaternions.
FREE_POS, QUAT, HINGE_WRAP, HINGE, SLIDE = "free_pos", "quat", "hinge_wrap", "hinge", "slide"


class UnknownTaskError(ValueError):
    """A task name that is neither registered nor an ``mjcf:<path>`` model."""


@dataclass(frozen=True)
class TaskSpec:
    """Static facts about a task, as needed by data, models and environments."""

    name: str
    nq: int
    nv: int
    nu: int
    control_dt: float
    physics_dt: float
    """MuJoCo's own time step (control_dt is a whole number of them)"""
    integrator: str
    """MuJoCo's integrator: euler (semi-implicit), rk4, implicit or implicitfast"""
    action_low: tuple[float, ...]
    action_high: tuple[float, ...]
    qpos_kinds: tuple[str, ...]
    """One of ``free_pos, quat, hinge_wrap, hinge, slide`` per qpos entry."""
    obs_keys: tuple[tuple[str, int], ...] = ()
    """Observation entries (name, size) in the fixed flattening order; empty for MJCF models."""
    translation_qpos: tuple[int, ...] = ()
    """qpos entries of horizontal root translation (free-joint x, y; root slide joints along a
    horizontal axis): the dynamics do not depend on them, so models leave them out of their inputs."""
    context_dim: int = 0
    has_reward: bool = True
    acc_stage_obs: tuple[str, ...] = ()

    @property
    def physics_substeps(self) -> int:
        return max(1, round(self.control_dt / self.physics_dt))

    @property
    def state_dim(self) -> int:
        return self.nq + self.nv

    @property
    def obs_dim(self) -> int:
        return sum(n for _, n in self.obs_keys) if self.obs_keys else self.state_dim

    @property
    def action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.action_low), np.asarray(self.action_high)


def task_names() -> list[str]:
    return sorted(SUITE_TASKS)


def check_task_name(name: str) -> None:
    if name in SUITE_TASKS:
        return
    if name.startswith(MJCF_PREFIX):
        path = Path(name[len(MJCF_PREFIX) :])
        if not path.is_file():
            raise UnknownTaskError(f"MJCF model file not found: {path}")
        return
    raise UnknownTaskError(
        f"unknown task {name!r}; known: {', '.join(task_names())} (or 'mjcf:<path to model.xml>')"
    )


@cache
def get_spec(name: str) -> TaskSpec:
    """TaskSpec of a task, read from MuJoCo itself (cached)."""
    return make_simulator(name).spec


def make_simulator(name: str, seed: int | None = None) -> Simulator:
    """A fresh simulator of ``name`` (``cheetah-run`` or ``mjcf:path/to/model.xml``)."""
    check_task_name(name)
    if name.startswith(MJCF_PREFIX):
        return MjcfSimulator(name, seed)
    return SuiteSimulator(name, seed)


_INTEGRATORS = {0: "euler", 1: "rk4", 2: "implicit", 3: "implicitfast"}


def _translation_qpos(model) -> tuple[int, ...]:
    out = []
    for j in range(model.njnt):
        adr, jtype = int(model.jnt_qposadr[j]), int(model.jnt_type[j])
        if int(model.body_parentid[model.jnt_bodyid[j]]) != 0:
            continue  # not attached to the world
        if jtype == 0:
            out += [adr, adr + 1]
        elif jtype == 2 and abs(float(model.jnt_axis[j][2])) < 1e-9:
            out.append(adr)
    return tuple(out)


def _qpos_kinds(model) -> tuple[str, ...]:
    kinds: list[str] = [""] * model.nq
    for j in range(model.njnt):
        adr, jtype = int(model.jnt_qposadr[j]), int(model.jnt_type[j])
        if jtype == 0:  # free: 3 position, 4 quaternion
            kinds[adr : adr + 7] = [FREE_POS] * 3 + [QUAT] * 4
        elif jtype == 1:  # ball
            kinds[adr : adr + 4] = [QUAT] * 4
        elif jtype == 2:
            kinds[adr] = SLIDE
        else:
            kinds[adr] = HINGE if bool(model.jnt_limited[j]) else HINGE_WRAP
    return tuple(kinds)


class Simulator:
    """A MuJoCo system with a physics state that can be read, set and stepped.

    ``step`` applies one control step (``spec.control_dt``) with the action held constant.
    """

    name: str
    seed: int | None
    spec: TaskSpec

    # --- state -------------------------------------------------------------------------------
    @property
    def physics(self):
        raise NotImplementedError

    def state(self) -> np.ndarray:
        """[nq+nv] float64 copy of (qpos, qvel)."""
        d = self.physics.data
        return np.concatenate([d.qpos, d.qvel]).astype(np.float64)

    def context(self) -> np.ndarray:
        """[context_dim] per-episode quantities that the observation or reward needs."""
        return self.physics.data.act.astype(np.float64).copy()

    def _set_context(self, context: np.ndarray) -> None:
        self.physics.data.act[:] = context[: self.physics.model.na]

    def set_state(
        self, state: np.ndarray, context: np.ndarray | None = None, forward: bool = True
    ) -> None:
        """Write (qpos, qvel) [nq+nv] (and the context, if given) into the physics.

        ``forward`` recomputes everything derived from the state (mj_forward): dm_control's
        ``physics.step`` starts with ``mj_step2``, which integrates with the accelerations of
        the last forward pass, so stepping after a bare write would use the old state's.
        """
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.spec.state_dim,):
            raise ValueError(
                f"{self.name}: state must have shape ({self.spec.state_dim},) = nq+nv "
                f"({self.spec.nq}+{self.spec.nv}), got {state.shape}"
            )
        self._obs = None
        d = self.physics.data
        d.qpos[:] = state[: self.spec.nq]
        d.qvel[:] = state[self.spec.nq :]
        if context is not None:
            self._set_context(np.asarray(context, dtype=np.float64))
        if forward:
            self.physics.forward()

    # --- dynamics ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        raise NotImplementedError

    def step(self, action: np.ndarray) -> float:
        """Apply ``action`` [nu] for one control step; return the reward (0.0 without one)."""
        raise NotImplementedError

    def observation(self) -> np.ndarray:
        """[obs_dim] float32 observation of the current physics."""
        raise NotImplementedError

    def evaluate(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        contexts: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observation and reward of given states, as ``step`` returns them.

        states: [N, nq+nv] reached after applying actions: [N, nu]; contexts: [N, context_dim].
        Returns (obs [N, obs_dim] float32, reward [N] float64). Leaves the physics in the last state.
        """
        raise NotImplementedError

    def check_action(self, action: np.ndarray) -> np.ndarray:
        """Validated float64 action [nu]: non-finite raises, out of bounds is clipped."""
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (self.spec.nu,):
            raise ValueError(
                f"{self.name}: action must have {self.spec.nu} entries, got shape {action.shape}"
            )
        if not np.isfinite(action).all():
            raise ValueError(f"{self.name}: non-finite action {action.tolist()}")
        low, high = self.spec.action_bounds
        return action.clip(low, high)


class SuiteSimulator(Simulator):
    """A dm_control suite task (``cheetah-run``) with its observation and reward."""

    def __init__(self, name: str, seed: int | None = None):
        from dm_control import suite

        self.name, self.seed = name, seed
        domain, task = SUITE_TASKS[name]
        self.domain = domain
        self.env = suite.load(
            domain, task, task_kwargs={"random": seed, "time_limit": float("inf")}
        )
        ts = self.env.reset()
        self._obs = None
        model = self.env.physics.model
        spec = self.env.action_spec()
        self.spec = TaskSpec(
            name=name,
            nq=int(model.nq),
            nv=int(model.nv),
            nu=int(model.nu),
            control_dt=float(self.env.control_timestep()),
            physics_dt=float(model.opt.timestep),
            integrator=_INTEGRATORS[int(model.opt.integrator)],
            action_low=tuple(float(x) for x in spec.minimum),
            action_high=tuple(float(x) for x in spec.maximum),
            qpos_kinds=_qpos_kinds(model),
            translation_qpos=_translation_qpos(model),
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

    def evaluate(self, states, actions, contexts=None):
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


class MjcfSimulator(Simulator):
    """Any MuJoCo XML model: state and actions only (the observation is the state, no reward)."""

    def __init__(self, name: str, seed: int | None = None, reset_noise: float = 0.1):
        from dm_control import mujoco as dm_mujoco

        self.name, self.seed = name, seed
        self.reset_noise = reset_noise
        self.path = Path(name[len(MJCF_PREFIX) :])
        self._physics = dm_mujoco.Physics.from_xml_path(str(self.path))
        model = self._physics.model
        low = np.where(model.actuator_ctrllimited, model.actuator_ctrlrange[:, 0], -np.inf)
        high = np.where(model.actuator_ctrllimited, model.actuator_ctrlrange[:, 1], np.inf)
        self.spec = TaskSpec(
            name=name,
            nq=int(model.nq),
            nv=int(model.nv),
            nu=int(model.nu),
            control_dt=float(model.opt.timestep),
            physics_dt=float(model.opt.timestep),
            integrator=_INTEGRATORS[int(model.opt.integrator)],
            action_low=tuple(float(x) for x in low),
            action_high=tuple(float(x) for x in high),
            qpos_kinds=_qpos_kinds(model),
            translation_qpos=_translation_qpos(model),
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

    def evaluate(self, states, actions, contexts=None):
        states = np.asarray(states, dtype=np.float64)
        return states.astype(np.float32), np.zeros(len(states))
