"""The few-shot schedule: SAC learns in imagination; real data comes in rounds.

The env runners step ``mosim-imagined`` (R runners x N imagined robots); every
``trainer.update_every`` imagined steps the trainer makes a model update; after every
``few_shot.imagined_per_round`` imagined steps ``PolicyCollector`` actors run the current policy
for ``few_shot.real_per_round`` real steps in parallel, the trainer ingests them (by episode id: a
retried call never counts twice) and the store publishes them as reset states.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import ray
from ray.rllib.utils.metrics import REPLAY_BUFFER_ADD_DATA_TIMER, TIMERS

from mosim_ray.actors.collector import PolicyCollector
from mosim_ray.envs.rllib import IMAGINED
from mosim_ray.schedules.settings import MoSimSettings, imagined_penalty_keys

if TYPE_CHECKING:
    from mosim_ray.schedules.algorithm import MoSimSAC

NEW_EPISODE_IDS = 1_000_000
"""Ids of few-shot policy episodes start here, clear of the starting dataset's ids."""


class FewShot:
    """The few-shot schedule inside ``MoSimSAC`` (see the module docstring)."""

    def __init__(self, settings: MoSimSettings):
        self.s = settings
        if settings.data is None:
            raise ValueError("few_shot needs mosim(data=...): the real shards behind the model")
        self.collectors: list[Any] = []

    def configure(self, config: Any, store: str) -> None:
        """The env runners' env: imagined robots pulling weights and resets from ``store``."""
        s = self.s
        per_runner = max(1, config.num_envs_per_env_runner)
        env_config = {
            "model_store": store,
            "task": s.task,
            "time_limit": s.few_shot.imagined_time_limit,
            "resets_from_store": True,
            "task_reset_fraction": s.few_shot.task_reset_fraction,
            "task_contexts": s.task_contexts,
            "sync_every": max(1, s.trainer.update_every // per_runner),
            **imagined_penalty_keys(s.penalty),
        }
        config.environment(IMAGINED, env_config=env_config)

    def setup(self, algo: MoSimSAC) -> None:
        f = self.s.few_shot
        self.collectors = [
            PolicyCollector.options(**algo.placement.collector_options).remote(
                self.s.task, f.collect_noise, algo.seed
            )
            for _ in range(algo.placement.collectors)
        ]
        self.next_round = f.imagined_per_round
        algo.model.publish_resets(self.s.reset_states)
        algo.wait_placed([c.node_id.remote() for c in self.collectors], "collectors")

    def step(self, algo: MoSimSAC) -> None:
        t = time.perf_counter()
        episodes = algo._sample_env_runners()
        with algo.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            new_steps = algo.local_replay_buffer.add(finite_only(episodes, algo.counts))
        algo.counts.imagined_steps = algo._sampled_lifetime()
        algo.seconds.imagined_steps += time.perf_counter() - t
        algo.policy_updates(new_steps, algo.local_replay_buffer.sample)
        algo.model_updates(algo.counts.imagined_steps)
        if algo.counts.imagined_steps >= self.next_round:
            self.real_round(algo)
            self.next_round += self.s.few_shot.imagined_per_round
            algo.evaluate()

    def real_round(self, algo: MoSimSAC) -> None:
        """The current policy for ``real_per_round`` real steps on the collectors."""
        t = time.perf_counter()
        n = len(self.collectors)
        steps = self.s.few_shot.real_per_round // n
        base = NEW_EPISODE_IDS + algo.counts.rounds * n
        module = algo.get_module()
        refs = [c.collect.remote(module, [base + i], steps) for i, c in enumerate(self.collectors)]
        episodes = [ep for r in ray.get(refs) for ep in r]
        new = ray.get(algo.model.ingest(episodes, algo.counts.real_steps))
        algo.model.publish_resets(self.s.reset_states)
        algo.counts.rounds += 1
        algo.counts.real_episodes += new
        algo.counts.real_steps += new * steps
        algo.seconds.real_collection += time.perf_counter() - t
        every = self.s.penalty.refit_every
        if every and algo.counts.rounds % every == 0:
            algo.refit_density()

    def ready_to_train(self, algo: MoSimSAC) -> bool:
        return True  # the starting data is there from the start

    def after_model_updates(self, algo: MoSimSAC, before: int) -> None:
        """Density refits follow real rounds here, not model updates."""

    def after_confirm(self, algo: MoSimSAC) -> None:
        """The env runners pull the released model themselves."""

    def finish(self, algo: MoSimSAC) -> None:
        """Every real round went to the trainer as it came: nothing is left to send."""

    def before_save(self, algo: MoSimSAC) -> None:
        """Nothing is held back from the trainer between rounds."""

    def get_state(self) -> dict[str, Any]:
        return {"next_round": self.next_round}

    def set_state(self, algo: MoSimSAC, state: dict[str, Any]) -> None:
        self.next_round = state["next_round"]

    def runner_versions(self, algo: MoSimSAC) -> list[int]:
        """The model version each imagined env runner steps with now."""

        def version(runner) -> int:
            env = getattr(runner, "env", None)
            env = getattr(env, "unwrapped", env)
            return int(getattr(env, "model_version", -1))

        local = algo.config.num_env_runners == 0  # else the local runner holds no env
        return [
            int(v)
            for v in algo.env_runner_group.foreach_env_runner(version, local_env_runner=local)
        ]


def finite_only(episodes: list[Any], counts) -> list[Any]:
    """Drops episode chunks holding a non-finite observation or reward (the imagined env guards
    against them already; this keeps the learner safe whatever the env)."""
    keep = []
    for ep in episodes:
        if len(ep) and not (
            np.isfinite(np.asarray(ep.get_observations(), np.float64)).all()
            and np.isfinite(np.asarray(ep.get_rewards(), np.float64)).all()
        ):
            counts.nonfinite_dropped += len(ep)
            continue
        keep.append(ep)
    return keep
