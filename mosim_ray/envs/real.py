"""The real task as a gymnasium environment: the twin of ``ImaginedVecEnv``.

Both share ``task_spaces`` so that a policy trained in imagination acts here unchanged: same
flattened float32 observation, same action box.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from mosim_ray.tasks import Simulator, TaskSpec, get_spec, make_simulator
from mosim_ray.tasks.spec import SUITE_TIME_LIMIT

DEFAULT_TIME_LIMIT = SUITE_TIME_LIMIT
"""Control steps per real episode: the suite tasks' own limit."""


def task_spaces(spec: TaskSpec) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """(observation space [obs_dim] float32, action space [nu] float32) of a task."""
    low, high = spec.action_bounds
    obs = gym.spaces.Box(-np.inf, np.inf, (spec.obs_dim,), np.float32)
    act = gym.spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    return obs, act


def check_time_limit(time_limit: Any) -> int:
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, np.integer)):
        raise ValueError(
            f"time_limit must be a positive integer (control steps), got {time_limit!r}"
        )
    if time_limit < 1:
        raise ValueError(f"time_limit must be >= 1 control step, got {time_limit}")
    return int(time_limit)


class RealEnv(gym.Env):
    """One real MuJoCo robot of a task: truncated at the time limit, terminated when the task
    says so (a Gymnasium hopper that fell; dm_control tasks never terminate).

    ``info`` is empty on steps (RLlib copies infos every step) unless ``state_in_info``: then
    reset and every step add ``{"state": [nq+nv], "context": [C]}``, which is how on-policy MoSim
    RL gets the physical states its model learns from out of RLlib's env runners. Without it,
    ``state()`` and ``context()`` give them to callers that hold the env.
    """

    metadata = {"render_modes": []}

    def __init__(
        self, task: str, time_limit: int = DEFAULT_TIME_LIMIT, state_in_info: bool = False
    ):
        self.spec_ = get_spec(task)
        if not self.spec_.has_reward:
            raise ValueError(f"{task}: has no reward; RL needs a dm_control or gym: task")
        self.time_limit = check_time_limit(time_limit)
        self.state_in_info = bool(state_in_info)
        self.sim: Simulator = make_simulator(task)
        self.observation_space, self.action_space = task_spaces(self.spec_)
        self._t = 0
        self._started = False
        self._terminated = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # The episode's physics seed comes from the env's generator: seeding once fixes all later
        # episodes, as gymnasium promises.
        self.sim.reset(int(self.np_random.integers(2**31 - 1)))
        self._t = 0
        self._started, self._terminated = True, False
        return self.sim.observation(), self._info()

    def step(self, action):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._t >= self.time_limit or self._terminated:
            why = "terminated" if self._terminated else "time limit reached"
            raise RuntimeError(f"episode is over ({why}): call reset()")
        reward = self.sim.step(action)
        self._t += 1
        self._terminated = self.sim.terminated()
        truncated = self._t >= self.time_limit
        return self.sim.observation(), reward, self._terminated, truncated, self._info()

    def _info(self) -> dict[str, np.ndarray]:
        if not self.state_in_info:
            return {}
        return {"state": self.sim.state(), "context": self.sim.context()}

    def state(self) -> np.ndarray:
        """[nq+nv] float64 physics state."""
        return self.sim.state()

    def context(self) -> np.ndarray:
        """[context_dim] per-episode quantities (reacher's target, activations)."""
        return self.sim.context()


def make_real_env(config: dict[str, Any]) -> gym.Env | gym.vector.VectorEnv:
    """Env creator for ``tune.register_env``: one ``RealEnv``, or with ``num_envs`` (RLlib's
    ``vector_entry_point`` mode) a NEXT_STEP-autoreset ``SyncVectorEnv`` of them."""
    config = dict(config)
    unknown = set(config) - {"task", "time_limit", "num_envs", "state_in_info"}
    if "task" not in config:
        raise ValueError("mosim-real: env_config needs 'task' (e.g. 'reacher-easy')")
    if unknown:
        raise ValueError(f"mosim-real: unknown env_config keys {sorted(unknown)}")
    task, limit = config["task"], config.get("time_limit", DEFAULT_TIME_LIMIT)
    in_info = bool(config.get("state_in_info", False))
    if "num_envs" not in config:
        return RealEnv(task, limit, in_info)
    return gym.vector.SyncVectorEnv(
        [lambda: RealEnv(task, limit, in_info) for _ in range(int(config["num_envs"]))],
        autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP,
    )
