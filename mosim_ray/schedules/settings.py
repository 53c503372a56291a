"""``MoSimSettings``: a schedule and every ratio a sample-efficiency claim rests on, in sections.

``MoSimSACConfig().mosim(schedule="on_policy", task="cheetah-run", on_policy={"branch_length":
20})`` sets them; ``trainer``, ``few_shot``, ``on_policy``, ``penalty`` and ``eval`` are sections.
Every value is checked when the settings are made, before any actor starts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mosim_ray.config import ConfigError
from mosim_ray.model.penalty import PenaltyConfig
from mosim_ray.sac.eval_settings import EvalSettings

SCHEDULES = ("few_shot", "on_policy")
BRANCH_FROM = ("policy", "dataset")


def check_positive(section: object, names: tuple[str, ...]) -> None:
    """Each named field of ``section`` is a positive integer, else ConfigError."""
    for name in names:
        value = getattr(section, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class TrainerSettings:
    """How the world model keeps learning (the ``ModelTrainer`` actor)."""

    update_every: int = 100
    """imagined steps (few_shot) or real steps (on_policy) between model updates"""
    steps_per_update: int = 1
    """model gradient steps at each model update"""
    batch: int = 256
    """segments per model gradient step"""
    horizon: int = 16
    """rollout length of the model's training loss"""
    lr: float = 3e-4
    device: str = "auto"
    """where the trainer trains: "auto" (the GPU Ray gives it when the cluster has one, else the
    CPU), "cpu", "cuda" or "cuda:N" """
    overlap: bool = True
    """the trainer trains while the learner updates the policy (both cores busy): an update's
    weights reach the imagined steps once the next update is due; false: the learner waits for
    every update"""
    compile: bool = False
    """torch.compile the model's step for the trainer's updates (the same updates to float
    rounding; ``model/compiled.py``): a compile of 10-120 s at the first update, kept on disk
    for the runs after it"""

    def __post_init__(self) -> None:
        check_positive(self, ("update_every", "steps_per_update", "batch", "horizon"))
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(self.device)):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


@dataclass(frozen=True)
class FewShotSettings:
    """The few-shot schedule: SAC learns in imagination, real data comes in rounds."""

    imagined_per_round: int = 5000
    """imagined steps between real rounds"""
    real_per_round: int = 1000
    """real steps per round, split into equal episodes over the collectors"""
    collectors: int = 0
    """real collector actors; 0: from the cluster's resources (``actors.placement``)"""
    collect_noise: float = 0.1
    """Gaussian action noise of the collectors (share of the half-range)"""
    imagined_time_limit: int = 100
    """imagined episode length in control steps"""
    task_reset_fraction: float = 0.5
    """share of imagined episodes that start from the task's own initial distribution; the rest
    start from real states of the trainer's dataset. Real states alone hold only as many goals
    (reacher targets) as there are real episodes, and the policy overfits to them."""

    def __post_init__(self) -> None:
        check_positive(self, ("imagined_per_round", "real_per_round", "imagined_time_limit"))
        c = self.collectors
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ConfigError(f"collectors must be >= 0 (0: auto), got {c!r}")
        if c and self.real_per_round % c:
            raise ConfigError(
                f"real_per_round ({self.real_per_round}) must be a multiple of collectors "
                f"({c}): each collector runs one episode of equal length"
            )
        check_share("task_reset_fraction", self.task_reset_fraction)


@dataclass(frozen=True)
class OnPolicySettings:
    """The on-policy schedule: the policy acts in the real env and also learns from imagined
    branches off real states (MBPO)."""

    real_time_limit: int = 1000
    """real episode length in control steps"""
    branch_length: int = 1
    """imagined steps per branch from a real state"""
    branches_per_real_step: float = 4.0
    branch_batch: int = 256
    """branches are rolled out together in batches of this many"""
    branch_from: str = "policy"
    """where branches start: "policy", the real states the policy has visited (MBPO's choice);
    "dataset", the trainer's newest ``reset_states`` real states: the starting data as well, so
    branches also cover states the young policy has not reached"""
    real_fraction: float = 0.5
    """share of real transitions in each policy-update batch (the rest imagined)"""
    preload_real: bool = False
    """the starting data's transitions go into the real replay at the start, observation and
    reward computed by this task's own functions (the model-free control's same real data)"""
    relabel_fraction: float = 0.0
    """share of each batch's real part replayed under a fresh goal (a real transition scored by
    the task's reward with a target drawn from its resets): the model-free control's match of
    ``task_contexts`` in imagination"""
    velocity_margin: float | None = None
    """a branch stops (its later steps are not kept) at a predicted state where any joint moves
    faster than this multiple of that joint's largest speed among the real states branches
    start from: the model's extrapolation past its data, which otherwise enters the replay as
    fast, high-reward transitions; None: only non-finite predictions and speeds above 1,000
    stop a branch"""

    def __post_init__(self) -> None:
        check_positive(self, ("real_time_limit", "branch_length", "branch_batch"))
        if self.velocity_margin is not None and not self.velocity_margin > 0:
            raise ConfigError(f"velocity_margin must be > 0 or null, got {self.velocity_margin}")
        if self.branch_from not in BRANCH_FROM:
            raise ConfigError(f"branch_from must be one of {BRANCH_FROM}, got {self.branch_from!r}")
        if self.branches_per_real_step < 0:
            raise ConfigError("branches_per_real_step must be >= 0")
        check_share("real_fraction", self.real_fraction)
        check_share("relabel_fraction", self.relabel_fraction)


