"""One trial of a world-model sweep: train a model, judge it by its prediction error.

``train_and_judge_model(run, out, report)`` splits ``run.data`` by whole episodes into train /
validation / held-out test, trains like ``pipelines/train.py`` (``StagedTrainer``, the wall-clock
budget ``run.minutes``) and judges the model the way the prediction benchmark does
(``eval.metrics.prediction_errors``): the raw-state MSE of open-loop rollouts of
``run.eval_horizon`` steps on the held-out episodes, reported as ``mse_h<H>`` (``mse_h16``). A
model that diverges on any held-out segment scores ``inf`` there (the benchmark's own number,
over the finite rollouts only, is ``mse_h<H>_finite``), so a sweep never prefers it.

``report`` gets a judgement of the current weights ``run.reports`` times during training (so ASHA
can stop weak trials) and one of the best weights at the end (``final`` True), which is the
trial's result. Pure
torch, no Ray: Tune passes ``tune.report``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mosim_ray.config import ModelRun
from mosim_ray.data import RolloutDataset
from mosim_ray.eval.metrics import prediction_errors
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.train.trainer import StagedTrainer, TrainConfig, fit_normalizer

RESULT_FILE = "model_sweep_result.json"


def metric_name(run: ModelRun) -> str:
    """The judgement's key: ``mse_h16`` for ``eval_horizon`` 16."""
    return f"mse_h{run.eval_horizon}"


def model_config(run: ModelRun) -> ModelConfig:
    """The architecture of ``run`` (raises ValueError on an unknown kind, size or solver)."""
    return ModelConfig(
        task=run.task,
        kind=run.kind,
        size=run.size,
        correctors=run.correctors,
        method=run.method,
        substeps=run.substeps,
    )


def train_config(run: ModelRun) -> TrainConfig:
    return TrainConfig(
        batch_size=run.batch_size,
        lr=run.lr,
        horizon=run.horizon,
        horizon_start=min(2, run.horizon),
        minutes=run.minutes,
        max_updates=run.max_updates,
        stages=run.stages,
        joint=run.joint,
        seed=run.seed,
    )


def judge(model: WorldModel, test: RolloutDataset, run: ModelRun) -> dict[str, float]:
    """``mse_h<H>`` and its companions for the model's current weights on the held-out episodes."""
    (error,) = prediction_errors(
        model, test, horizons=(run.eval_horizon,), segments=run.eval_segments, seed=run.seed
    )
    h = run.eval_horizon
    return {
        f"mse_h{h}": error.mse if error.finite_share == 1.0 else math.inf,
        f"mse_h{h}_finite": error.mse,
        f"normalized_mse_h{h}": error.normalized_mse,
        f"constant_mse_h{h}": error.constant_mse,
        f"finite_share_h{h}": error.finite_share,
        "segments": error.segments,
    }


class _JudgedTrainer(StagedTrainer):
    """``StagedTrainer`` that also judges the current weights every ``every_s`` seconds, right
    after one of its own validations (the weights are then in eval mode)."""

    def __init__(
        self, *args: Any, on_judge: Callable[[dict[str, Any]], None], every_s: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._on_judge, self._every_s = on_judge, every_s
        self._next = time.perf_counter() + every_s

    def _evaluate(self, *args: Any, **kwargs: Any) -> None:
        super()._evaluate(*args, **kwargs)
        if time.perf_counter() >= self._next and self.history:
            self._on_judge(self.history[-1])
            self._next = time.perf_counter() + self._every_s


def train_and_judge_model(
    run: ModelRun,
    out: str | Path,
    report: Callable[[dict[str, Any]], None] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train the model of ``run`` under ``out`` (``out/model``: the best weights) and judge it on
    held-out episodes. Returns (and writes to ``out/model_sweep_result.json``) the final
    judgement; ``report`` gets the intermediate ones and then the final one (``final`` True)."""
    if run.data is None:
        raise ValueError("ModelRun.data is not set: the folder of shards to train on")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(run.seed)  # before the model is built: same seed, same initial weights
    data = RolloutDataset.open(run.data)
    if data.task != run.task:
        raise ValueError(f"{run.data} holds {data.task!r} data, not {run.task!r}")
    shares = (1.0 - run.val_share - run.test_share, run.val_share, run.test_share)
    train, val, test = data.split(shares, seed=run.seed)
    if not test.episodes or not any(e.length >= run.eval_horizon for e in test.episodes):
        raise ValueError(
            f"{run.data}: no held-out episode as long as eval_horizon {run.eval_horizon} "
            f"({len(data.episodes)} episodes, test share {run.test_share}); collect more"
        )
    model = WorldModel.create(model_config(run))
    fit_normalizer(model, train, run.horizon)
    model.info["data"] = {
        "path": str(run.data),
        "episodes": len(data.episodes),
        "real_steps": data.num_steps,
        "train_steps": train.num_steps,
    }
    started = time.perf_counter()

    def judged(row: dict[str, Any], final: bool) -> dict[str, Any]:
        point = judge(model, test, run)
        point.update(
            val_loss=row.get("val_loss"),
            best_val_loss=row.get("best_val_loss"),
            updates=row.get("updates", row.get("update")),
            seconds=time.perf_counter() - started,
            final=final,
        )
        return point

    def intermediate(row: dict[str, Any]) -> None:
        if report is not None:
            report(judged(row, final=False))

    trainer = _JudgedTrainer(
        model,
        train,
        val,
        train_config(run),
        out,
        on_judge=intermediate,
        every_s=run.minutes * 60 / run.reports,
    )
    summary = trainer.run(progress=progress)
    # the trainer leaves the model with the best weights (by validation loss): the trial's result
    final = judged(
        {
            "val_loss": summary["val_loss"],
            "best_val_loss": trainer.best_val,
            "updates": summary["updates"],
        },
        final=True,
    )
    result = {
        **final,
        "run": {k: getattr(run, k) for k in run.__dataclass_fields__},
        "episodes": {
            "train": len(train.episodes),
            "val": len(val.episodes),
            "test": len(test.episodes),
        },
        "history": summary.get("history", []),
    }
    (out / RESULT_FILE).write_text(json.dumps(result, indent=1, default=str))
    if report is not None:
        report(final)
    return final
