"""Training of world models (pure torch, no Ray).

Names load on first use, so ``mosim_ray.train.config`` costs no torch import.
"""

from importlib import import_module

_WHERE = {
    "ContinualConfig": "mosim_ray.train.model_trainer",
    "ModelTrainer": "mosim_ray.train.model_trainer",
    "StagedTrainer": "mosim_ray.train.trainer",
    "TrainConfig": "mosim_ray.train.config",
    "fit_normalizer": "mosim_ray.train.trainer",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'mosim_ray.train' has no attribute {name!r}")
