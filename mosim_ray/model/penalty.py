"""``PenaltyConfig``: the shape of the density penalty on imagined rewards (no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PenaltyConfig:
    """``reward + scale * (sigmoid((log p - c) / s) - 1)`` on the (state, action) taken."""

    scale: float = 1.0
    """how much reward a step far outside the data loses (at most ``scale``)"""
    c: float = -30.0
    """the log density where half the penalty applies (the authors': -30)"""
    s: float = 10.0
    """the width of the sigmoid in log-density units (the authors': 10)"""
    truncate_below: float | None = None
    """optionally end an imagined episode where log p falls below this"""
