"""RLlib / Tune registration of ``mosim-imagined`` and ``mosim-real``.

``env_config`` stays JSON-able (Tune stores it): the model travels as a checkpoint path or a
``ModelStore`` actor name, never as an object.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.envs.real import make_real_env

IMAGINED = "mosim-imagined"
REAL = "mosim-real"

IMAGINED_KEYS = {
    "task": "task name (default: the model's; another task of the same robot is allowed)",
    "checkpoint": "world-model checkpoint folder or shipped name (pretrained/reacher-easy)",
    "model_store": "name of a ModelStore actor to pull newer weights from (and the model, "
    "when no checkpoint is given)",
    "num_envs": "imagined robots in this env runner (RLlib sets it from num_envs_per_env_runner)",
    "time_limit": "imagined episode length in control steps (default 100)",
    "reset_dataset": "folder of real shards to draw reset states from (default: task resets)",
    "max_abs_velocity": "a predicted |qvel| above this ends the sub-episode (default 1e3)",
    "sync_every": "vector steps between version checks with the model store (default 100)",
    "exact_rewards": "compute obs/reward with MuJoCo even where a vectorized version exists",
    "resets_from_store": "start episodes from the real states the model store publishes",
    "task_reset_fraction": "with real reset states, the share of episodes that start from the "
    "task's own resets instead (default 0)",
    "task_contexts": "episodes started from real states take their context (reacher's target) "
    "from a fresh task reset",
    "density_from_store": "take the density flow (and each refit) from the model store",
    "density": "folder of a fitted StateActionDensity: reward += scale*(sigmoid((log p-c)/s)-1)",
    "penalty_scale": "density penalty scale (default 1.0)",
    "penalty_c": "density penalty centre c (default -30, the authors')",
    "penalty_s": "density penalty width s (default 10, the authors')",
    "penalty_truncate_below": "end an imagined episode where log p falls below this",
}


def make_imagined_env(config: dict[str, Any]) -> ImaginedVecEnv:
    """Env creator for ``mosim-imagined`` (a VectorEnv: use ``vector_entry_point`` mode)."""
    config = dict(config)
    unknown = set(config) - set(IMAGINED_KEYS)
    if unknown:
        known = ", ".join(sorted(IMAGINED_KEYS))
        raise ValueError(f"{IMAGINED}: unknown env_config keys {sorted(unknown)}; known: {known}")
    model, puller, version = _load_model(config)
    pool = None
    if config.get("reset_dataset"):
        pool = ResetPool.from_dataset(RolloutDataset.open(config["reset_dataset"]))
    env = ImaginedVecEnv(
        model,
        penalty=density_penalty(config),
        num_envs=int(config.get("num_envs", 1)),
        time_limit=config.get("time_limit", 100),
        reset_pool=pool,
        max_abs_velocity=float(config.get("max_abs_velocity", 1e3)),
        weights_source=puller,
        sync_every=int(config.get("sync_every", 100)),
        exact_rewards=bool(config.get("exact_rewards", False)),
        task=config.get("task"),
        resets_source=puller.resets if (puller and config.get("resets_from_store")) else None,
        task_reset_fraction=float(config.get("task_reset_fraction", 0.0)),
        penalty_source=penalty_source(config, puller),
        task_contexts=bool(config.get("task_contexts", False)),
    )
    env.model_version = version
    return env


def penalty_source(config: dict[str, Any], puller):
    """With ``density_from_store``: a source of (version, DensityPenalty) for ``ImaginedVecEnv``
    that wraps each flow the store publishes in the ``penalty_*`` keys' penalty; else None."""
    if not (puller and config.get("density_from_store")):
        return None

    def newer(version: int):
        got = puller.density(version)
        return None if got is None else (got[0], density_penalty(config, got[1]))

    return newer


def density_penalty(config: dict[str, Any], density=None):
    """The ``DensityPenalty`` that the ``density`` (or the flow given) and ``penalty_*`` keys
    describe, or None."""
    if density is None and not config.get("density"):
        return None
    from mosim_ray.model.density import DensityPenalty, PenaltyConfig, StateActionDensity

    return DensityPenalty(
        density if density is not None else StateActionDensity.load(config["density"]),
        PenaltyConfig(
            scale=float(config.get("penalty_scale", 1.0)),
            c=float(config.get("penalty_c", -30.0)),
            s=float(config.get("penalty_s", 10.0)),
            truncate_below=config.get("penalty_truncate_below"),
        ),
    )


def _load_model(config: dict[str, Any]):
    from mosim_ray.actors.model_store import StorePuller, model_from_store
    from mosim_ray.model import WorldModel

    puller = StorePuller(config["model_store"]) if config.get("model_store") else None
    if config.get("checkpoint"):
        return WorldModel.load(config["checkpoint"]), puller, 0
    if puller is None:
        raise ValueError(f"{IMAGINED}: env_config needs 'checkpoint' or 'model_store'")
    got = puller.fetch(0)
    if got is None:
        raise ValueError(
            f"{IMAGINED}: model store {config['model_store']!r} holds no model yet and no "
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