@dataclass(frozen=True)
class PenaltySettings(PenaltyConfig):
    """The density penalty on imagined rewards: ``scale * (sigmoid((log p - c) / s) - 1)``."""

    density: str | None = None
    """folder of a fitted StateActionDensity (pipelines/fit_density.py); None: no penalty"""
    refit_every: int = 0
    """refit the flow to the trainer's whole dataset after every this many real rounds
    (few_shot) or model updates (on_policy), and at the start when ``density`` is None; 0: never
    (the ``density`` fitted beforehand stays)"""
    refit_steps: int = 1000
    """gradient steps of each refit"""

    def __post_init__(self) -> None:
        check_positive(self, ("refit_steps",))
        if self.s <= 0 or self.scale < 0:
            raise ConfigError(
                f"penalty needs s > 0 and scale >= 0, got s={self.s}, scale={self.scale}"
            )
        r = self.refit_every
        if isinstance(r, bool) or not isinstance(r, int) or r < 0:
            raise ConfigError(f"refit_every must be >= 0 (0: never), got {r!r}")

    @property
    def on(self) -> bool:
        return bool(self.density or self.refit_every)

    def shape(self) -> PenaltyConfig:
        """The penalty function's own settings."""
        return PenaltyConfig(**{f.name: getattr(self, f.name) for f in fields(PenaltyConfig)})


@dataclass(frozen=True)
class MoSimSettings:
    """What ``MoSimSACConfig.mosim(...)`` sets: the schedule, its ratios and the model's training."""

    schedule: str = "few_shot"
    """"few_shot": SAC learns in imagination, real data comes in rounds; "on_policy": the policy
    acts in the real env and also learns from short imagined branches off real states"""
    task: str = "reacher-easy"
    """dm_control task"""
    checkpoint: str | None = None
    """starting world model (folder or shipped name; default: the shipped model of the task's
    robot)"""
    data: str | None = None
    """real shards the starting model was trained on: the trainer's starting dataset"""
    reset_states: int = 100_000
    """the newest real states (starting data and every round) imagined episodes start from; also
    the on-policy branches' pool with ``branch_from="dataset"``"""
    task_contexts: bool = False
    """imagined episodes and branches started from real states take their context (reacher's
    target) from a fresh task reset: real physics, any goal the task can set"""
    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    few_shot: FewShotSettings = field(default_factory=FewShotSettings)
    on_policy: OnPolicySettings = field(default_factory=OnPolicySettings)
    penalty: PenaltySettings = field(default_factory=PenaltySettings)
    eval: EvalSettings = field(default_factory=lambda: EvalSettings(every=1000))
    """real-env evaluation: every ``every`` real steps (few_shot: after every round)"""
    work_dir: str | None = None
    """trainer checkpoints (default: under the algorithm's log dir); a restarted run resumes"""

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        check_positive(self, ("reset_states",))
        if not isinstance(self.task_contexts, bool):
            raise ConfigError(f"task_contexts must be true or false, got {self.task_contexts!r}")


def imagined_penalty_keys(p: PenaltySettings) -> dict[str, Any]:
    """``mosim-imagined`` env-config keys of the penalty (none when it is off)."""
    if not p.on:
        return {}
    keys: dict[str, Any] = {"penalty": asdict(p.shape())}
    if p.density:
        keys["density"] = str(Path(p.density).resolve())
    if p.refit_every:
        keys["density_from_store"] = True
    return keys
