"""Judging a model while it trains: held-out open-loop error at a few points on the way.

A Tune trial reports these judgements so ASHA can stop weak trials early; a pipeline prints them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.eval.metrics import prediction_errors
from mosim_ray.model.world_model import WorldModel
from mosim_ray.train.trainer import StagedTrainer


def judge(
    model: WorldModel, test: RolloutDataset, horizon: int, segments: int, seed: int = 0
) -> dict[str, float]:
    """``mse_h<H>`` (inf when any rollout is non-finite) and its companions for the model's
    current weights on held-out episodes."""
    (error,) = prediction_errors(model, test, horizons=(horizon,), segments=segments, seed=seed)
    h = horizon
    return {
        f"mse_h{h}": error.mse,
        f"mse_h{h}_finite": error.mse_finite,
        f"normalized_mse_h{h}": error.normalized_mse,
        f"constant_mse_h{h}": error.constant_mse,
        f"finite_share_h{h}": error.finite_share,
        "segments": error.segments,
    }


class JudgedTrainer(StagedTrainer):
    """``StagedTrainer`` that also calls ``judge()`` every ``every_s`` seconds, right after one of
    its own validations (the weights are then in eval mode), and hands the point to ``report``."""

    def __init__(
        self,
        *args: Any,
        judge: Callable[[], dict[str, Any]],
        report: Callable[[dict[str, Any]], None] | None,
        every_s: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._judge, self._report, self._every_s = judge, report, every_s
        self._started = time.perf_counter()
        self._next = self._started + every_s

    def _evaluate(self, *args: Any, **kwargs: Any) -> None:
        super()._evaluate(*args, **kwargs)
        if self._report is None or not self.history or time.perf_counter() < self._next:
            return
        row = self.history[-1]
        point = self._judge()
        point.update(
            val_loss=row.get("val_loss"),
            best_val_loss=row.get("best_val_loss"),
            updates=row.get("updates", row.get("update")),
            seconds=time.perf_counter() - self._started,
            final=False,
        )
        self._report(point)
        self._next = time.perf_counter() + self._every_s
