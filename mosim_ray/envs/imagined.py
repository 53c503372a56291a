"""N imagined robots stepped by one batched world-model call, as a gymnasium ``VectorEnv``.

Observation, reward and termination are the real task's functions of the predicted transition
(``task_functions``: the state before the step, the state predicted, the action), so any
model-free learner sees the task it would see in MuJoCo. A sub-episode ends *terminated* when the
task says so (a Gymnasium hopper that fell; dm_control tasks never do) and *truncated* at the time
limit. Autoreset is NEXT_STEP (the step after a sub-episode ends returns its reset observation,
reward 0), as RLlib's env runner expects.

Nothing non-finite leaves this env: a prediction that is non-finite, or whose velocity exceeds
``max_abs_velocity`` (or, where ``velocity_bounds`` is set, a joint's own bound: a prediction
far outside the real data the model learned from), ends that sub-episode (truncated,
``info["diverged"]``) with the last good observation, and is counted in ``counters``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.envs.real import check_time_limit, task_spaces
from mosim_ray.envs.task_functions import TaskFunctions, task_functions
from mosim_ray.model.world_model import WorldModel
from mosim_ray.tasks import get_spec

Penalty = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(states [N, D], actions [N, U]) -> reward term [N] added to the task reward, on the state the
action was taken in. A penalty with an ``out_of_support() -> bool [N] | None`` method may also
end sub-episodes (e.g. ``DensityPenalty`` below a log-density threshold)."""

WeightsSource = Callable[[int], "tuple[int, dict[str, torch.Tensor]] | None"]
"""Called with the env's current model version; returns (newer version, state dict) or None."""


@dataclass
class ResetPool:
    """Real states to start imagined episodes from: states [M, D], contexts [M, C]."""

    states: np.ndarray
    contexts: np.ndarray

    def __post_init__(self):
        if len(self.states) == 0 or len(self.states) != len(self.contexts):
            raise ValueError(
                f"reset pool needs as many contexts as states, at least one: "
                f"{len(self.states)} states, {len(self.contexts)} contexts"
            )

    def velocity_bounds(self, nq: int, margin: float) -> np.ndarray:
        """[nv] ``margin`` times each joint's largest speed among these real states."""
        return margin * np.abs(self.states[:, nq:]).max(axis=0)

    @classmethod
    def from_dataset(cls, data: RolloutDataset) -> ResetPool:
        """Every state of every episode (with its episode's context)."""
        states = np.concatenate([ep.states for ep in data.episodes]).astype(np.float64)
        ctx = np.concatenate([ep.contexts for ep in data.episodes]).astype(np.float64)
        return cls(states, ctx)


def check_same_physics(model_task: str, task: str) -> None:
    """A model of one task can serve another only when the robot is the same: same domain
    (reacher-easy and reacher-hard differ in the target only) and same dimensions and timing."""
    if model_task == task:
        return
    a, b = get_spec(model_task), get_spec(task)
    same = (a.nq, a.nv, a.nu, a.control_dt) == (b.nq, b.nv, b.nu, b.control_dt)
    if not same or model_task.split("-")[0] != task.split("-")[0]:
        raise ValueError(f"a model of {model_task!r} cannot simulate {task!r}: different robot")


