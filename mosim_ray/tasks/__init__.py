"""Tasks: dm_control suite tasks, Gymnasium MuJoCo environments and generic MuJoCo XML models
behind one interface.

A *task* is a MuJoCo system plus, for dm_control and Gymnasium tasks, the task's observation and
reward (and, for Gymnasium's, termination); its static facts are a ``TaskSpec``. Modules, by job:

* ``spec``: ``TaskSpec`` and the qpos kinds (numpy only: a checkpoint's spec loads without MuJoCo)
* ``registry``: task names, ``get_spec``, ``make_simulator``
* ``simulator``: the ``Simulator`` interface (state, context, step, evaluate)
* ``physics``: dm_control set up headless, and spec facts read from a MuJoCo model
* ``suite``, ``gym``, ``mjcf``: ``SuiteSimulator``, ``GymSimulator`` and ``MjcfSimulator``

Only ``spec`` is imported with the package; every other name loads its module on first use, so
``from mosim_ray.tasks import TaskSpec`` imports neither MuJoCo nor dm_control.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mosim_ray.tasks.spec import FREE_POS, HINGE, HINGE_WRAP, QUAT, SLIDE, TaskSpec

if TYPE_CHECKING:
    from mosim_ray.tasks.gym import GymSimulator
    from mosim_ray.tasks.mjcf import MjcfSimulator
    from mosim_ray.tasks.registry import (
        GYM_PREFIX,
        MJCF_PREFIX,
        SUITE_TASKS,
        UnknownTaskError,
        check_task_name,
        get_spec,
        make_simulator,
        task_names,
    )
    from mosim_ray.tasks.simulator import Simulator
    from mosim_ray.tasks.suite import SuiteSimulator

# public name -> module that defines it, imported on first access
_LAZY = {
    "GYM_PREFIX": "registry",
    "MJCF_PREFIX": "registry",
    "SUITE_TASKS": "registry",
    "UnknownTaskError": "registry",
    "check_task_name": "registry",
    "get_spec": "registry",
    "make_simulator": "registry",
    "task_names": "registry",
    "Simulator": "simulator",
    "SuiteSimulator": "suite",
    "MjcfSimulator": "mjcf",
    "GymSimulator": "gym",
}

__all__ = [
    "FREE_POS",
    "GYM_PREFIX",
    "HINGE",
    "HINGE_WRAP",
    "MJCF_PREFIX",
    "QUAT",
    "SLIDE",
    "SUITE_TASKS",
    "GymSimulator",
    "MjcfSimulator",
    "Simulator",
    "SuiteSimulator",
    "TaskSpec",
    "UnknownTaskError",
    "check_task_name",
    "get_spec",
    "make_simulator",
    "task_names",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mosim_ray.tasks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mosim_ray.tasks.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
