"""``FastSAC``: RLlib SAC with :class:`TransitionReplayBuffer` and K updates per learner call.

Each ``training_step`` samples one rollout fragment, then does all the updates it owes (one per
env step by default) in ONE learner call: ``FastSACTorchLearner.update_from_arrays`` runs ``K``
gradient steps on consecutive slices of a ``K * batch`` array batch, so RLlib's per-call costs
(metrics reduce, weight sync, timers) are paid once per fragment instead of once per gradient
step, and its per-minibatch batch objects not at all. With remote learners the same batch goes
through ``learner_group.update``. ``replay_buffer_config={"type": "PrioritizedEpisodeReplayBuffer",
...}`` (or ``"EpisodeReplayBuffer"``) falls back to RLlib's own ``training_step`` for comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.sac import SAC, SACConfig
from ray.rllib.algorithms.sac.sac_catalog import SACCatalog
from ray.rllib.algorithms.sac.sac_learner import QF_MEAN_KEY
from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    ENV_RUNNER_SAMPLING_TIMER,
    LEARNER_RESULTS,
    LEARNER_UPDATE_TIMER,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    REPLAY_BUFFER_ADD_DATA_TIMER,
    REPLAY_BUFFER_SAMPLE_TIMER,
    SYNCH_WORKER_WEIGHTS_TIMER,
    TD_ERROR_KEY,
    TIMERS,
)

from mosim_ray.sac.buffer import TRANSITION_BUFFER, TransitionReplayBuffer
from mosim_ray.sac.critic import ConcatQSACCatalog
from mosim_ray.sac.forward import check_network_dtype
from mosim_ray.sac.learner import FastSACTorchLearner
from mosim_ray.sac.losses import check_critic_loss, check_target_bounds

NUM_GRADIENT_UPDATES = "num_gradient_updates"


class FastSACConfig(SACConfig):
    """SACConfig whose default replay buffer is :class:`TransitionReplayBuffer`."""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or FastSAC)
        self.replay_buffer_config = {"type": TRANSITION_BUFFER, "capacity": int(1e6)}
        # False keeps RLlib's two-stream critic (see ConcatQSACCatalog); for comparisons only.
        self.concat_q_critic = True
        # "huber" (RLlib's, delta 1) or "mse" (the squared TD error of the SAC paper and
        # pytorch_sac); continuous actions only (losses.sac_losses).
        self.critic_loss = "huber"
        # [low, high]: the critic's Bellman target clipped there (losses.sac_losses); None: not.
        self.critic_target_bounds = None
        # "float32" or "bfloat16": the update's MLP matrix products under CPU autocast
        # (forward.LeanSACForward); acting stays float32.
        self.network_dtype = "float32"

    def validate(self) -> None:
        check_critic_loss(self.critic_loss)
        check_target_bounds(self.critic_target_bounds)
        check_network_dtype(self.network_dtype)
        if self.network_dtype != "float32" and self.num_learners > 1:
            raise ValueError(
                "network_dtype bfloat16 runs on the local learner only (num_learners <= 1)"
            )
        # SACConfig.validate only knows RLlib's episode buffers by name.
        rb = self.replay_buffer_config
        if rb.get("type") == TRANSITION_BUFFER:
            self.replay_buffer_config = {**rb, "type": "EpisodeReplayBuffer"}
            try:
                super().validate()
            finally:
                self.replay_buffer_config = rb
        else:
            super().validate()

    def get_default_learner_class(self) -> type:
        return FastSACTorchLearner

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        catalog = ConcatQSACCatalog if self.concat_q_critic else SACCatalog
        return RLModuleSpec(module_class=DefaultSACTorchRLModule, catalog_class=catalog)

    @property
    def updates_per_env_step(self) -> float:
        """Gradient updates per sampled env step: ``training_intensity / batch`` (RLlib's
        definition of training_intensity: replayed steps per sampled step); 1.0 if unset."""
        if not self.training_intensity:
            return 1.0
        return float(self.training_intensity) / self.total_train_batch_size


class FastSAC(SAC):
    """RLlib SAC with :class:`TransitionReplayBuffer` and K updates per learner call."""

    last_q_mean: float = float("nan")
    """the critic's mean Q on the last update's batch (NaN before the first update)"""

    @classmethod
    def get_default_config(cls) -> FastSACConfig:
        return FastSACConfig()

    def _create_local_replay_buffer_if_necessary(self, config: Any) -> Any:
        rb = config.get("replay_buffer_config") or {}
        if rb.get("type") == TRANSITION_BUFFER:
            seed = config.get("seed")
            return TransitionReplayBuffer(rb.get("capacity", int(1e6)), seed=seed)
        return super()._create_local_replay_buffer_if_necessary(config)

    def training_step(self) -> None:
        if not isinstance(self.local_replay_buffer, TransitionReplayBuffer):
            return super().training_step()
        episodes = self._sample_env_runners()
        with self.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            new_steps = self.local_replay_buffer.add(episodes)
        num_updates = self._owed_updates(new_steps * self.config.updates_per_env_step)
        if num_updates:
            with self.metrics.log_time((TIMERS, REPLAY_BUFFER_SAMPLE_TIMER)):
                n = num_updates * self.config.total_train_batch_size
                data = self.local_replay_buffer.sample(n)
            self._learn(data, num_updates)

    # The pieces of ``training_step``, for subclasses with other data flows (MoSimSAC).
    def _sample_env_runners(self) -> list[Any]:
        """One rollout fragment from every env runner (episode chunks); metrics aggregated."""
        with self.metrics.log_time((TIMERS, ENV_RUNNER_SAMPLING_TIMER)):
            episodes, env_runner_results = synchronous_parallel_sample(
                worker_set=self.env_runner_group,
                concat=True,
                sample_timeout_s=self.config.sample_timeout_s,
                _uses_new_env_runners=True,
                _return_metrics=True,
            )
        self.metrics.aggregate(env_runner_results, key=ENV_RUNNER_RESULTS)
        return episodes

    def _sampled_lifetime(self) -> int:
        return int(
            self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        )

    def _owed_updates(self, credit: float) -> int:
        """Whole gradient updates owed after adding ``credit``; fractions carry over."""
        if not hasattr(self, "_update_credit"):
            self._update_credit = 0.0
        if self._sampled_lifetime() < self.config.num_steps_sampled_before_learning_starts:
            return 0
        self._update_credit += credit
        num_updates = int(self._update_credit)
        self._update_credit -= num_updates
        return num_updates

    def _learn(self, data: dict[str, np.ndarray], num_updates: int) -> None:
        """``num_updates`` gradient steps on ``data`` (``num_updates * batch`` transitions) in one
        learner call, then the new weights to the env runners."""
        timesteps = {
            NUM_ENV_STEPS_SAMPLED_LIFETIME: self._sampled_lifetime(),
            NUM_AGENT_STEPS_SAMPLED_LIFETIME: self.metrics.peek(
                (ENV_RUNNER_RESULTS, NUM_AGENT_STEPS_SAMPLED_LIFETIME), default={}
            ),
        }
        batch_size = self.config.total_train_batch_size
        learner = self._local_learner()
        with self.metrics.log_time((TIMERS, LEARNER_UPDATE_TIMER)):
            if learner is not None:
                learner_results = [
                    learner.update_from_arrays(data, minibatch_size=batch_size, timesteps=timesteps)
                ]
            else:
                learner_results = self._update_learner_group(data, batch_size, timesteps)
            # TD errors are logged per sample for prioritized replay; uniform replay ignores them
            # and they must not reach the result dict.
            for res in learner_results:
                for module_results in res.values():
                    module_results.pop(TD_ERROR_KEY, None)
            self.metrics.aggregate(learner_results, key=LEARNER_RESULTS)
            q_key = (LEARNER_RESULTS, DEFAULT_MODULE_ID, QF_MEAN_KEY)
            self.last_q_mean = float(self.metrics.peek(q_key, default=self.last_q_mean))
            self.metrics.log_value(NUM_GRADIENT_UPDATES, num_updates, reduce="sum")
            self.metrics.log_value(
                NUM_GRADIENT_UPDATES + "_lifetime", num_updates, reduce="lifetime_sum"
            )
        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)):
            self._sync_weights()

    def _local_learner(self) -> FastSACTorchLearner | None:
        """The learner in this process, when it is ours; None with remote learners."""
        group = self.learner_group
        learner = getattr(group, "_learner", None) if group.is_local else None
        return learner if isinstance(learner, FastSACTorchLearner) else None

    def _update_learner_group(
        self, data: dict[str, np.ndarray], batch_size: int, timesteps: dict[str, Any]
    ) -> list[dict]:
        """The same gradient steps through ``learner_group.update`` (remote learners)."""
        n = len(data[SampleBatch.REWARDS])
        cols = {k: torch.from_numpy(v) for k, v in data.items()}
        # the columns RLlib's own SAC loss reads besides the transitions
        cols["weights"] = torch.ones(n)
        cols["n_step"] = torch.ones(n)
        batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(cols)}, env_steps=n)
        return self.learner_group.update(
            batch=batch,
            minibatch_size=batch_size,
            num_epochs=1,
            shuffle_batch_per_epoch=False,
            timesteps=timesteps,
        )

    def _sync_weights(self) -> None:
        """The policy's new weights to the env runners.

        With no remote env runner, the local one samples in this process: its policy's
        parameters are overwritten in place from the learner's (one ``_foreach_copy_``).
        RLlib's ``sync_weights`` would first copy them to numpy and into the object store.
        """
        pairs = self._weight_pairs()
        if pairs is None:
            self.env_runner_group.sync_weights(
                from_worker_or_learner_group=self.learner_group,
                policies={DEFAULT_MODULE_ID},
                inference_only=True,
            )
            return
        with torch.no_grad():
            torch._foreach_copy_(*pairs)
        self.env_runner._weights_seq_no = self.learner_group._learner._weights_seq_no

    def _weight_pairs(self) -> tuple[list, list] | None:
        """(local env runner tensors, learner tensors) of the policy's inference state, or None
        where an in-place copy cannot serve (remote learners or env runners, other devices)."""
        runner, group = self.env_runner, self.learner_group
        if not group.is_local or runner is None or self.env_runner_group.num_remote_workers():
            return None
        learner = getattr(group, "_learner", None)
        if learner is None or getattr(runner, "module", None) is None:
            return None
        if DEFAULT_MODULE_ID not in learner.module:
            return None
        source = learner.module[DEFAULT_MODULE_ID].unwrapped()
        target = runner.module.unwrapped()
        cached = getattr(self, "_weight_pairs_cache", None)
        if cached is None or cached[0] is not source or cached[1] is not target:
            src = source.state_dict(keep_vars=True)
            dst = target.state_dict(keep_vars=True)
            names = list(source.get_state(inference_only=True))
            pairs = None
            if all(k in dst and dst[k].device == src[k].device for k in names):
                pairs = ([dst[k] for k in names], [src[k] for k in names])
            cached = (source, target, pairs)
            self._weight_pairs_cache = cached
        return cached[2]


# --------------------------------------------------------------------------------------------
# Torch threads in env runners
# --------------------------------------------------------------------------------------------


def single_thread_torch(*, env_runner: Any = None, **kwargs: Any) -> None:
    """``on_environment_created`` callback: 1 torch thread in every remote env runner.

    A remote env runner's policy forward is tiny; torch's default of one thread per core
    makes every runner fight the learner for the same 2 cores (30-100x slowdowns measured).
    The local env runner (worker_index 0) lives in the driver, where it runs in turn with the
    local learner, so the driver's own setting is left alone.
    """
    if env_runner is None or getattr(env_runner, "worker_index", 0) > 0:
        torch.set_num_threads(1)