class ImaginedVecEnv(gym.vector.VectorEnv):
    """``num_envs`` imagined robots of ``task`` (default ``model.task``; another task of the
    same physics, e.g. reacher-hard for a reacher-easy model, is allowed); episodes last
    ``time_limit`` steps.

    Resets come from the task's own initial distribution (a real reset of the task per
    sub-episode) or, with ``reset_pool``, from real states drawn uniformly from it; then
    ``task_reset_fraction`` of the episodes still start from the task's resets. With
    ``task_contexts``, an episode started from a real state gets its context (reacher's target)
    from a fresh task reset instead of the real episode's: the physics starts where real data
    was, the goal is any the task can set (as goal relabelling does).
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        model: WorldModel,
        num_envs: int = 64,
        time_limit: int = 100,
        reset_pool: ResetPool | None = None,
        max_abs_velocity: float = 1e3,
        penalty: Penalty | None = None,
        weights_source: WeightsSource | None = None,
        sync_every: int = 100,
        exact_rewards: bool = False,
        functions: TaskFunctions | None = None,
        task: str | None = None,
        resets_source: Callable[[int], tuple[int, ResetPool] | None] | None = None,
        task_reset_fraction: float = 0.0,
        penalty_source: Callable[[int], tuple[int, Penalty] | None] | None = None,
        task_contexts: bool = False,
    ):
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if not 0.0 <= task_reset_fraction <= 1.0:
            raise ValueError(f"task_reset_fraction must be in [0, 1], got {task_reset_fraction}")
        if not max_abs_velocity > 0:
            raise ValueError(f"max_abs_velocity must be > 0, got {max_abs_velocity}")
        self.model = model
        self.task = task or model.task
        check_same_physics(model.task, self.task)
        self.spec_ = get_spec(self.task)
        if not self.spec_.has_reward:
            raise ValueError(
                f"{self.task}: has no reward; imagined RL needs a dm_control or gym: task"
            )
        self.num_envs = int(num_envs)
        self.time_limit = check_time_limit(time_limit)
        self.fns = functions or task_functions(self.task, exact=exact_rewards)
        self.single_observation_space, self.single_action_space = task_spaces(self.spec_)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.max_abs_velocity = float(max_abs_velocity)
        self.velocity_bounds: np.ndarray | None = None
        """[nv] each joint's largest believable speed, or None (``max_abs_velocity`` only)"""
        self.penalty = penalty
        self.weights_source = weights_source
        self.sync_every = int(sync_every)
        self.reset_pool = reset_pool
        self.resets_source = resets_source
        self.task_reset_fraction = float(task_reset_fraction)
        self.penalty_source = penalty_source
        self.task_contexts = bool(task_contexts)
        self.penalty_version = 0
        self.resets_version = 0
        self.model_version = 0
        self.counters = {
            "imagined_steps": 0,
            "episodes": 0,
            "diverged": 0,
            "terminated": 0,
            "out_of_support": 0,
            "weight_pulls": 0,
        }
        n, d, c = self.num_envs, self.spec_.state_dim, self.spec_.context_dim
        self._states = np.zeros((n, d))
        self._contexts = np.zeros((n, c))
        self._obs = np.zeros((n, self.spec_.obs_dim), np.float32)
        self._t = np.zeros(n, np.int64)
        self._needs_reset = np.zeros(n, bool)
        self._rng = np.random.default_rng()
        self._calls = 0
        self._low, self._high = (x.astype(np.float32) for x in self.spec_.action_bounds)

    # --- model weights ---------------------------------------------------------------------------
    def set_weights(self, state_dict: dict[str, torch.Tensor], version: int) -> None:
        """Load new model weights; a version older than the current one is refused."""
        if version < self.model_version:
            raise ValueError(f"model version went backwards: {version} < {self.model_version}")
        self.model.dynamics.load_state_dict(state_dict)
        self.model_version = int(version)

    def _maybe_pull(self) -> None:
        if self._calls % self.sync_every:
            return
        if self.weights_source is not None:
            newer = self.weights_source(self.model_version)
            if newer is not None:
                self.set_weights(newer[1], newer[0])
                self.counters["weight_pulls"] += 1
        if self.resets_source is not None:
            resets = self.resets_source(self.resets_version)
            if resets is not None:
                self.resets_version, self.reset_pool = resets
        if self.penalty_source is not None:
            penalty = self.penalty_source(self.penalty_version)
            if penalty is not None:
                self.penalty_version, self.penalty = penalty

    def set_reset_pool(self, pool: ResetPool | None) -> None:
        """Start later episodes from these real states (None: the task's own resets)."""
        self.reset_pool = pool

    # --- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed if isinstance(seed, int) else list(seed))
        self._calls = 0
        self._maybe_pull()
        everyone = np.ones(self.num_envs, bool)
        self._reset_rows(everyone)
        return self._obs.copy(), {}

    def step(self, actions):
        actions = np.asarray(actions, dtype=np.float32).reshape(self.num_envs, self.spec_.nu)
        if not np.isfinite(actions).all():
            raise ValueError("ImaginedVecEnv: non-finite action from the policy")
        actions = actions.clip(self._low, self._high)
        self._calls += 1
        self._maybe_pull()
        resetting = self._needs_reset.copy()
        with torch.inference_mode():
            nxt = (
                self.model.dynamics.step(
                    torch.as_tensor(self._states, dtype=torch.float32), torch.from_numpy(actions)
                )
                .numpy()
                .astype(np.float64)
            )
        speed = np.abs(nxt[:, self.spec_.nq :])
        ok = np.isfinite(nxt).all(axis=1) & (speed <= self.max_abs_velocity).all(axis=1)
        if self.velocity_bounds is not None:
            ok &= (speed <= self.velocity_bounds).all(axis=1)
        # rows that diverged keep their last good state, so the task functions never see junk
        nxt[~ok] = self._states[~ok]
        obs, reward, terminated = self.fns.transition(self._states, nxt, actions, self._contexts)
        out_of_support = None
        if self.penalty is not None:
            # on the (state, action) the agent chose at, as the authors' penalty
            reward = reward + self.penalty(self._states, actions)
            check = getattr(self.penalty, "out_of_support", None)
            out_of_support = check() if check is not None else None
        bad_out = ~(np.isfinite(obs).all(axis=1) & np.isfinite(reward))
        ok &= ~bad_out
        obs[bad_out] = self._obs[bad_out]
        reward = np.where(ok, reward, 0.0)
        diverged = ~ok & ~resetting
        terminated = np.asarray(terminated, dtype=bool) & ok & ~resetting
        self._t += 1
        truncated = (self._t >= self.time_limit) | diverged
        if out_of_support is not None:
            out_of_support &= ~resetting
            truncated |= out_of_support
            self.counters["out_of_support"] += int(out_of_support.sum())
        self._states, self._obs = nxt, obs
        stepped = ~resetting
        ended = (truncated | terminated) & stepped
        self.counters["imagined_steps"] += int(stepped.sum())
        self.counters["diverged"] += int(diverged.sum())
        self.counters["terminated"] += int(terminated.sum())
        self.counters["episodes"] += int(ended.sum())
        if resetting.any():
            self._reset_rows(resetting)
            reward[resetting] = 0.0
            truncated[resetting] = False
        self._needs_reset = ended
        info: dict[str, Any] = {}
        if diverged.any():
            info = {"diverged": diverged, "_diverged": diverged}
        return self._obs.copy(), reward.astype(np.float32), terminated, truncated, info

    # --- resets ----------------------------------------------------------------------------------
    def _reset_rows(self, rows: np.ndarray) -> None:
        idx = np.flatnonzero(rows)
        sim = self.fns.sim
        from_pool, from_task = idx[:0], idx
        if self.reset_pool is not None:
            real = self._rng.random(len(idx)) >= self.task_reset_fraction
            from_pool, from_task = idx[real], idx[~real]
            pick = self._rng.integers(len(self.reset_pool.states), size=len(from_pool))
            self._states[from_pool] = self.reset_pool.states[pick]
            self._contexts[from_pool] = self.reset_pool.contexts[pick]
            if self.task_contexts:
                for i in from_pool:
                    sim.reset(int(self._rng.integers(2**31 - 1)))
                    self._contexts[i] = sim.context()
        for i in from_task:
            sim.reset(int(self._rng.integers(2**31 - 1)))
            self._states[i], self._contexts[i] = sim.state(), sim.context()
            self._obs[i] = sim.observation()  # as the task's reset returns it
        if len(from_pool):  # the task's observation of a real state (its reward is unused)
            states, zero = self._states[from_pool], np.zeros((len(from_pool), self.spec_.nu))
            obs, _, _ = self.fns.transition(states, states, zero, self._contexts[from_pool])
            self._obs[from_pool] = obs
        self._t[idx] = 0
        self._needs_reset[idx] = False

    def close_extras(self, **kwargs: Any) -> None:
        pass
