"""Configuration: YAML -> frozen dataclasses -> constructor arguments, one way.

``load_sweep("tune_configs/zero_shot_horizon.yaml", smoke=True)`` reads a sweep file, applies its
``smoke`` overlay when asked, and checks every name, so a typo fails before any trial starts.
Dotted keys (``run.time_limit``) address fields inside sections, for overlays and search spaces.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ZeroShotRun:
    """One zero-shot run (``pipelines/zero_shot.py``'s settings)."""

    task: str = "reacher-easy"
    checkpoint: str | None = None
    algo: str = "sac"
    imagined_steps: int = 20_000
    num_envs: int = 16
    env_runners: int = 0
    time_limit: int = 100
    learning_starts: int = 1000
    eval_every: int = 5000
    eval_episodes: int = 10
    eval_time_limit: int = 1000
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    """RLlib config overrides (``algorithm_config``'s keyword form)."""


RUNS = {"zero_shot": ZeroShotRun}

SEARCH_KINDS = ("grid", "choice", "uniform", "loguniform", "randint")


@dataclass(frozen=True)
class SweepConfig:
    """A Tune sweep over one kind of run."""

    name: str
    run_kind: str
    run: Any
    """The base run (a frozen dataclass of ``RUNS[run_kind]``)."""
    search_space: dict[str, dict[str, Any]]
    """Dotted run field -> {"grid": [...]} | {"choice": [...]} | {"loguniform": [lo, hi]} ..."""
    metric: str = "real_return_mean"
    mode: str = "max"
    num_samples: int = 1
    scheduler: str = "fifo"
    """"fifo" or "asha" (stops weak trials early; trials report at every evaluation)."""
    grace_period: int = 2
    """ASHA: evaluations a trial gets before it may be stopped."""
    max_concurrent: int = 0
    """0: as many as the cluster's CPUs allow."""
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_failures: int = 1
    """Retries of a failed trial (from its last checkpoint)."""


def _check_keys(section: str, given: dict, allowed: set[str]) -> None:
    unknown = set(given) - allowed
    if unknown:
        raise ConfigError(f"{section}: unknown keys {sorted(unknown)}; known: {sorted(allowed)}")


def set_dotted(tree: dict, key: str, value: Any) -> None:
    """``set_dotted(d, "run.time_limit", 50)`` sets ``d["run"]["time_limit"]``."""
    *parents, last = key.split(".")
    node = tree
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{key}: {p} is not a section")
    node[last] = value


def overlay(base: dict, over: dict) -> dict:
    """A copy of ``base`` with ``over`` merged in (nested dicts merge; dotted keys allowed)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if "." in key:
            set_dotted(out, key, copy.deepcopy(value))
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and key != "search_space":
            out[key] = overlay(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build_run(kind: str, values: dict[str, Any]):
    if kind not in RUNS:
        raise ConfigError(f"unknown run kind {kind!r}; known: {sorted(RUNS)}")
    cls = RUNS[kind]
    _check_keys(f"run ({kind})", values, {f.name for f in dataclasses.fields(cls)})
    return cls(**values)


def with_params(run, params: dict[str, Any]):
    """A copy of a run with search-space values set (``overrides.x`` reaches RLlib overrides)."""
    values = dataclasses.asdict(run)
    for key, value in params.items():
        head, _, rest = key.partition(".")
        if head == "overrides" and rest:
            values["overrides"] = {**values["overrides"], rest: value}
        else:
            values[key] = value
    return type(run)(**values)


def load_sweep(path: str | Path, smoke: bool = False) -> SweepConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such sweep file: {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    smoke_overlay = raw.pop("smoke", {}) or {}
    if smoke:
        raw = overlay(raw, smoke_overlay)
    allowed = {f.name for f in dataclasses.fields(SweepConfig)} - {"run_kind"} | {"kind"}
    _check_keys(str(path), raw, allowed)
    kind = raw.pop("kind", "zero_shot")
    run = build_run(kind, raw.pop("run", {}) or {})
    space = raw.pop("search_space", {}) or {}
    fields = {f.name for f in dataclasses.fields(run)}
    for key, spec in space.items():
        head = key.split(".")[0]
        if head not in fields:
            raise ConfigError(f"{path}: search_space key {key!r} is not a field of {kind} runs")
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SEARCH_KINDS:
            raise ConfigError(
                f"{path}: search_space[{key!r}] must be one of {SEARCH_KINDS} with its values, "
                f"e.g. {{grid: [25, 50]}}, got {spec!r}"
            )
    config = SweepConfig(name=raw.pop("name", path.stem), run_kind=kind, run=run,
                         search_space=space, **raw)  # fmt: skip
    if config.mode not in ("max", "min"):
        raise ConfigError(f"{path}: mode must be max or min, got {config.mode!r}")
    if config.scheduler not in ("fifo", "asha"):
        raise ConfigError(f"{path}: scheduler must be fifo or asha, got {config.scheduler!r}")
    return config
