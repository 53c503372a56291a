"""Plots a person would rather look at than read (matplotlib, files only, no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curve(history: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Validation and training loss against updates, one colour band per stage."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    if history:
        upd = [r["update"] for r in history]
        ax.semilogy(
            upd, [r["train_loss"] for r in history], lw=0.8, alpha=0.6, label="train (batch)"
        )
        ax.semilogy(
            upd, [r["val_loss"] for r in history], lw=1.5, label="validation (H=16 rollouts)"
        )
        stages = sorted({r["stage"] for r in history})
        for s in stages[1:]:
            first = next(r["update"] for r in history if r["stage"] == s)
            ax.axvline(first, color="grey", ls="--", lw=0.8)
            ax.text(first, ax.get_ylim()[1], f" stage {s}", va="top", fontsize=8)
    ax.set_xlabel("updates")
    ax.set_ylabel("normalized MSE")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_error_by_step(curves: dict[str, np.ndarray], path: str | Path, title: str = "") -> Path:
    """Raw-state MSE against prediction step (log scale), one line per model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, err in curves.items():
        ax.semilogy(range(1, len(err) + 1), err, label=name, ls="--" if name == "constant" else "-")
    ax.set_xlabel("prediction step (control steps)")
    ax.set_ylabel("raw-state MSE at that step")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_rl_curves(
    curves: dict[str, list[dict[str, Any]]], path: str | Path, title: str = ""
) -> Path:
    """Real-env evaluation return (mean ± std band) against env steps, one line per run; the
    training-env return (e.g. imagined) dashed in the same colour where it differs."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (label, curve) in enumerate(curves.items()):
        if not curve:
            continue
        colour = f"C{i}"
        x = np.array([p["env_steps"] for p in curve])
        mean = np.array([p["real_return_mean"] for p in curve])
        std = np.array([p["real_return_std"] for p in curve])
        ax.plot(x, mean, "o-", color=colour, ms=3, label=f"{label}: real-env return")
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.15)
        train = np.array([p["train_return_mean"] for p in curve], dtype=float)
        if "imagined" in label and np.isfinite(train).any():
            ax.plot(x, train, "--", color=colour, lw=1, label=f"{label}: imagined return")
    ax.set_xlabel("env steps (imagined for imagined runs, real for real runs)")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_error_vs_horizon(
    per_step: dict[str, np.ndarray], path: str | Path, title: str = ""
) -> Path:
    """H-step raw MSE (mean over steps 1..H) against H, log scale, one line per model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, errs in per_step.items():
        errs = np.asarray(errs, dtype=np.float64)
        h = np.arange(1, len(errs) + 1)
        ax.loglog(h, np.cumsum(errs) / h, label=name, ls="--" if name == "constant" else "-")
    ax.set_xlabel("horizon H (control steps)")
    ax.set_ylabel("raw-state MSE over steps 1..H")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_trajectories(
    models: dict[str, Any],
    data,
    path: str | Path,
    horizon: int = 100,
    segments: int = 3,
    dims: int = 3,
    seed: int = 0,
) -> Path:
    """Predicted against true joint positions for a few segments (rows) and joints (columns)."""
    from mosim_ray.eval.metrics import sample_segments

    plt = _pyplot()
    states, actions = sample_segments(data, horizon, segments, seed)
    dims = min(dims, states.shape[-1])
    nq = next(iter(models.values())).spec.nq
    fig, axes = plt.subplots(
        len(states), dims, figsize=(3.3 * dims, 2.4 * len(states)), squeeze=False
    )
    preds = {
        n: np.asarray(m.rollout(states[:, 0].numpy(), actions.numpy())) for n, m in models.items()
    }
    t = np.arange(horizon + 1)
    for i in range(len(states)):
        for j in range(dims):
            ax = axes[i][j]
            ax.plot(t, states[i, :, j].numpy(), "k", lw=2, label="real MuJoCo")
            for k, (name, p) in enumerate(preds.items()):
                if name == "constant":
                    continue
                ax.plot(t[1:], p[i, :, j], color=f"C{k}", lw=1, label=name)
            if i == 0:
                ax.set_title(f"qpos[{j}]" if j < nq else f"qvel[{j - nq}]")
            if i == len(states) - 1:
                ax.set_xlabel("step")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_schedule(
    result: dict[str, Any], path: str | Path, baseline: dict[str, Any] | None = None
) -> Path:
    """Three panels of a few-shot / on-policy run: real return against real steps (beside the
    real-env SAC curve), imagined against real return, and the model's error on fresh real
    data against model version."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    curve = result["curve"]
    x = np.array([p["real_steps"] for p in curve])
    mean = np.array([p["real_return_mean"] for p in curve])
    std = np.array([p["real_return_std"] for p in curve])
    ax = axes[0]
    # every real step counts: the starting model's data too, so the comparison with real-env SAC
    # is at equal real experience
    data_steps = max(0, int(result.get("trainer_real_steps", 0)) - int(result["real_steps"]))
    ax.plot(x + data_steps, mean, "o-", ms=3, label=f"{result['schedule']} (MoSim)")
    ax.fill_between(x + data_steps, mean - std, mean + std, alpha=0.15)
    if baseline:
        bx = np.array([p["env_steps"] for p in baseline["curve"]])
        bm = np.array([p["real_return_mean"] for p in baseline["curve"]])
        ax.plot(bx, bm, "s-", ms=3, color="C1", label="SAC in the real env")
    ax.set_xlabel(
        f"real env steps (policy + {data_steps:,} steps of the model's starting data)"
        if data_steps
        else "real env steps"
    )
    ax.set_ylabel("real-env evaluation return")
    ax.set_title(f"{result['task']}: sample efficiency")
    ax.legend(fontsize=8)
    ax = axes[1]
    imagined = np.array([p.get("train_return_mean", np.nan) for p in curve], dtype=float)
    ax.plot(x, mean, "o-", ms=3, label="real return (evaluation)")
    settings = result.get("settings", {})
    seen = "return the learner saw (env runners)"
    if settings.get("schedule") == "few_shot":  # imagined episodes are shorter than real ones
        seen += (
            f", per {settings['few_shot']['imagined_time_limit']}-step imagined episode "
            f"against {settings['eval']['time_limit']} real"
        )
    ax.plot(x, imagined, "--", label=seen)
    ax.set_xlabel("real env steps")
    ax.set_ylabel("episode return")
    ax.set_title("imagined vs real return")
    ax.legend(fontsize=8)
    ax = axes[2]
    errs = result.get("fresh_data_error") or []
    if errs:
        ax.semilogy([e["model_version"] for e in errs], [e["mse"] for e in errs], "o-", ms=3)
    ax.set_xlabel("model version")
    ax.set_ylabel("raw-state MSE on fresh real data (before training on it)")
    ax.set_title("model error on new real data")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
