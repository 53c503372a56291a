"""What a critic's values may be, from the task's reward range, and when they are far past it.

A soft Q is a discounted sum of rewards plus a small entropy term, so with per-step rewards in
[low, high] it stays near [low, high] / (1 - gamma). A diverged critic leaves that range by
orders of magnitude (cheetah-run's diverged runs: 1e5 to 1e7 against [0, 100]), long before the
real return says why nothing is learned: the run records the critic's mean Q at each evaluation
and says so once when it is far outside.
"""

from __future__ import annotations

import math


def return_bounds(reward_range: tuple[float, float], gamma: float) -> tuple[float, float]:
    """The discounted returns rewards in ``reward_range`` allow: each end / (1 - gamma)."""
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    low, high = reward_range
    return low / (1.0 - gamma), high / (1.0 - gamma)


def far_outside(q: float, bounds: tuple[float, float]) -> bool:
    """``q`` (finite) further outside ``bounds`` than their width: past anything the entropy
    term explains. NaN (no update yet) is not."""
    low, high = bounds
    width = high - low
    if math.isnan(q):
        return False
    return not low - width <= q <= high + width


def divergence_message(q: float, bounds: tuple[float, float], real_steps: int) -> str:
    low, high = bounds
    return (
        f"the critic's mean Q is {q:.3g} at {real_steps:,} real steps, far outside "
        f"[{low:g}, {high:g}] (the discounted returns the task's rewards allow): it has likely "
        f"diverged; the SAC setting critic_target_bounds: [{low:g}, {high:g}] clips its target"
    )


def q_note(q: float, bounds: tuple[float, float] | None) -> str:
    """ "critic's mean Q <q>" for a person, flagged when far outside ``bounds`` (if known)."""
    far = bounds is not None and far_outside(q, bounds)
    flag = f", far outside [{bounds[0]:g}, {bounds[1]:g}]: diverged?" if far else ""
    return f"critic's mean Q {q:.3g}{flag}"
