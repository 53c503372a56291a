"""Judging a policy in the real environment, whatever it was trained in.

A separate RLlib ``SingleAgentEnvRunner`` on ``mosim-real`` receives the algorithm's current
RLModule weights and runs whole episodes without exploration. The env runner's own connectors
turn module outputs into actions, so what is judged is exactly the policy RLlib would deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mosim_ray.envs.real import DEFAULT_TIME_LIMIT
from mosim_ray.envs.rllib import REAL, register_envs
from mosim_ray.sac.eval_settings import EVAL_SEED_BASE


@dataclass(frozen=True)
class EvalResult:
    returns: np.ndarray
    """[episodes] undiscounted return of each real episode."""
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        return float(self.returns.std())

    def line(self) -> str:
        return f"real return {self.mean:.1f} ± {self.std:.1f} over {len(self.returns)} episodes"


class RealEvaluator:
    """Runs ``episodes`` real episodes (in parallel, one vector env) of the algorithm's policy."""

    def __init__(
        self,
        algo_config,
        task: str,
        episodes: int = 10,
        time_limit: int = DEFAULT_TIME_LIMIT,
        seed: int = EVAL_SEED_BASE,
    ):
        from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

        if episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {episodes}")
        register_envs()
        config = algo_config.copy(copy_frozen=False)
        config.environment(REAL)
        # environment() merges into the old env_config; the real env must not see imagined keys
        config.env_config = {"task": task, "time_limit": time_limit}
        config.env_runners(
            # a worker_index-0 runner builds no env of its own while remote runners exist
            num_env_runners=0,
            num_envs_per_env_runner=episodes,
            gym_env_vectorize_mode="vector_entry_point",
            explore=False,
        )
        config.debugging(seed=seed)
        self.episodes = episodes
        self.runner = SingleAgentEnvRunner(config=config, worker_index=0)

    def __call__(self, algo) -> EvalResult:
        """Evaluate the current policy of an RLlib ``Algorithm``."""
        self.runner.module.set_state(algo.get_module().get_state(inference_only=True))
        return self.evaluate()

    def evaluate(self) -> EvalResult:
        done = self.runner.sample(num_episodes=self.episodes, explore=False, force_reset=True)
        done = [e for e in done if e.is_done][: self.episodes]
        return EvalResult(
            np.array([e.get_return() for e in done], dtype=np.float64),
            np.array([len(e) for e in done], dtype=np.int64),
        )

    def stop(self) -> None:
        self.runner.stop()
