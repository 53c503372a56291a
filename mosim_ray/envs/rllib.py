"""RLlib / Tune registration of ``mosim-imagined`` and ``mosim-real``.

``env_config`` stays JSON-able (Tune stores it): the model travels as a checkpoint path or a
``ModelStore`` actor name, never as an object. ``mosim-imagined``'s keys are the fields of
:class:`ImaginedEnvConfig`; ``mosim-real``'s are ``make_real_env``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from mosim_ray.config import ConfigError, field_docs, from_dict
from mosim_ray.data.reader import RolloutDataset
from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.envs.real import make_real_env
from mosim_ray.model.penalty import PenaltyConfig

IMAGINED = "mosim-imagined"
REAL = "mosim-real"


@dataclass(frozen=True)
class ImaginedEnvConfig:
    """``env_config`` of ``mosim-imagined``."""

    task: str | None = None
    """task name (default: the model's; another task of the same robot is allowed)"""
    checkpoint: str | None = None
    """world-model checkpoint folder or shipped name (pretrained/reacher-easy)"""
    model_store: str | None = None
    """name of a ModelStore actor to pull newer weights from (and the model, when no checkpoint
    is given)"""
    num_envs: int = 1
    """imagined robots in this env runner (RLlib sets it from num_envs_per_env_runner)"""
    time_limit: int = 100
    """imagined episode length in control steps"""
    reset_dataset: str | None = None
    """folder of real shards to draw reset states from (default: the task's own resets)"""
    max_abs_velocity: float = 1e3
    """a predicted |qvel| above this ends the sub-episode"""
    sync_every: int = 100
    """vector steps between version checks with the model store"""
    exact_rewards: bool = False
    """compute obs and reward with MuJoCo even where a vectorized version exists"""
    resets_from_store: bool = False
    """start episodes from the real states the model store publishes"""
    task_reset_fraction: float = 0.0
    """with real reset states, the share of episodes that start from the task's own resets"""
    task_contexts: bool = False
    """episodes started from real states take their context (reacher's target) from a fresh
    task reset"""
    density: str | None = None
    """folder of a fitted StateActionDensity: the reward gets the density penalty"""
    density_from_store: bool = False
    """take the density flow (and each refit) from the model store"""
    penalty: PenaltyConfig = PenaltyConfig()
    """reward += scale * (sigmoid((log p - c) / s) - 1) with a density"""


def imagined_env_config(config: dict[str, Any]) -> ImaginedEnvConfig:
    """The checked config of ``mosim-imagined`` (unknown keys raise with the known ones)."""
    try:
        return from_dict(ImaginedEnvConfig, dict(config), IMAGINED)
    except ConfigError as e:
        raise ValueError(str(e)) from None


def make_imagined_env(config: dict[str, Any]) -> ImaginedVecEnv:
    """Env creator for ``mosim-imagined`` (a VectorEnv: use ``vector_entry_point`` mode)."""
    c = imagined_env_config(config)
    model, puller, version = _load_model(c)
    pool = ResetPool.from_dataset(RolloutDataset.open(c.reset_dataset)) if c.reset_dataset else None
    env = ImaginedVecEnv(
        model,
        penalty=density_penalty(c),
        num_envs=c.num_envs,
        time_limit=c.time_limit,
        reset_pool=pool,
        max_abs_velocity=c.max_abs_velocity,
        weights_source=puller,
        sync_every=c.sync_every,
        exact_rewards=c.exact_rewards,
        task=c.task,
        resets_source=puller.resets if (puller and c.resets_from_store) else None,
        task_reset_fraction=c.task_reset_fraction,
        penalty_source=penalty_source(c, puller),
        task_contexts=c.task_contexts,
    )
    env.model_version = version
    return env


def penalty_source(config: ImaginedEnvConfig, puller):
    """With ``density_from_store``: a source of (version, DensityPenalty) for ``ImaginedVecEnv``
    that wraps each flow the store publishes in the config's penalty; else None."""
    if not (puller and config.density_from_store):
        return None

    def newer(version: int):
        got = puller.density(version)
        return None if got is None else (got[0], density_penalty(config, got[1]))

    return newer


def density_penalty(config: ImaginedEnvConfig, density=None):
    """The ``DensityPenalty`` of the config's ``density`` (or the flow given), or None."""
    if density is None and not config.density:
        return None
    from mosim_ray.model.density import DensityPenalty, StateActionDensity

    flow = density if density is not None else StateActionDensity.load(config.density)
    return DensityPenalty(flow, config.penalty)


def _load_model(config: ImaginedEnvConfig):
    from mosim_ray.envs.store_client import StorePuller, model_from_store
    from mosim_ray.model import WorldModel

    puller = StorePuller(config.model_store) if config.model_store else None
    if config.checkpoint:
        return WorldModel.load(config.checkpoint), puller, 0
    if puller is None:
        raise ValueError(f"{IMAGINED}: env_config needs 'checkpoint' or 'model_store'")
    got = puller.fetch(0)
    if got is None:
        raise ValueError(
            f"{IMAGINED}: model store {config.model_store!r} holds no model yet and no "
            "'checkpoint' was given"
        )
    version, model_config, weights = got
    return model_from_store(model_config, weights), puller, version


def register_envs() -> None:
    """Register both envs with Tune (call in the driver; RLlib ships them to env runners)."""
    from ray.tune.registry import register_env

    register_env(IMAGINED, make_imagined_env)
    register_env(REAL, make_real_env)


def make_env(name: str, config: dict[str, Any]) -> gym.Env | gym.vector.VectorEnv:
    """Build a registered env by name without Ray (evaluation, tests)."""
    creators = {IMAGINED: make_imagined_env, REAL: make_real_env}
    if name not in creators:
        raise ValueError(f"unknown env {name!r}; known: {sorted(creators)}")
    return creators[name](config)


IMAGINED_KEYS = field_docs(ImaginedEnvConfig)
"""Every ``mosim-imagined`` key with its meaning (the README's table)."""
