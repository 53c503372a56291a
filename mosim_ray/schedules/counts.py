"""What a schedule has done so far, and where its time went: the numbers a sample-efficiency
claim rests on, carried in checkpoints and written to every result."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Counts:
    """Counts of everything the schedule did (``result["mosim"]`` and the summary's keys)."""

    real_steps: int = 0
    """real env steps taken by the policy (few_shot: collectors; on_policy: env runners),
    starting data not included"""
    imagined_steps: int = 0
    model_updates: int = 0
    model_gradient_steps: int = 0
    policy_updates: int = 0
    rounds: int = 0
    """few_shot real rounds"""
    real_episodes: int = 0
    """few_shot real episodes the trainer took in"""
    real_segments: int = 0
    """on_policy real segments the trainer took in"""
    nonfinite_dropped: int = 0
    """imagined transitions dropped for a non-finite observation or reward"""
    density_fits: int = 0
    branches_stopped: int = 0
    """on_policy imagined branches stopped before their last step: a non-finite or too fast
    prediction, or one out of the density's support"""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def update(self, values: dict[str, int]) -> None:
        for key, value in values.items():
            setattr(self, key, value)


@dataclass
class Seconds:
    """Wall seconds by activity (the driver's view: time it spent in or waiting for each)."""

    real_collection: float = 0.0
    model_training: float = 0.0
    """the trainer's own training time (beside the learner's work when updates overlap)"""
    waiting: float = 0.0
    """the driver waiting for the trainer (a model update still running when the next is due)"""
    imagined_steps: float = 0.0
    policy_updates: float = 0.0
    evaluation: float = 0.0
    density_fitting: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def update(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            setattr(self, key, value)
