"""Algorithm presets: RLlib configs (new API stack) with our hyperparameters written out.

``algorithm_config("sac", env, env_config)`` returns an RLlib ``AlgorithmConfig`` ready for
``config.build_algo()``; SAC runs as :class:`FastSAC` (RLlib's losses and networks, our fast data
path: see benchmarks/learner_speed.py and its notes for the measurements).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.sac import SACConfig

from mosim_ray.sac.algorithm import FastSACConfig, single_thread_torch
from mosim_ray.sac.buffer import TRANSITION_BUFFER


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


def apply_overrides(config: AlgorithmConfig, overrides: dict[str, Any]) -> None:
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
    apply_overrides(config, overrides)
    return config


def _vectorize_mode(mode: str) -> str:
    try:
        return gym.VectorizeMode(mode).value
    except ValueError:
        options = [m.value for m in gym.VectorizeMode]
        raise ValueError(f"unknown vectorize_mode {mode!r}; choose from {options}") from None
