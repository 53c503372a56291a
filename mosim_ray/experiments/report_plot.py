"""The headline plots: each arm's mean real return over seeds, with its 95% band, against real
steps, over the published methods' curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mosim_ray.experiments import reference
from mosim_ray.experiments.report import REPORTED_SEEDS, value_at
from mosim_ray.experiments.runner import RESULTS, load_seed_files
from mosim_ray.experiments.spec import Experiment


def arm_curve(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One arm's curve over seeds: per step count any seed has evaluated at, the number of
    seeds there ``n``, their mean and the 95% bootstrap interval ``lo``/``hi``, in step order."""
    from mosim_ray.experiments.stats import bootstrap_ci

    steps = sorted({round(p["real_steps"], -2) for f in files for p in f["curve"]})
    points = []
    for s in steps:
        vals = [v for f in files if (v := value_at(f["curve"], s)) is not None]
        if vals:
            lo, hi = bootstrap_ci(np.array(vals))
            points.append(
                {"real_steps": s, "n": len(vals), "mean": float(np.mean(vals)), "lo": lo, "hi": hi}
            )
    return points


def plot_task(
    task: str, experiments: list[Experiment], path: Path, results: Path = RESULTS
) -> None:
    """Our arms' mean real return with a 95% band over seeds against real steps, over the
    published methods' mean curves."""
    from mosim_ray.eval.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10.5, 4.2))
    top = 0
    for exp in experiments:
        if exp.report is None or exp.report.task != task:
            continue
        files = [f for f in load_seed_files(exp.name, results, True) if f["seed"] in REPORTED_SEEDS]
        points = arm_curve(files)
        if not points:
            continue
        top = max(top, points[-1]["real_steps"])
        unfinished = sum(f.get("complete") is False for f in files)
        seeds = f"{len(files)} seeds" + (f", {unfinished} unfinished" if unfinished else "")
        every = [p for p in points if p["n"] == len(files)]
        # past the last count every seed has reached, the mean is over fewer seeds: dotted and
        # without a band, so a seed that ran ahead is not read as the arm's drop or rise
        ahead = points[points.index(every[-1]) :] if every else points
        if every and len(ahead) > 1:
            seeds += f"; dotted: fewer seeds past {every[-1]['real_steps']:,}"
        (line,) = ax.plot(
            [p["real_steps"] for p in every],
            [p["mean"] for p in every],
            "o-",
            ms=3,
            label=f"{exp.report.arm} ({seeds})",
        )
        ax.fill_between(
            [p["real_steps"] for p in every],
            [p["lo"] for p in every],
            [p["hi"] for p in every],
            alpha=0.2,
            color=line.get_color(),
        )
        if len(ahead) > 1 or not every:
            ax.plot(
                [p["real_steps"] for p in ahead],
                [p["mean"] for p in ahead],
                ":",
                marker="o",
                ms=2,
                lw=1,
                color=line.get_color(),
            )
    for (method, t), curve in sorted(reference.curves().items()):
        if t != task or not top:
            continue
        steps = sorted(curve)
        inside = [s for s in steps if s <= top * 1.05]
        # a method evaluated only every 50k or 100k: a faint dotted line to its next published
        # point, so a reader does not take the straight line for a figure it never reported
        beyond = [s for s in steps if s > top * 1.05][:1]
        if not inside:  # nothing published inside the plot: no line, no legend entry
            continue
        means = {s: np.mean(curve[s]) for s in inside + beyond}
        label = f"{reference.NAMES.get(method, method)} (published)"
        (line,) = ax.plot(
            inside, [means[s] for s in inside], "--", marker="x", ms=4, lw=1, label=label
        )
        if beyond:
            ax.plot(
                inside[-1:] + beyond,
                [means[inside[-1]], means[beyond[0]]],
                ":",
                lw=1,
                alpha=0.4,
                color=line.get_color(),
            )
    ax.set_xlim(0, top * 1.05 if top else None)
    ax.set_xlabel(
        "real env steps (starting data included); x: a published evaluation, dotted: straight"
        " to the next one",
        fontsize=8,
    )
    ax.set_ylabel("real return (evaluation)")
    ax.set_title(f"{task}: seeds 0-99, mean and 95% bootstrap band")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside: no curve hidden
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_horizon(rows: list[dict[str, Any]], path: Path) -> None:
    """The horizon sweep, a panel per task: each seed's final real return and the mean with its
    95% interval against the imagined time limit (log scale), the paper's Table 7 time limits as
    vertical lines and the published methods' figures at the same real steps as horizontal ones."""
    from mosim_ray.eval.plots import _pyplot

    plt = _pyplot()
    tasks = sorted({r["task"] for r in rows if r["n_seeds"]})
    if not tasks:
        return
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        mine = [r for r in rows if r["task"] == task and r["n_seeds"]]
        for r in mine:
            ax.plot([r["value"]] * r["n_seeds"], r["per_seed"], "o", ms=4, alpha=0.4, color="C0")
        ax.errorbar(
            [r["value"] for r in mine],
            [r["mean"] for r in mine],
            yerr=[
                [r["mean"] - r["ci95"][0] for r in mine],
                [r["ci95"][1] - r["mean"] for r in mine],
            ],
            fmt="s-",
            ms=5,
            capsize=3,
            color="C0",
            label=f"{mine[0]['arm']}: mean, 95% CI (dots: seeds)",
        )
        for (name, value), style in zip(mine[0]["paper"].items(), ("--", "-.")):
            ax.axvline(
                value, ls=style, color="grey", lw=1, label=f"paper, Table 7: {name} {value:g}"
            )
        steps = mine[0]["real_steps"]
        for i, a in enumerate(reference.published(task, steps)):
            ax.axhline(
                a.mean,
                ls=":",
                lw=1,
                color=f"C{i + 1}",
                label=f"{reference.NAMES.get(a.method, a.method)} at {steps:,} real steps",
            )
        ax.set_xscale("log")
        ax.set_xlabel("imagined episode time limit (steps)")
        ax.set_ylabel(f"real return at {steps:,} real steps")
        counts = sorted({r["n_seeds"] for r in mine})
        seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        ax.set_title(f"{task}: {seeds} seeds a point")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
