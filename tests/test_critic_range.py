"""The range a critic's values may take, from the task's rewards, and when a run flags it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mosim_ray.sac.critic_range import divergence_message, far_outside, q_note, return_bounds
from mosim_ray.tasks.registry import SUITE_TASKS, make_simulator, reward_range


def test_return_bounds_and_what_counts_as_far_outside():
    bounds = return_bounds((0.0, 1.0), 0.99)
    assert bounds == pytest.approx((0.0, 100.0))
    # a soft Q may leave the range by its entropy term; a diverged one by orders of magnitude
    assert not far_outside(150.0, bounds) and not far_outside(-420.0, bounds)
    assert (
        far_outside(4.5e6, bounds) and far_outside(-3.1e8, bounds) and far_outside(-1001.0, bounds)
    )
    assert far_outside(math.inf, bounds) and not far_outside(math.nan, bounds)
    assert q_note(4.5e6, bounds) == "critic's mean Q 4.5e+06, far outside [0, 100]: diverged?"
    assert q_note(23.5, bounds) == "critic's mean Q 23.5" == q_note(23.5, None)
    # the advice names the setting only where the run does not use it yet
    assert "critic_target_bounds: [0, 100] would clip" in divergence_message(4.5e6, bounds, 40000)
    assert "is clipped" in divergence_message(4.5e6, bounds, 40000, clipped=True)
    with pytest.raises(ValueError, match="gamma"):
        return_bounds((0.0, 1.0), 1.0)


def test_every_suite_task_keeps_its_reward_in_the_range_it_claims():
    assert reward_range("gym:Hopper-v5") is None and reward_range("mjcf:robot.xml") is None
    rng = np.random.default_rng(0)
    for task in SUITE_TASKS:
        low, high = reward_range(task)
        sim = make_simulator(task, seed=0)
        lo, hi = sim.spec.action_bounds
        sim.reset()
        rewards = [sim.step(rng.uniform(lo, hi)) for _ in range(100)]
        assert low <= min(rewards) and max(rewards) <= high, task
