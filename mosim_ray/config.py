"""Configuration: YAML -> frozen dataclasses -> constructor arguments, one way.

``load_sweep("tune_configs/zero_shot_horizon.yaml", smoke=True)`` reads a sweep file, applies its
``smoke`` overlay when asked, and checks every name, so a typo fails before any trial starts.
Dotted keys (``run.time_limit``) address fields inside sections, for overlays and search spaces.
"""

from __future__ import annotations

import copy
import dataclasses
import re
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


SCHEDULES = ("few_shot", "on_policy")
BRANCH_FROM = ("policy", "dataset")


@dataclass(frozen=True)
class MoSimSettings:
    """What ``MoSimSACConfig.mosim(...)`` sets: the schedule, its ratios and the model's training.

    Every ratio a sample-efficiency claim rests on is a field here.
    """

    schedule: str = "few_shot"
    """"few_shot": SAC learns in imagination, real data comes in rounds; "on_policy": the policy
    acts in the real env and also learns from short imagined branches off real states."""
    task: str = "reacher-easy"
    checkpoint: str | None = None
    """starting world model (folder or shipped name; default: the shipped model of ``task``)"""
    data: str | None = None
    """real shards the starting model was trained on: the trainer's starting dataset"""
    # --- model training (both schedules) ---
    model_update_every: int = 100
    """imagined steps (few_shot) or real steps (on_policy) between model updates"""
    model_steps_per_update: int = 1
    """model gradient steps at each model update"""
    model_batch: int = 256
    model_horizon: int = 16
    model_lr: float = 3e-4
    trainer_device: str = "auto"
    """where the trainer trains: "auto" (the GPU Ray gives it when the cluster has one, else the
    CPU), "cpu", "cuda" or "cuda:N" """
    # --- few-shot ---
    imagined_per_round: int = 5000
    """imagined steps between real rounds"""
    real_per_round: int = 1000
    """real steps per round, split into equal episodes over the collectors"""
    collectors: int = 0
    """real collector actors; 0: from the cluster's resources (``actors.placement``)"""
    collect_noise: float = 0.1
    """Gaussian action noise of the collectors (share of the half-range)"""
    imagined_time_limit: int = 100
    task_reset_fraction: float = 0.5
    """share of imagined episodes that start from the task's own initial distribution; the rest
    start from real states of the trainer's dataset. Real states alone hold only as many goals
    (reacher targets) as there are real episodes, and the policy overfits to them."""
    task_contexts: bool = False
    """imagined episodes and branches started from real states take their context (reacher's
    target) from a fresh task reset: real physics, any goal the task can set"""
    reset_states: int = 100_000
    """the newest real states (starting data and every round) imagined episodes start from; also
    the on-policy branches' pool with ``branch_from="dataset"``"""
    # --- on-policy ---
    real_time_limit: int = 1000
    branch_length: int = 1
    """imagined steps per branch from a real replay state"""
    branches_per_real_step: float = 4.0
    branch_batch: int = 256
    """branches are rolled out together in batches of this many"""
    branch_from: str = "policy"
    """where branches start: "policy", the real states the policy has visited (MBPO's choice);
    "dataset", the trainer's newest ``reset_states`` real states: the starting data as well, so
    branches also cover states the young policy has not reached"""
    real_fraction: float = 0.5
    """share of real transitions in each policy-update batch (the rest imagined)"""
    # --- density penalty (imagined steps of both schedules) ---
    density: str | None = None
    """folder of a fitted StateActionDensity (pipelines/fit_density.py); None: no penalty"""
    penalty_scale: float = 1.0
    penalty_c: float = -30.0
    penalty_s: float = 10.0
    penalty_truncate_below: float | None = None
    density_refit_every: int = 0
    """refit the flow to the trainer's whole dataset after every this many real rounds (few_shot)
    or model updates (on_policy), and at the start when ``density`` is None; 0: never (the
    ``density`` fitted beforehand stays)"""
    density_steps: int = 1000
    """gradient steps of each refit"""
    # --- evaluation in the real env ---
    eval_every: int = 1000
    """real steps between evaluations (few_shot: after every round)"""
    eval_episodes: int = 10
    eval_time_limit: int = 1000
    work_dir: str | None = None
    """trainer checkpoints (default: under the algorithm's log dir); a restarted run resumes"""

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        positive = (
            "model_update_every",
            "model_steps_per_update",
            "model_batch",
            "model_horizon",
            "imagined_per_round",
            "real_per_round",
            "imagined_time_limit",
            "real_time_limit",
            "branch_length",
            "branch_batch",
            "reset_states",
            "density_steps",
            "eval_every",
            "eval_episodes",
            "eval_time_limit",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"mosim {name} must be a positive integer, got {value!r}")
        if (
            isinstance(self.collectors, bool)
            or not isinstance(self.collectors, int)
            or (self.collectors < 0)
        ):
            raise ConfigError(f"mosim collectors must be >= 0 (0: auto), got {self.collectors!r}")
        if self.collectors and self.real_per_round % self.collectors:
            raise ConfigError(
                f"mosim real_per_round ({self.real_per_round}) must be a multiple of collectors "
                f"({self.collectors}): each collector runs one episode of equal length"
            )
        if not 0.0 <= self.real_fraction <= 1.0:
            raise ConfigError(f"mosim real_fraction must be in [0, 1], got {self.real_fraction}")
        if (
            isinstance(self.density_refit_every, bool)
            or not isinstance(self.density_refit_every, int)
            or self.density_refit_every < 0
        ):
            raise ConfigError(
                f"mosim density_refit_every must be >= 0 (0: never), got {self.density_refit_every!r}"
            )
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(self.trainer_device)):
            raise ConfigError(
                f"mosim trainer_device must be auto, cpu, cuda or cuda:N, got {self.trainer_device!r}"
            )
        if not isinstance(self.task_contexts, bool):
            raise ConfigError(
                f"mosim task_contexts must be true or false, got {self.task_contexts!r}"
            )
        if not 0.0 <= self.task_reset_fraction <= 1.0:
            raise ConfigError(
                f"mosim task_reset_fraction must be in [0, 1], got {self.task_reset_fraction}"
            )
        if self.branch_from not in BRANCH_FROM:
            raise ConfigError(
                f"mosim branch_from must be one of {BRANCH_FROM}, got {self.branch_from!r}"
            )
        if self.branches_per_real_step < 0:
            raise ConfigError("mosim branches_per_real_step must be >= 0")


