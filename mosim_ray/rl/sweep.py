"""Tune sweeps over zero-shot runs: each trial is one ``run_zero_shot`` with sampled settings.

Trials report the real-env evaluation return at every evaluation, so ASHA can stop weak ones
early; each trial's policy checkpoint is reported with its last result.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from mosim_ray.config import SweepConfig, with_params


def tune_space(space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sweep file's search space as Tune domains (keys stay dotted run fields)."""
    from ray import tune

    makers = {
        "grid": lambda v: tune.grid_search(list(v)),
        "choice": lambda v: tune.choice(list(v)),
        "uniform": lambda v: tune.uniform(*v),
        "loguniform": lambda v: tune.loguniform(*v),
        "randint": lambda v: tune.randint(*v),
    }
    return {
        key: makers[kind](values) for key, spec in space.items() for kind, values in spec.items()
    }


def make_trainable(sweep: SweepConfig, checkpoint: str):
    """A function trainable running one zero-shot trial, with the sweep's resources."""
    from ray import tune

    from mosim_ray.rl.zero_shot import run_zero_shot

    base = sweep.run

    def trial(params: dict[str, Any]) -> None:
        import torch

        # a trial gets ``cpus_per_trial`` cores: more torch threads would fight the other trials
        torch.set_num_threads(max(1, int(sweep.cpus_per_trial)))
        run = with_params(base, params)
        out = Path(tune.get_context().get_trial_dir())

        def report(point) -> None:
            tune.report({"real_return_mean": point.real_return_mean,
                         "real_return_std": point.real_return_std,
                         "imagined_return_mean": point.train_return_mean,
                         "imagined_steps": point.env_steps})  # fmt: skip

        result = run_zero_shot(run, checkpoint, out, progress=False, on_point=report)
        # not result.json: that name is Tune's own (one JSON line per report)
        (out / "zero_shot_result.json").write_text(json.dumps(result, indent=1))

    resources = {"cpu": sweep.cpus_per_trial, "gpu": sweep.gpus_per_trial}
    return tune.with_resources(trial, resources)


def write_table(rows: list[dict[str, Any]], keys: list[str], metric: str, path_stem: Path) -> str:
    """Markdown (returned and written) and CSV table of trials, best first."""
    cols = ["trial", *keys, metric, "real_return_std", "imagined_steps", "status"]
    rows = sorted(rows, key=lambda r: -float("-inf" if r.get(metric) is None else r[metric]))
    with open(path_stem.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)

    def fmt(v):
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
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
