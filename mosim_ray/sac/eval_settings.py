"""``EvalSettings``: when and how a policy is judged in the real environment (no RLlib needed)."""

from __future__ import annotations

from dataclasses import dataclass

from mosim_ray.tasks.spec import SUITE_TIME_LIMIT


@dataclass(frozen=True)
class EvalSettings:
    """When and how a policy is judged in the real environment."""

    every: int = 5000
    """training steps (imagined or real, as the run counts them) between evaluations"""
    episodes: int = 10
    """real episodes per evaluation (deterministic actions, the same seeded starts each time)"""
    time_limit: int = SUITE_TIME_LIMIT
    """real episode length in control steps"""

    def __post_init__(self) -> None:
        for name in ("every", "episodes", "time_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"eval {name} must be a positive integer, got {value!r}")
