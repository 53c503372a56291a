"""``SweepConfig``: a sweep file checked before any trial starts.

``load_sweep("tune_configs/zero_shot_horizon.yaml", smoke=True)`` reads the file, applies its
``smoke`` overlay when asked, builds the base run as the kind's config, and checks every name
and every value of the search space, so a typo fails here rather than in every trial. ``run:``
is the run's settings, or the path of a run file (the same YAML a pipeline's ``--config`` takes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mosim_ray.config import (
    ConfigError,
    defaults,
    field_types,
    from_dict,
    is_section,
    load_yaml,
    overlay,
    replace_dotted,
)
from mosim_ray.runs import get_kind

SEARCH_KINDS = ("grid", "choice", "uniform", "loguniform", "randint")


@dataclass(frozen=True)
class SweepConfig:
    """A Tune sweep over one kind of run."""

    name: str
    run_kind: str
    run: Any
    """the base run (the kind's config dataclass)"""
    search_space: dict[str, dict[str, Any]]
    """dotted run field -> {"grid": [...]} | {"choice": [...]} | {"loguniform": [lo, hi]} ..."""
    metric: str = ""
    """the result to optimise ("": the kind's own, e.g. real_return_mean or mse_h16)"""
    mode: str = ""
    """"max" or "min" ("": the kind's own)"""
    num_samples: int = 1
    scheduler: str = "fifo"
    """"fifo" or "asha" (stops weak trials early; trials report at every evaluation)"""
    grace_period: int = 2
    """ASHA: evaluations a trial gets before it may be stopped"""
    max_concurrent: int = 0
    """0: as many as the cluster's CPUs allow"""
    cpus_per_trial: float = 1.0
    """CPUs of a trial's own process; also its torch threads"""
    gpus_per_trial: float = 0.0
    max_failures: int = 1
    """retries of a failed trial"""


def with_params(run: Any, params: dict[str, Any]) -> Any:
    """``run`` with search-space values set by dotted names (``overrides.gamma`` sets a key of
    the ``overrides`` dict)."""
    return replace_dotted(run, params)


def load_sweep(
    path: str | Path, smoke: bool = False, changes: dict[str, Any] | None = None
) -> SweepConfig:
    """The sweep in ``path``, with its ``smoke`` overlay when asked and dotted ``changes`` last
    (``{"run.task": "reacher-hard"}``)."""
    path = Path(path)
    raw = load_yaml(path)
    smoke_overlay = raw.pop("smoke", {}) or {}
    kind = get_kind(raw.pop("kind", "zero_shot"))
    raw["run"] = run_layers(raw.get("run"), kind.name)
    if smoke:
        space = smoke_overlay.pop("search_space", None)
        raw = overlay(raw, smoke_overlay)
        if space is not None:  # a smoke search space replaces the full one
            raw["search_space"] = space
    raw = overlay(raw, changes or {})
    allowed = {f.name for f in dataclasses.fields(SweepConfig)} - {"run_kind"}
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(allowed)}")
    run = from_dict(kind.config, overlay(defaults(kind.config), raw.pop("run")), f"{path}: run")
    space = raw.pop("search_space", {}) or {}
    for key, spec in space.items():
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SEARCH_KINDS:
            raise ConfigError(
                f"{path}: search_space[{key!r}] must be one of {SEARCH_KINDS} with its values, "
                f"e.g. {{grid: [25, 50]}}, got {spec!r}"
            )
    name = raw.pop("name", path.stem)
    sweep = SweepConfig(name=name, run_kind=kind.name, run=run, search_space=space, **raw)
    sweep = dataclasses.replace(
        sweep, metric=sweep.metric or kind.metric, mode=sweep.mode or kind.mode
    )
    if sweep.mode not in ("max", "min"):
        raise ConfigError(f"{path}: mode must be max or min, got {sweep.mode!r}")
    if sweep.scheduler not in ("fifo", "asha"):
        raise ConfigError(f"{path}: scheduler must be fifo or asha, got {sweep.scheduler!r}")
    check_space(sweep)
    return sweep


def run_layers(run: Any, kind: str) -> dict[str, Any]:
    """A sweep's ``run``: a mapping of settings, the path of a run file (what a pipeline's
    ``--config`` takes), or a list of both applied in order."""
    from mosim_ray.runs.cli import run_values

    layers = run if isinstance(run, list) else [run or {}]
    values: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, str):
            layer = run_values(layer, kind)
        if not isinstance(layer, dict):
            raise ConfigError(f"run: expected a mapping or a run file's path, got {layer!r}")
        values = overlay(values, layer)
    return values


def is_field(cls: type, dotted: str) -> bool:
    """Whether a dotted name reaches a field of a config class (any key below a dict field)."""
    head, _, rest = dotted.partition(".")
    types = field_types(cls)
    if head not in types:
        return False
    if not rest:
        return True
    tp = types[head]
    if is_section(tp):
        return is_field(tp, rest)
    return tp is dict or getattr(tp, "__origin__", None) is dict


def check_space(sweep: SweepConfig) -> None:
    """Every search-space key is a run field and every value (grid and choice values, range
    ends) makes a valid run; the metric is one the kind reports."""
    for key, spec in sweep.search_space.items():
        if not is_field(type(sweep.run), key):
            raise ConfigError(
                f"{sweep.name}: search_space key {key!r} is not a field of {sweep.run_kind} runs"
            )
        for value in next(iter(spec.values())):
            try:
                run = with_params(sweep.run, {key: value})
            except ConfigError as e:
                raise ConfigError(f"{sweep.name}: search_space[{key!r}] = {value!r}: {e}") from None
            metrics = get_kind(sweep.run_kind).metrics
            if metrics is not None and sweep.metric not in metrics(run):
                raise ConfigError(
                    f"{sweep.name}: {sweep.run_kind} trials report {sorted(metrics(run))}, "
                    f"not metric {sweep.metric!r}"
                )
