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
