"""The RL algorithm registry: RLlib configs (new API stack) with our hyperparameters written out.

``algorithm_config("sac", env, env_config)`` returns an RLlib ``AlgorithmConfig`` ready for
``config.build_algo()``. SAC runs as :class:`FastSAC`, an RLlib ``SAC`` subclass with the same
losses, networks and optimisers but a leaner data path (see benchmarks/learner_speed.py and its
notes for the measurements):

* :class:`TransitionReplayBuffer`, a flat numpy ring buffer with uniform sampling, replaces
  RLlib's episode buffers. Sampling 256 transitions from ``PrioritizedEpisodeReplayBuffer``
  builds 256 ``SingleAgentEpisode`` objects and runs the learner connector over them, which costs
  several times the gradient step itself.
* Each ``training_step`` samples one rollout fragment, then does all the updates it owes (one per
  env step by default) in ONE ``learner_group.update()`` call: a ``K * batch`` array batch split
  into ``K`` minibatches, so RLlib's per-call costs (metrics reduce, weight sync, timers) are paid
  once per fragment instead of once per gradient step.
* :class:`FastSACTorchLearner` takes one backward pass over the summed losses instead of four
  ``retain_graph`` passes (the parameter sets of the four losses are disjoint, so the gradients
  are identical), and Polyak-averages the target critics after EVERY gradient step, as in SAC.

``replay_buffer_config={"type": "PrioritizedEpisodeReplayBuffer", ...}`` (or
``"EpisodeReplayBuffer"``) falls back to RLlib's own ``training_step`` for comparison.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.sac import SAC, SACConfig
from ray.rllib.algorithms.sac.sac_catalog import SACCatalog
from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule
from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import Learner
from ray.rllib.core.models.base import ENCODER_OUT
from ray.rllib.core.models.configs import MLPEncoderConfig
from ray.rllib.core.models.torch.encoder import TorchMLPEncoder
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import (
    ALL_MODULES,
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

__all__ = [
    "ALGORITHMS",
    "FastSAC",
    "FastSACConfig",
    "FastSACTorchLearner",
    "TransitionReplayBuffer",
    "algorithm_config",
    "sac_defaults",
    "single_thread_torch",
]

TRANSITION_BUFFER = "TransitionReplayBuffer"
NUM_GRADIENT_UPDATES = "num_gradient_updates"


# --------------------------------------------------------------------------------------------
# Replay buffer
# --------------------------------------------------------------------------------------------


class TransitionReplayBuffer:
    """Uniform replay over single transitions kept in preallocated numpy ring arrays.

    Storage is allocated on the first ``add`` from the data's shapes and dtypes, so the buffer
    needs no spaces. A 1e6 capacity of 6-d float32 observations is ~50 MB.
    """

    def __init__(self, capacity: int = 1_000_000, seed: int | None = None) -> None:
        self.capacity = int(capacity)
        self._rng = np.random.default_rng(seed)
        self._data: dict[str, np.ndarray] | None = None
        self._next = 0
        self._size = 0
        self._added = 0

    def __len__(self) -> int:
        return self._size

    @staticmethod
    def transitions(episodes: Iterable[Any]) -> dict[str, np.ndarray] | None:
        """(obs, action, reward, next obs, terminated) arrays from RLlib episode chunks.

        ``get_observations()`` of a chunk of length T holds T + 1 observations (the chunk's
        last next observation included), so no transition is lost at chunk boundaries. Truncated
        chunks keep ``terminated = 0``: the target bootstraps from the last observation.
        """
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "nobs", "term")}
        for ep in episodes:
            t = len(ep)
            if t == 0:
                continue
            obs = np.asarray(ep.get_observations())
            cols["obs"].append(obs[:-1])
            cols["nobs"].append(obs[1:])
            cols["act"].append(np.asarray(ep.get_actions()))
            cols["rew"].append(np.asarray(ep.get_rewards(), dtype=np.float32))
            term = np.zeros(t, dtype=np.float32)
            if ep.is_terminated:
                term[-1] = 1.0
            cols["term"].append(term)
        if not cols["obs"]:
            return None
        return {k: np.concatenate(v) for k, v in cols.items()}

    def add(self, episodes: Iterable[Any]) -> int:
        """Stores every transition of ``episodes``; returns how many were added."""
        data = self.transitions(episodes)
        return 0 if data is None else self.add_arrays(data)

    def add_arrays(self, data: dict[str, np.ndarray]) -> int:
        """Stores transitions given as arrays keyed obs, act, rew, nobs, term ([n, ...] each)."""
        added = len(data["rew"])
        if added == 0:
            return 0
        if self._data is None:
            self._data = {
                k: np.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype) for k, v in data.items()
            }
        if added > self.capacity:
            data = {k: v[-self.capacity :] for k, v in data.items()}
        n = len(data["rew"])
        idx = (self._next + np.arange(n)) % self.capacity
        for k, v in data.items():
            self._data[k][idx] = v
        self._next = (self._next + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        self._added += added
        return added

    def sample(self, num_items: int) -> dict[str, np.ndarray]:
        """``num_items`` transitions drawn uniformly with replacement, keyed by RLlib columns."""
        if self._data is None or self._size == 0:
            raise ValueError("cannot sample from an empty TransitionReplayBuffer")
        i = self._rng.integers(0, self._size, size=num_items)
        d = self._data
        return {
            SampleBatch.OBS: d["obs"][i],
            SampleBatch.ACTIONS: d["act"][i],
            SampleBatch.REWARDS: d["rew"][i],
            SampleBatch.NEXT_OBS: d["nobs"][i],
            SampleBatch.TERMINATEDS: d["term"][i],
        }

    def get_metrics(self) -> dict[str, Any]:
        return {"num_transitions": self._size, "num_transitions_added_lifetime": self._added}

    def get_state(self) -> dict[str, Any]:
        data = None if self._data is None else {k: v[: self._size] for k, v in self._data.items()}
        return {"data": data, "next": self._next, "size": self._size, "added": self._added}

    def set_state(self, state: dict[str, Any]) -> None:
        self._data, self._next, self._size = None, state["next"], state["size"]
        self._added = state["added"]
        if state["data"] is not None:
            self._data = {
                k: np.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype)
                for k, v in state["data"].items()
            }
            for k, v in state["data"].items():
                self._data[k][: len(v)] = v


# --------------------------------------------------------------------------------------------
# Critic network
# --------------------------------------------------------------------------------------------


class TorchConcatMLPEncoder(TorchMLPEncoder):
    """An MLP over ``concat(obs, action)``: the critic body of the SAC paper."""

    def _forward(self, inputs: dict, **kwargs) -> dict:
        x = torch.cat([inputs[Columns.OBS], inputs[Columns.ACTIONS]], dim=-1)
        return {ENCODER_OUT: self.net(x)}


@dataclasses.dataclass
class ConcatMLPEncoderConfig(MLPEncoderConfig):
    """MLPEncoderConfig whose ``input_dims`` is obs dim + action dim."""

    def build(self, framework: str = "torch") -> TorchConcatMLPEncoder:
        if framework != "torch":
            raise ValueError("ConcatMLPEncoderConfig is torch-only")
        return TorchConcatMLPEncoder(self)


class ConcatQSACCatalog(SACCatalog):
    """SACCatalog with the SAC-paper critic: ``concat(obs, action) -> fcnet_hiddens -> 1``.

    RLlib 2.60 encodes obs and action in two separate ``fcnet_hiddens`` MLPs and fuses them
    through a 512 -> 256 layer (plus ``fusionnet_hiddens``, 256x256 by default): 265k
    parameters per critic with ``fusionnet_hiddens=[]``, 659k by default, against 67k for the
    usual critic. The critic's forward and backward dominate a SAC update, so this is a ~4x
    arithmetic difference.
    """

    def _build_qf_encoder_continuous(self, framework: str) -> TorchConcatMLPEncoder:
        obs = self._encoder_config
        if not isinstance(obs, MLPEncoderConfig) or len(self.observation_space.shape) != 1:
            return super()._build_qf_encoder_continuous(framework)
        fields = {f.name: getattr(obs, f.name) for f in dataclasses.fields(obs) if f.init}
        fields["input_dims"] = [
            int(self.observation_space.shape[0]) + int(np.prod(self.action_space.shape))
        ]
        self.qf_encoder_config = ConcatMLPEncoderConfig(**fields)
        return self.qf_encoder_config.build(framework=framework)


# --------------------------------------------------------------------------------------------
# Learner
# --------------------------------------------------------------------------------------------


class FastSACTorchLearner(SACTorchLearner):
    """RLlib's SAC torch learner with one backward pass and a target update per gradient step.

    The forward pass and the losses are RLlib's own (``SACTorchLearner``), including the
    Huber critic loss and the ``requires_grad=False`` trick that keeps the actor loss from
    reaching the critics.
    """

    def configure_optimizers_for_module(self, module_id: Any, config: Any = None) -> None:
        super().configure_optimizers_for_module(module_id, config)
        # Same Adam (RLlib's eps=1e-7), as one fused kernel per optimizer instead of a Python
        # loop of ~10 small ops per parameter tensor (torch's CPU default is the loop).
        for _, optim in self.get_optimizers_for_module(module_id):
            for group in optim.param_groups:
                group["fused"] = True
                group["foreach"] = False
            optim.defaults["fused"] = True
            optim.defaults["foreach"] = False

    def apply_gradients(self, gradients_dict: dict) -> None:
        # RLlib checks every gradient tensor for nan/inf with its own isfinite().all() (a
        # Python round trip each, ~2 ms per SAC update); one fused norm check finds the same.
        grads = list(gradients_dict.values())
        if (
            not grads
            or self._lr_scheduler_classes is not None
            or self._grad_scalers is not None
            or not torch.isfinite(torch.stack(torch._foreach_norm(grads))).all()
        ):
            return super().apply_gradients(gradients_dict)
        for pid, grad in gradients_dict.items():
            self._params[pid].grad = grad
        for module_id, optimizer_names in self._module_optimizers.items():
            for optimizer_name in optimizer_names:
                self.get_optimizer(module_id, optimizer_name).step()

    def build(self) -> None:
        super().build()
        self._target_pairs: dict[Any, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}

    def compute_gradients(self, loss_per_module: dict[Any, torch.Tensor], **kwargs) -> dict:
        # critic, twin-critic, actor and alpha losses touch disjoint parameters (the actor loss
        # sees the critics with requires_grad=False, alpha and the targets are detached), so the
        # gradient of their sum equals the four separate gradients of RLlib's four
        # ``backward(retain_graph=True)`` calls, for one graph traversal.
        for optim in self._optimizer_parameters:
            optim.zero_grad(set_to_none=True)
        total = None
        for module_id in set(loss_per_module) - {ALL_MODULES}:
            for optim_name, _ in self.get_optimizers_for_module(module_id):
                loss = self._temp_losses.pop((module_id, optim_name + "_loss"))
                total = loss if total is None else total + loss
        assert not self._temp_losses
        if total is not None:
            total.backward()
        return {pid: p.grad for pid, p in self._params.items() if p.grad is not None}

    def _pairs(self, module_id: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if module_id not in self._target_pairs:
            main, target = [], []
            for main_net, target_net in (
                self.module[module_id].unwrapped().get_target_network_pairs()
            ):
                main += [t for t in main_net.state_dict(keep_vars=True).values()]
                target += [t for t in target_net.state_dict(keep_vars=True).values()]
            self._target_pairs[module_id] = (main, target)
        return self._target_pairs[module_id]

    def _uncompiled_update(self, batch: dict, **kwargs):
        out = super()._uncompiled_update(batch, **kwargs)
        with torch.no_grad():
            for module_id in batch:
                main, target = self._pairs(module_id)
                tau = self.config.get_config_for_module(module_id).tau
                # target <- target + tau * (main - target), the Polyak average of SAC.
                torch._foreach_lerp_(target, main, tau)
        return out

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        # Skip DQNLearner's once-per-update() target sync: _uncompiled_update already did one
        # per gradient step, which is what tau=0.005 assumes.
        Learner.after_gradient_based_update(self, timesteps=timesteps)


# --------------------------------------------------------------------------------------------
# Algorithm
# --------------------------------------------------------------------------------------------


class FastSACConfig(SACConfig):
    """SACConfig whose default replay buffer is :class:`TransitionReplayBuffer`."""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or FastSAC)
        self.replay_buffer_config = {"type": TRANSITION_BUFFER, "capacity": int(1e6)}
        # False keeps RLlib's two-stream critic (see ConcatQSACCatalog); for comparisons only.
        self.concat_q_critic = True

    def validate(self) -> None:
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
        batch_size = self.config.total_train_batch_size
        n = len(data[SampleBatch.REWARDS])
        # Torch tensors (zero-copy) so the Learner skips its numpy conversion pass; the columns
        # below are the ones RLlib's SAC loss reads from an episode batch.
        cols = {k: torch.from_numpy(v) for k, v in data.items()}
        cols["weights"] = torch.ones(n)
        cols["n_step"] = torch.ones(n)
        batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(cols)}, env_steps=n)
        with self.metrics.log_time((TIMERS, LEARNER_UPDATE_TIMER)):
            learner_results = self.learner_group.update(
                batch=batch,
                minibatch_size=batch_size,
                num_epochs=1,
                shuffle_batch_per_epoch=False,
                timesteps={
                    NUM_ENV_STEPS_SAMPLED_LIFETIME: self._sampled_lifetime(),
                    NUM_AGENT_STEPS_SAMPLED_LIFETIME: self.metrics.peek(
                        (ENV_RUNNER_RESULTS, NUM_AGENT_STEPS_SAMPLED_LIFETIME), default={}
                    ),
                },
            )
            # TD errors are logged per sample for prioritized replay; uniform replay ignores them
            # and they must not reach the result dict.
            for res in learner_results:
                for module_results in res.values():
                    module_results.pop(TD_ERROR_KEY, None)
            self.metrics.aggregate(learner_results, key=LEARNER_RESULTS)
            self.metrics.log_value(NUM_GRADIENT_UPDATES, num_updates, reduce="sum")
            self.metrics.log_value(
                NUM_GRADIENT_UPDATES + "_lifetime", num_updates, reduce="lifetime_sum"
            )

        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)):
            self.env_runner_group.sync_weights(
                from_worker_or_learner_group=self.learner_group,
                policies={DEFAULT_MODULE_ID},
                inference_only=True,
            )


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


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def _sac(learning_starts: int = 1000) -> AlgorithmConfig:
    return sac_defaults(FastSACConfig(), learning_starts)


def sac_defaults(config: SACConfig, learning_starts: int = 1000) -> SACConfig:
    """Our SAC hyperparameters (the SAC paper's, for dm_control) written into ``config``."""
    config.training(
        gamma=0.99,
        tau=0.005,
        # 0.2 rather than RLlib's 1.0: dm_control rewards are in [0, 1] per step, so an initial
        # entropy bonus of 1.0 * |A| outweighs the task reward for the first ~10k updates
        # while alpha is tuned down; 0.2 is Haarnoja et al.'s fixed value and close to where
        # auto-tuning settles on these tasks.
        initial_alpha=0.2,
        target_entropy="auto",
        twin_q=True,
        actor_lr=3e-4,
        critic_lr=3e-4,
        alpha_lr=3e-4,
        train_batch_size_per_learner=256,
        # training_intensity = replayed / sampled steps; 256 with batch 256 = 1 update per step.
        training_intensity=256,
        n_step=1,
        num_steps_sampled_before_learning_starts=learning_starts,
        replay_buffer_config={"type": TRANSITION_BUFFER, "capacity": int(1e6)},
    )
    config.rl_module(
        model_config={
            "fcnet_hiddens": [256, 256],
            "fcnet_activation": "relu",
            "head_fcnet_hiddens": [],
            # RLlib's default SAC critic adds a 256x256 "fusion" MLP after the encoder; it
            # triples the critic (659k params) and is not part of SAC.
            "fusionnet_hiddens": [],
        }
    )
    # 4 env steps, then 4 updates in one learner call: per-call overheads are amortised while
    # the behaviour policy is at most 4 updates stale. 16 is 15% faster but was less stable
    # late in training (Pendulum, 3 seeds: 4 of 30 late iterations collapsed, against 1 of 30
    # with 4 or 1; BENCHMARKS.md section 6b): 4 keeps RLlib SAC's learning curve and >100
    # updates/s with 2 threads (120 against 86 for 1 and 138 for 16).
    config.env_runners(rollout_fragment_length=4)
    config.reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=1000)
    return config


