"""``TrainConfig``: how a world model is trained in stages (no torch needed to read it)."""

from __future__ import annotations

from dataclasses import dataclass

STATE_FILE = "trainer_state.pt"
"""in a trainer's folder: its state at the last evaluation, to resume from"""


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 256
    lr: float = 1e-3
    min_lr_frac: float = 0.05
    """the cosine schedule ends at lr * min_lr_frac"""
    horizon: int = 16
    """training rollout length reached at the end of the curriculum"""
    horizon_start: int = 2
    curriculum: float = 0.4
    """fraction of each stage's budget over which the horizon grows from horizon_start to horizon"""
    step_discount: float = 1.0
    """weight of rollout step k is discount**k (normalized); 1 weighs all steps alike"""
    normalize_loss: bool = True
    """False: the loss is the raw-state MSE (the authors' recipe) instead of the normalized one"""
    grad_clip: float = 1.0
    eval_every: int = 50
    eval_segments: int = 512
    patience: int = 100
    """evaluations without improvement, counted once the curriculum is done, before a stage ends
    early (the cosine schedule keeps improving late, so be patient)"""
    minutes: float = 15.0
    """wall-clock budget of the whole run (all stages)"""
    max_updates: int | None = None
    """update budget of the whole run; the budget that runs out first ends it"""
    stages: int | None = None
    """stages to run (None: all of the model's)"""
    joint: bool = False
    first_stage_share: float = 0.6
    """share of the budget for stage 1 when there are several stages"""
    seed: int = 0
    compile: bool = False
    """torch.compile the model's step for training (``mosim_ray.model.compiled``): about a fifth
    less time per update, after a compile of 10-60 s at the start (and at each stage); eager where
    compiling fails. Worth it for runs of minutes."""

    def __post_init__(self):
        if self.horizon < 1 or not 1 <= self.horizon_start <= self.horizon:
            raise ValueError(
                f"need 1 <= horizon_start <= horizon, got {self.horizon_start}, {self.horizon}"
            )
        if self.minutes <= 0 or (self.max_updates is not None and self.max_updates < 1):
            raise ValueError("minutes must be > 0 and max_updates >= 1")
        if self.batch_size < 1 or self.lr <= 0:
            raise ValueError("batch_size and lr must be positive")