@dataclass(frozen=True)
class ScheduleRun:
    """One few-shot or on-policy run (``pipelines/few_shot.py``, ``pipelines/on_policy.py``)."""

    mosim: dict[str, Any] = field(default_factory=dict)
    """``MoSimSettings`` fields (the schedule comes from the sweep kind or the pipeline)"""
    real_steps: int = 5000
    """real-step budget beyond the starting data"""
    num_envs: int = 16
    """envs per env runner: imagined robots (few_shot) or real ones (on_policy)"""
    env_runners: int | None = None
    """None: from the cluster's resources (``actors.placement``)"""
    learning_starts: int = 1000
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    """RLlib config overrides (``algorithm_config``'s keyword form)"""

    def settings(self, schedule: str) -> MoSimSettings:
        return MoSimSettings(**{**self.mosim, "schedule": schedule})


@dataclass(frozen=True)
class ModelRun:
    """One world-model training run judged by its prediction error (``pipelines/train.py``'s
    settings; ``mosim_ray.train.model_sweep.train_and_judge_model`` runs it)."""

    task: str = "reacher-easy"
    data: str | None = None
    """folder of shards (``pipelines/collect.py``); None: the sweep collects a tiny dataset first
    (smoke runs on a fresh clone, which has no data/)"""
    kind: str = "mosim"
    """mosim | structure_free | ensemble | constant (``ModelConfig.kind``)"""
    size: str = "small"
    """small | medium | large (``ModelConfig.size``)"""
    method: str = "auto"
    """the ODE solver (``ModelConfig.method``): auto | symplectic | rk4 | euler | dopri5"""
    substeps: int | None = None
    correctors: int | None = None
    horizon: int = 16
    """training rollout length reached at the end of the curriculum"""
    stages: int | None = None
    """stages to train (None: all of the model's)"""
    joint: bool = False
    minutes: float = 15.0
    """wall-clock training budget"""
    max_updates: int | None = None
    batch_size: int = 256
    lr: float = 1e-3
    val_share: float = 0.1
    """share of the episodes for validation (early stopping, best weights)"""
    test_share: float = 0.1
    """share of the episodes held out for the judgement (never trained or validated on)"""
    eval_horizon: int = 16
    """the judgement: raw-state MSE of open-loop rollouts of this many steps (``mse_h<H>``)"""
    eval_segments: int = 256
    reports: int = 8
    """intermediate judgements during training, evenly over ``minutes`` (for ASHA)"""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("horizon", "eval_horizon", "eval_segments", "batch_size", "reports"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"model {name} must be a positive integer, got {value!r}")
        if self.minutes <= 0:
            raise ConfigError(f"model minutes must be > 0, got {self.minutes}")
        shares = (self.val_share, self.test_share)
        if min(shares) <= 0 or sum(shares) >= 1:
            raise ConfigError(
                f"model val_share and test_share must be > 0 with a sum below 1, got "
                f"{self.val_share} and {self.test_share}"
            )


RUNS = {
    "zero_shot": ZeroShotRun,
    "few_shot": ScheduleRun,
    "on_policy": ScheduleRun,
    "model": ModelRun,
}

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
    """A copy of a run with search-space values set; ``section.x`` sets key x of a dict field
    (``overrides.x`` reaches RLlib overrides, ``mosim.x`` the schedule's settings)."""
    values = dataclasses.asdict(run)
    for key, value in params.items():
        head, _, rest = key.partition(".")
        if rest and isinstance(values.get(head), dict):
            values[head] = {**values[head], rest: value}
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
    config = SweepConfig(
        name=raw.pop("name", path.stem), run_kind=kind, run=run, search_space=space, **raw
    )
    if config.mode not in ("max", "min"):
        raise ConfigError(f"{path}: mode must be max or min, got {config.mode!r}")
    if config.scheduler not in ("fifo", "asha"):
        raise ConfigError(f"{path}: scheduler must be fifo or asha, got {config.scheduler!r}")
    return config


def load_run(path: str | Path, kind: str):
    """A run file (YAML mapping of the run's fields, e.g. ``configs/few_shot.yaml``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such run file: {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return build_run(kind, raw)