def _ppo() -> AlgorithmConfig:
    config = PPOConfig()
    config.training(
        gamma=0.99,
        lambda_=0.95,
        lr=3e-4,
        clip_param=0.2,
        vf_clip_param=10.0,
        entropy_coeff=0.0,
        kl_coeff=0.0,
        train_batch_size_per_learner=4000,
        minibatch_size=128,
        num_epochs=10,
        use_gae=True,
        grad_clip=0.5,
    )
    config.rl_module(
        model_config={
            "fcnet_hiddens": [64, 64],
            "fcnet_activation": "tanh",
            "vf_share_layers": False,
        }
    )
    config.reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=0)
    return config


ALGORITHMS: dict[str, Callable[[], AlgorithmConfig]] = {"sac": _sac, "ppo": _ppo}
"""Model-free algorithms by name; MoSim's schedules are ``mosim_sac.MoSimSACConfig``."""


def _apply_overrides(config: AlgorithmConfig, overrides: dict[str, Any]) -> None:
    """Flat names set a config attribute; ``a.b`` merges key ``b`` into dict attribute ``a``
    (pass those as ``**{"replay_buffer_config.capacity": 10_000}``)."""
    reference = type(config)()
    for name, value in overrides.items():
        head, _, key = name.partition(".")
        if head == "model_config":
            if key:
                config.rl_module(model_config={**config.model_config, key: value})
            else:
                config.rl_module(model_config=value)
            continue
        if not hasattr(reference, head) or head.startswith("_") and head != "_torch_grad_scaler":
            raise ValueError(
                f"unknown override {name!r} for {type(config).__name__}; use an AlgorithmConfig "
                "attribute name (e.g. train_batch_size_per_learner) or 'dict_attr.key'"
            )
        if key:
            current = getattr(config, head)
            if not isinstance(current, dict):
                raise ValueError(f"override {name!r}: {head} is not a dict")
            value = {**copy.deepcopy(current), key: value}
        config.update_from_dict({head: value})


