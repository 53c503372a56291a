"""A finished sweep as a table of trials (markdown and CSV, best first) and a plot of the metric
against each swept parameter."""

from __future__ import annotations

import csv
import math
from numbers import Number
from pathlib import Path
from typing import Any


def finite(v: Any) -> bool:
    return isinstance(v, Number) and math.isfinite(float(v))


def _sort_key(metric: str, mode: str):
    def key(row: dict[str, Any]) -> float:
        v = row.get(metric)
        if not isinstance(v, Number) or math.isnan(float(v)):
            return math.inf  # unfinished or broken trials last
        return -float(v) if mode == "max" else float(v)

    return key


def write_table(
    rows: list[dict[str, Any]],
    keys: list[str],
    metric: str,
    path_stem: Path,
    extra: list[str] | tuple[str, ...] = ("real_return_std", "imagined_steps"),
    mode: str = "max",
) -> str:
    """Markdown (returned and written) and CSV table of trials, best first (``mode``: whether
    the best metric is the largest or the smallest); ``extra``: result columns after the metric."""
    cols = ["trial", *keys, metric, *extra, "status"]
    rows = sorted(rows, key=_sort_key(metric, mode))
    with open(path_stem.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if v and (abs(v) < 0.01 or abs(v) >= 1e5) else f"{v:.2f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    md = "\n".join(lines) + "\n"
    path_stem.with_suffix(".md").write_text(md)
    return md


def plot_params(rows: list[dict[str, Any]], keys: list[str], metric: str, path: Path) -> None:
    """The metric against each swept parameter (one panel each)."""
    from mosim_ray.eval.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.2 * max(1, len(keys)), 3.6))
    axes = [axes] if not hasattr(axes, "__len__") else list(axes)
    for ax, key in zip(axes, keys):
        xs = [r.get(key) for r in rows if r.get(metric) is not None]
        ys = [r[metric] for r in rows if r.get(metric) is not None]
        if all(isinstance(x, (int, float)) for x in xs):
            ax.plot(xs, ys, "o")
        else:
            labels = sorted({str(x) for x in xs})
            ax.plot([labels.index(str(x)) for x in xs], ys, "o")
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def local_folder(storage: str, name: str) -> Path:
    """Where the table, plot and summary go: ``<storage>/<name>``, or runs/sweeps/<name> when
    ``storage`` is a URI."""
    return (Path(storage) if "://" not in storage else Path("runs/sweeps")) / name
