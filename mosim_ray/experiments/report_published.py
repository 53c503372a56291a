"""Our arms against the published curves, seed set against seed set: the difference of the
means with a 95% bootstrap interval that resamples both sides' seeds, so that a gap can be told
from the spread of a few seeds (the published methods have 3 or 10 seeds, ours 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mosim_ray.experiments import reference
from mosim_ray.experiments.report import fmt, fmt_ci
from mosim_ray.experiments.stats import bootstrap_difference_ci

ALWAYS_COMPARED = ("sac_pytorch_sac",)
"""compared with every arm where it has seeds: the SAC whose strength the ``sac`` arm is held to;
besides it, each row meets the method with the highest published mean at its step count"""


def published_rows(
    rows: list[dict[str, Any]], min_seeds: int = 2, folder: Path = reference.REFERENCE
) -> list[dict[str, Any]]:
    """Per headline row with at least ``min_seeds`` seeds and a published method with per-seed
    figures at its step count: ours minus theirs (mean difference, its 95% bootstrap interval,
    ratio of the means)."""
    curves = reference.curves(folder)
    out = []
    for r in rows:
        if r["n_seeds"] < min_seeds:
            continue
        task, step = r["task"], r["real_steps"]
        there = {m: seeds[step] for (m, t), seeds in curves.items() if t == task and step in seeds}
        if not there:
            continue
        best = max(there, key=lambda m: np.mean(there[m]))
        methods = [m for m in ALWAYS_COMPARED if m in there]
        methods += [best] if best not in methods else []
        ours = np.array(r["per_seed"], dtype=np.float64)
        for method in methods:
            theirs = np.array(there[method], dtype=np.float64)
            lo, hi = bootstrap_difference_ci(ours, theirs)
            mean_theirs = float(theirs.mean())
            out.append(
                {
                    "task": task,
                    "arm": r["arm"],
                    "real_steps": step,
                    "n_seeds": r["n_seeds"],
                    "mean": r["mean"],
                    "published": method,
                    "published_best_here": method == best,
                    "published_n_seeds": len(theirs),
                    "published_mean": round(mean_theirs, 2),
                    "difference": round(float(ours.mean()) - mean_theirs, 2),
                    "ci95": [round(lo, 2), round(hi, 2)],
                    "ratio": round(float(ours.mean()) / mean_theirs, 3) if mean_theirs else None,
                }
            )
    return out


def published_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task: each arm beside published SAC and the best published method at the
    same count of real (control) steps."""
    if not rows:
        return "No arm has two seeds at a count where a published curve has per-seed figures.\n"
    out = []
    for task in sorted({r["task"] for r in rows}):
        out += [
            f"**{task}**\n",
            "| arm | real steps | seeds | mean | published | seeds | mean | ours - published | "
            "95% CI of the difference | ours ÷ published |",
            "|---|---:|---:|---:|---|---:|---:|---:|---|---:|",
        ]
        mine = [r for r in rows if r["task"] == task]
        for r in sorted(mine, key=lambda r: (r["real_steps"], r["arm"], r["published"])):
            name = reference.NAMES.get(r["published"], r["published"])
            name += ", best here" if r["published_best_here"] else ""
            ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
            out.append(
                f"| {r['arm']} | {r['real_steps']:,} | {r['n_seeds']} | {fmt(r['mean'])} | "
                f"{name} | {r['published_n_seeds']} | {fmt(r['published_mean'])} | "
                f"{r['difference']:+.1f} | {fmt_ci(r['ci95'])} | {ratio} |"
            )
        out.append("")
    return "\n".join(out)
