"""``EvalSettings``: when and how a policy is judged in the real environment (no RLlib needed)."""

from __future__ import annotations

from dataclasses import dataclass

from mosim_ray.tasks.spec import SUITE_TIME_LIMIT

EVAL_SEED_BASE = 12345
"""the evaluation starts' seed is this plus the run's seed, unless a run names its own"""


@dataclass(frozen=True)
class EvalSettings:
    """When and how a policy is judged in the real environment."""

    every: int = 5000
    """training steps (imagined or real, as the run counts them) between evaluations"""
    episodes: int = 10
    """real episodes per evaluation (deterministic actions, the same seeded starts each time)"""
    time_limit: int = SUITE_TIME_LIMIT
    """real episode length in control steps"""
    seed: int | None = None
    """seed of the evaluation episodes' starts; None: 12345 plus the run's seed, so each seed of
    an experiment is judged on its own starts and two arms of one seed on the same ones"""

    def __post_init__(self) -> None:
        for name in ("every", "episodes", "time_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"eval {name} must be a positive integer, got {value!r}")
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ValueError(f"eval seed must be an integer or null, got {self.seed!r}")

    def starts_seed(self, run_seed: int | None) -> int:
        """The seed of the evaluation starts for a run seeded with ``run_seed``."""
        return self.seed if self.seed is not None else EVAL_SEED_BASE + int(run_seed or 0)
