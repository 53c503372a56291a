"""Gymnasium environments: the real task (``RealEnv``) and its imagined twin (``ImaginedVecEnv``)."""

from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.envs.real import RealEnv, make_real_env, task_spaces
from mosim_ray.envs.task_functions import TaskFunctions, task_functions

__all__ = [
    "ImaginedVecEnv",
    "RealEnv",
    "ResetPool",
    "TaskFunctions",
    "make_real_env",
    "task_functions",
    "task_spaces",
]
