"""Run kinds: every kind of run the project makes, by name.

    from mosim_ray.runs import get_kind
    kind = get_kind("zero_shot")
    result = kind.run(kind.config(task="reacher-hard"), "runs/zs")

Modules load on first use, so the registry costs nothing to import.
"""

from __future__ import annotations

from importlib import import_module

from mosim_ray.config import ConfigError
from mosim_ray.runs.kind import RunKind

KIND_MODULES = {
    "collect": "mosim_ray.runs.collect",
    "train": "mosim_ray.runs.train_model",
    "evaluate": "mosim_ray.runs.evaluate",
    "benchmark": "mosim_ray.runs.benchmark",
    "fit_density": "mosim_ray.runs.fit_density",
    "zero_shot": "mosim_ray.runs.zero_shot",
    "real_sac": "mosim_ray.runs.real_sac",
    "few_shot": "mosim_ray.runs.few_shot",
    "on_policy": "mosim_ray.runs.on_policy",
}


def kind_names() -> list[str]:
    return list(KIND_MODULES)


def get_kind(name: str) -> RunKind:
    """The run kind called ``name`` (ConfigError naming the known ones otherwise)."""
    if name not in KIND_MODULES:
        raise ConfigError(f"unknown run kind {name!r}; known: {', '.join(KIND_MODULES)}")
    return import_module(KIND_MODULES[name]).KIND


__all__ = ["RunKind", "get_kind", "kind_names"]
