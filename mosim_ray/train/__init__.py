"""Training of world models (pure torch, no Ray)."""

from mosim_ray.train.trainer import StagedTrainer, TrainConfig, fit_normalizer

__all__ = ["StagedTrainer", "TrainConfig", "fit_normalizer"]