def algorithm_config(
    name: str,
    env: str,
    env_config: dict | None = None,
    *,
    num_env_runners: int = 0,
    num_envs_per_env_runner: int = 1,
    vectorize_mode: str = "sync",
    seed: int | None = 0,
    **overrides: Any,
) -> AlgorithmConfig:
    """An RLlib config (new API stack) for algorithm ``name`` ("sac", "ppo") on ``env``.

    ``env`` is a gymnasium id or a name registered with ``ray.tune.register_env``.
    ``vectorize_mode`` is gymnasium's: "sync", "async" or "vector_entry_point" (the env creator
    then receives ``env_config | {"num_envs": num_envs_per_env_runner}`` and returns a VectorEnv).
    ``overrides`` are applied last: a flat AlgorithmConfig attribute name
    (``train_batch_size_per_learner=128``, ``num_steps_sampled_before_learning_starts=500``,
    ``model_config={...}``) or, for dict attributes, ``"attr.key"``. Unknown names raise
    ``ValueError``. For SAC, ``learning_starts`` is accepted as a shorthand for
    ``num_steps_sampled_before_learning_starts``.
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose from {sorted(ALGORITHMS)}")
    overrides = dict(overrides)
    if "learning_starts" in overrides:
        overrides["num_steps_sampled_before_learning_starts"] = overrides.pop("learning_starts")
    config = ALGORITHMS[name]()
    config.api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
    config.framework("torch")
    config.environment(env, env_config=dict(env_config or {}))
    config.env_runners(
        num_env_runners=num_env_runners,
        num_envs_per_env_runner=num_envs_per_env_runner,
        gym_env_vectorize_mode=_vectorize_mode(vectorize_mode),
    )
    config.learners(num_learners=0)
    config.callbacks(on_environment_created=single_thread_torch)
    config.debugging(seed=seed)
    _apply_overrides(config, overrides)
    return config


def _vectorize_mode(mode: str) -> str:
    try:
        return gym.VectorizeMode(mode).value
    except ValueError:
        options = [m.value for m in gym.VectorizeMode]
        raise ValueError(f"unknown vectorize_mode {mode!r}; choose from {options}") from None
