"""What a critic's values may be, from the task's reward range, and when they are far past it.

A soft Q is a discounted sum of rewards plus an entropy bonus: with per-step rewards in [low,
high] the rewards' part lies in [low, high] / (1 - gamma), and the bonus adds up to about
alpha * |A| / (1 - gamma) either way (about 400 on humanoid-walk at the starting temperature
0.2). A diverged critic leaves that range by orders of magnitude (cheetah-run's diverged runs:
1e5 to 1e7 against [0, 100]), long before the real return says why nothing is learned: the run
records the critic's mean Q at each evaluation and says so once when it is far outside.
"""

from __future__ import annotations

import math


def return_bounds(reward_range: tuple[float, float], gamma: float) -> tuple[float, float]:
    """The discounted returns rewards in ``reward_range`` allow: each end / (1 - gamma)."""
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    low, high = reward_range
    return low / (1.0 - gamma), high / (1.0 - gamma)


FAR = 10.0
"""how many widths of the bounds past either end counts as far outside: room for the entropy
bonus on tasks with many actuators, a small fraction of where diverged critics went"""


def far_outside(q: float, bounds: tuple[float, float]) -> bool:
    """``q`` more than ``FAR`` widths of ``bounds`` past either end (infinite included). NaN
    (no update yet) is not."""
    low, high = bounds
    room = FAR * (high - low)
    if math.isnan(q):
        return False
    return not low - room <= q <= high + room


def divergence_message(
    q: float, bounds: tuple[float, float], real_steps: int, clipped: bool = False
) -> str:
    """One line for a person; ``clipped``: the run's critic target is clipped already."""
    low, high = bounds
    advice = (
        "its target is clipped (critic_target_bounds), so look at what feeds it"
        if clipped
        else f"the SAC setting critic_target_bounds: [{low:g}, {high:g}] would clip its target"
    )
    return (
        f"the critic's mean Q is {q:.3g} at {real_steps:,} real steps, far outside "
        f"[{low:g}, {high:g}] (the discounted returns the task's rewards allow): it has likely "
        f"diverged; {advice}"
    )


def q_note(q: float, bounds: tuple[float, float] | None) -> str:
    """ "critic's mean Q <q>" for a person, flagged when far outside ``bounds`` (if known)."""
    far = bounds is not None and far_outside(q, bounds)
    flag = f", far outside [{bounds[0]:g}, {bounds[1]:g}]: diverged?" if far else ""
    return f"critic's mean Q {q:.3g}{flag}"
