"""Statistics over seeds: mean, interquartile mean and a 95% bootstrap interval.

Pure numpy and seeded, so the same per-seed figures always give the same table (the docs'
``--check`` compares byte for byte).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (the 25%-75% trimmed mean, with the
    boundary values weighted by the fraction of them inside, as rliable computes it)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0:
        return float("nan")
    lo, hi = 0.25 * n, 0.75 * n
    weights = np.clip(np.minimum(np.arange(1, n + 1), hi) - np.maximum(np.arange(n), lo), 0, 1)
    return float((weights * x).sum() / weights.sum())


def bootstrap_ci(
    values: np.ndarray, statistic=np.mean, level: float = 0.95, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over seeds (resampled with replacement)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(x), size=(resamples, len(x)))
    stats = np.array([statistic(x[i]) for i in idx]) if statistic is not np.mean else x[idx].mean(1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(stats, [tail, 100 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class SeedSummary:
    """One arm at one step count over its seeds."""

    seeds: tuple[int, ...]
    per_seed: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_seed)) if self.per_seed else float("nan")

    @property
    def iqm(self) -> float:
        return iqm(np.array(self.per_seed))

    @property
    def ci95(self) -> tuple[float, float]:
        return bootstrap_ci(np.array(self.per_seed))


def bootstrap_difference_ci(
    ours: np.ndarray, theirs: np.ndarray, level: float = 0.95, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(ours) - mean(theirs)`` for two independent sets
    of seeds: each side resampled with replacement on its own."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    diffs = a[rng.integers(0, len(a), size=(resamples, len(a)))].mean(1) - b[
        rng.integers(0, len(b), size=(resamples, len(b)))
    ].mean(1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return float(lo), float(hi)
