"""What a schedule has done so far, and where its time went: the numbers a sample-efficiency
claim rests on, carried in checkpoints and written to every result."""

from __future__ import annotations

import math
import time
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
    saving: float = 0.0
    """writing the run's saves (checkpoints)"""
    wall: float = 0.0
    """the run's wall seconds behind its counts: every process's life from its set-up on
    (start-up and resumes included), less the work after a save that a resume took again. What
    the activities above leave of it went untimed: RLlib's per-iteration work, the driver's calls
    to the trainer, start-up"""
    driver_cpu: float = 0.0
    """CPU seconds of the driver process over the same span (all its threads)"""
    trainer_cpu: float = 0.0
    """CPU seconds of the model trainer's process (each process it had), up to the last summary"""

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def update(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            setattr(self, key, value)

    def resume_from(self, saved: dict[str, float]) -> None:
        """The saved run's seconds, plus what this process spent before restoring them: its
        set-up (evaluation, density fit) is a resume's cost. A save from before a clock existed
        leaves it NaN (unknown), an activity 0."""
        for key, spent in self.as_dict().items():
            base = saved.get(key, math.nan if key in _CLOCKS else 0.0)
            setattr(self, key, base + spent if key in _RESUME_COSTS else base)


_CLOCKS = frozenset({"wall", "driver_cpu", "trainer_cpu"})
_RESUME_COSTS = _CLOCKS | {"evaluation", "density_fitting"}


class RunClock:
    """Adds the wall and driver CPU seconds since its last tick to a ``Seconds``, and the
    trainer's CPU seconds from the process totals it reports with its pid (a restarted trainer
    is a new process whose count starts again from 0)."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._trainer_seen: tuple[int | None, float] = (None, 0.0)

    def tick(self, seconds: Seconds, trainer: tuple[int, float] | None = None) -> None:
        """``trainer``: the trainer process's (pid, CPU seconds since it started), if asked."""
        wall, cpu = time.perf_counter(), time.process_time()
        seconds.wall += wall - self._wall
        seconds.driver_cpu += cpu - self._cpu
        self._wall, self._cpu = wall, cpu
        if trainer is not None:
            pid, seen = self._trainer_seen
            seconds.trainer_cpu += trainer[1] - (seen if trainer[0] == pid else 0.0)
            self._trainer_seen = trainer
