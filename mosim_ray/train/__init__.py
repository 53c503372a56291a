"""Training of world models (pure torch, no Ray)."""

from mosim_ray.train.model_trainer import ContinualConfig, ModelTrainer
from mosim_ray.train.trainer import StagedTrainer, TrainConfig, fit_normalizer

__all__ = ["ContinualConfig", "ModelTrainer", "StagedTrainer", "TrainConfig", "fit_normalizer"]
