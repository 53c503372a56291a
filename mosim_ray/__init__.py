"""mosim_ray: Ray-distributed model-based RL around MoSim, a neural motion simulator."""

import os

# No rendering anywhere in the package: the headless backend, before any module imports
# dm_control (which otherwise tries GLFW and warns about a missing display).
os.environ.setdefault("MUJOCO_GL", "disable")

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: `import mosim_ray` stays cheap; torch loads only when the model is asked for.
    if name == "WorldModel":
        from mosim_ray.model.world_model import WorldModel

        return WorldModel
    raise AttributeError(f"module 'mosim_ray' has no attribute {name!r}")
