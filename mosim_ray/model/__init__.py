"""MoSim world model and baselines (pure torch, no Ray).

Names load on first use, so ``mosim_ray.model.config`` or ``.penalty`` costs no torch import.
"""

from importlib import import_module

_WHERE = {
    "SIZES": "mosim_ray.model.config",
    "ModelConfig": "mosim_ray.model.config",
    "build_dynamics": "mosim_ray.model.dynamics",
    "CheckpointError": "mosim_ray.model.world_model",
    "WorldModel": "mosim_ray.model.world_model",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'mosim_ray.model' has no attribute {name!r}")
