"""MoSim world model and baselines (pure torch, no Ray)."""

from mosim_ray.model.config import SIZES, ModelConfig
from mosim_ray.model.dynamics import build_dynamics
from mosim_ray.model.world_model import CheckpointError, WorldModel

__all__ = ["SIZES", "CheckpointError", "ModelConfig", "WorldModel", "build_dynamics"]
