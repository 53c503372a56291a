"""``Simulator``: a MuJoCo system whose physics state can be read, set and stepped.

The physical state is ``np.concatenate([qpos, qvel])`` in MuJoCo order (``nq + nv`` entries;
``nq != nv`` when the model has free or ball joints). Some tasks carry more than (qpos, qvel):

* a *context*: per-episode quantities the observation or reward depends on but the physics state does
  not hold (reacher's target position lives in ``model.geom_pos``; quadruped's actuator activations
  live in ``data.act``). ``Simulator.context()`` reads it and ``set_state(..., context=...)`` writes it.
* acceleration-stage sensors (hopper ``touch``, quadruped ``imu`` / ``force_torque``) depend on contact
  forces of the last physics sub-step and so cannot be recomputed exactly from the state alone:
  ``TaskSpec.acc_stage_obs`` names them; ``evaluate`` computes them from the state with ``mj_forward``
  (an approximation, measured in the tests).

* a task may *terminate* an episode (``TaskSpec.has_termination``: a Gymnasium hopper that fell);
  ``terminated()`` says whether the last ``step`` did, ``evaluate_transitions`` for given
  transitions. Rewards that depend on the state before the step (Gymnasium's forward velocity)
  need it: ``evaluate(..., previous_states=...)``.

This base class needs only numpy; the subclasses (``suite``, ``mjcf``, ``gym``) import MuJoCo.
"""

from __future__ import annotations

import numpy as np

from mosim_ray.tasks.spec import TaskSpec


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

    def terminated(self) -> bool:
        """Whether the last ``step`` ended the episode by the task's own rule (a hopper that
        fell); False after ``reset`` and ``set_state``, and always for tasks without
        ``spec.has_termination`` (dm_control's never terminate: time limits only)."""
        return False

    def observation(self) -> np.ndarray:
        """[obs_dim] float32 observation of the current physics."""
        raise NotImplementedError

    def evaluate(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        contexts: np.ndarray | None = None,
        previous_states: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Observation and reward of given states, as ``step`` returns them.

        states: [N, nq+nv] reached after applying actions: [N, nu]; contexts: [N, context_dim];
        previous_states: [N, nq+nv] the actions were applied in (dm_control tasks ignore them;
        tasks whose reward needs them, such as ``gym:`` ones, raise without them).
        Returns (obs [N, obs_dim] float32, reward [N] float64). Leaves the physics in the last state.
        """
        raise NotImplementedError

    def evaluate_transitions(
        self,
        previous_states: np.ndarray,
        states: np.ndarray,
        actions: np.ndarray,
        contexts: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Observation, reward and terminated flag of transitions, as ``step`` returns them.

        previous_states: [N, nq+nv] where actions: [N, nu] were applied, states: [N, nq+nv]
        reached; contexts: [N, context_dim]. Returns (obs [N, obs_dim] float32, reward [N]
        float64, terminated [N] bool). This default, for tasks whose reward needs only the state
        reached: ``evaluate``, never terminated.
        """
        obs, reward = self.evaluate(states, actions, contexts)
        return obs, reward, np.zeros(len(obs), dtype=bool)

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
