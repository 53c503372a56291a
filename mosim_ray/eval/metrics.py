"""Multi-step prediction error against real MuJoCo, the way the paper judges a world model.

For each horizon H, segments of H real steps are cut at random places in held-out episodes; the model
predicts open loop from the first true state under the true actions; errors are averaged over every
predicted step and every state dimension.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.model.world_model import WorldModel


@dataclass(frozen=True)
class HorizonError:
    horizon: int
    segments: int
    mse: float
    """raw-state MSE over predicted steps 1..H and dimensions, every rollout counted: infinite
    when any rollout failed (a non-finite prediction is never dropped)"""
    normalized_mse: float
    """MSE after dividing each dimension by its standard deviation in the test data (every
    rollout counted, as ``mse``)"""
    constant_mse: float
    """raw MSE of predicting that the state never changes, same segments"""
    finite_share: float
    """share of rollouts whose every predicted value is finite (1 - the failure share)"""
    mse_finite: float = float("nan")
    """``mse`` over the finite rollouts only (how good the rest are; read with the share)"""
    step_mse: float = float("nan")
    """raw-state MSE at the H-th step alone, every rollout counted (the paper reports this
    beside the mean over steps 1..H)"""
    step_mse_finite: float = float("nan")

    @property
    def failure_share(self) -> float:
        return 1.0 - self.finite_share

    def as_dict(self) -> dict:
        return asdict(self)


def sample_segments(data: RolloutDataset, horizon: int, segments: int, seed: int = 0):
    """states [N, H+1, D], actions [N, H, U] (N <= segments: at most one per possible start)."""
    sampler = data.segments(horizon)
    rng = np.random.default_rng(seed)
    n = min(segments, len(sampler))
    starts = rng.choice(sampler.starts, size=n, replace=False)
    return sampler.get(np.sort(starts))


def _mean(x: torch.Tensor) -> float:
    return float(x.mean())


def _failed(x: torch.Tensor) -> float:
    return float("inf")  # a failed rollout counts, and its error is unbounded


def _missing(x: torch.Tensor) -> float:
    return float("nan")  # no finite rollout to average


@torch.no_grad()
def prediction_errors(
    model: WorldModel,
    data: RolloutDataset,
    horizons=(3, 16, 100),
    segments: int = 256,
    seed: int = 0,
    batch: int = 256,
) -> list[HorizonError]:
    """Errors of ``model`` on ``data`` at each horizon that fits in its episodes."""
    if not data.episodes:
        raise ValueError("no episodes to evaluate on")
    std = torch.as_tensor(data.states().std(0)).clamp_min(1e-6)
    out = []
    for h in horizons:
        try:
            states, actions = sample_segments(data, h, segments, seed)
        except ValueError:
            continue  # episodes shorter than h
        preds = torch.cat(
            [
                torch.as_tensor(model.rollout(states[i : i + batch, 0], actions[i : i + batch]))
                for i in range(0, len(states), batch)
            ]
        )
        truth = states[:, 1:]
        finite = torch.isfinite(preds).flatten(1).all(1)
        err = (preds[finite] - truth[finite]) ** 2
        counted = _mean if bool(finite.all()) else _failed
        finite_only = _mean if bool(finite.any()) else _missing
        out.append(
            HorizonError(
                horizon=h,
                segments=len(states),
                mse=counted(err),
                normalized_mse=counted(err / std**2),
                constant_mse=float(((truth - states[:, :1]) ** 2).mean()),
                finite_share=float(finite.float().mean()),
                mse_finite=finite_only(err),
                step_mse=counted(err[:, -1]),
                step_mse_finite=finite_only(err[:, -1]),
            )
        )
    return out


@torch.no_grad()
def error_by_step(
    model: WorldModel, data: RolloutDataset, horizon: int = 100, segments: int = 256, seed: int = 0
) -> dict[str, np.ndarray]:
    """Raw-state MSE at each step k = 1..horizon of open-loop rollouts: {"model": [H],
    "constant": [H]} (finite rollouts only for the model)."""
    states, actions = sample_segments(data, horizon, segments, seed)
    pred = torch.as_tensor(model.rollout(states[:, 0], actions))
    truth = states[:, 1:]
    finite = torch.isfinite(pred).flatten(1).all(1)
    return {
        "model": ((pred[finite] - truth[finite]) ** 2).mean(dim=(0, 2)).numpy(),
        "constant": ((truth - states[:, :1]) ** 2).mean(dim=(0, 2)).numpy(),
    }


def format_errors(errors: list[HorizonError]) -> str:
    """Markdown: per horizon, the mean over steps 1..H and the H-th step's error (every rollout
    counted: inf when one failed), and the failure share."""
    lines = [
        "| H | segments | raw MSE (steps 1..H) | at step H | normalized MSE | constant-state MSE "
        "| failed | raw MSE of the finite ones |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in errors:
        lines.append(
            f"| {e.horizon} | {e.segments} | {e.mse:.4g} | {e.step_mse:.4g} | "
            f"{e.normalized_mse:.4g} | {e.constant_mse:.4g} | {e.failure_share:.0%} | "
            f"{e.mse_finite:.4g} |"
        )
    return "\n".join(lines)


def error_figures(errors: list[dict]) -> dict[str, float]:
    """``HorizonError.as_dict()`` rows by name: mse_h<H> (steps 1..H), step_mse_h<H> (step H),
    failed_h<H> (share of non-finite rollouts)."""
    out = {}
    for e in errors:
        h = e["horizon"]
        out[f"mse_h{h}"] = e["mse"]
        out[f"step_mse_h{h}"] = e.get("step_mse", float("nan"))  # older results lack it
        out[f"failed_h{h}"] = 1.0 - e["finite_share"]
    return out


def equivalent_horizon(per_step_mse: np.ndarray, reference_mse: float) -> int | None:
    """The first horizon H at which a model's H-step error (the mean of its per-step errors over
    steps 1..H) reaches ``reference_mse``; None if it stays below over the measured steps."""
    per_step = np.asarray(per_step_mse, dtype=np.float64)
    if per_step.ndim != 1 or not len(per_step):
        raise ValueError("per_step_mse must be a non-empty 1-d array")
    cumulative = np.cumsum(per_step) / np.arange(1, len(per_step) + 1)
    hit = np.flatnonzero(~(cumulative < reference_mse))  # NaN counts as reached
    return int(hit[0]) + 1 if len(hit) else None
