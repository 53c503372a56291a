"""Multi-step prediction error of a saved world model on real rollouts (horizons 3, 16, 100).

    python pipelines/evaluate.py --checkpoint runs/reacher-easy/model --data data/reacher-easy-test

--data may be the training folder: with --split test only the held-out test episodes (the same
seeded split pipelines/train.py uses) are scored. Writes result.json and error_by_step.png.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mosim_ray.runs.kind import Report, RunKind


@dataclass(frozen=True)
class EvaluateConfig:
    """A checkpoint judged on a folder of real rollouts."""

    checkpoint: str = "pretrained/reacher-easy"
    """checkpoint directory or pretrained/<name>"""
    data: str = "data/reacher-easy"
    """folder of shards of the checkpoint's task"""
    split: str = "all"
    """all | test (the held-out episodes of pipelines/train.py's seeded split)"""
    seed: int = 0
    """split seed (as given to train)"""
    val_share: float = 0.1
    test_share: float = 0.1
    horizons: tuple[int, ...] = (3, 16, 100)
    segments: int = 256
    threads: int = 2

    def __post_init__(self) -> None:
        if self.split not in ("all", "test"):
            raise ValueError(f"split must be all or test, got {self.split!r}")


def run(
    config: EvaluateConfig, out: str | Path, *, report: Report | None = None, progress: bool = False
) -> dict[str, Any]:
    import torch

    from mosim_ray.data import RolloutDataset
    from mosim_ray.eval.metrics import error_by_step, prediction_errors
    from mosim_ray.eval.plots import plot_error_by_step
    from mosim_ray.model import WorldModel

    torch.set_num_threads(config.threads)
    out = Path(out)
    model = WorldModel.load(config.checkpoint)
    data = RolloutDataset.open(config.data)
    if data.task != model.task:
        raise ValueError(f"the model is of {model.task!r}, the data of {data.task!r}")
    if config.split == "test":
        shares = (1 - config.val_share - config.test_share, config.val_share, config.test_share)
        data = data.split(shares, seed=config.seed)[2]
    errors = prediction_errors(model, data, config.horizons, config.segments)
    curves = error_by_step(model, data, max(config.horizons), config.segments)
    out.mkdir(parents=True, exist_ok=True)
    plot_error_by_step(
        {model.config.kind: curves["model"], "constant": curves["constant"]},
        out / "error_by_step.png",
        f"{model.task}: open-loop error on real rollouts",
    )
    return {
        "task": model.task,
        "kind": model.config.kind,
        "episodes": len(data.episodes),
        "errors": [e.as_dict() for e in errors],
        "settings": asdict(config),
    }


def summary(result: dict[str, Any]) -> str:
    from mosim_ray.eval.metrics import HorizonError, format_errors

    errors = [HorizonError(**e) for e in result["errors"]]
    return f"{result['task']} ({result['kind']}, {result['episodes']} episodes)\n" + format_errors(
        errors
    )


KIND = RunKind(
    name="evaluate",
    config=EvaluateConfig,
    run=run,
    doc=__doc__,
    default_out=lambda c: f"runs/evaluate/{Path(c.checkpoint).name}",
    summary=summary,
    uses_ray=False,
    inputs=(
        "checkpoint",
        "data",
    ),
)
