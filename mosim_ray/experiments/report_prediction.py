"""The report's prediction tables: world models' errors over training seeds, under the paper's
protocol beside its Table 1, on test sets no model trained on (generalisation), and single
benchmark results. Mean ± standard deviation over the reported seeds; a failed (non-finite)
rollout makes a seed's error infinite and the mean n/a."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mosim_ray.experiments.report import REPORTED_SEEDS, fmt
from mosim_ray.experiments.runner import RESULTS, load_seed_files
from mosim_ray.experiments.spec import Experiment


def prediction_rows(
    experiments: list[Experiment], results: Path = RESULTS, table: str = "prediction"
) -> list[dict]:
    """Per prediction (or paper) experiment: each figure's mean, standard deviation and per-seed
    values over its reported seeds."""
    rows = []
    for exp in experiments:
        if exp.report is None or exp.report.table != table:
            continue
        files = [f for f in load_seed_files(exp.name, results) if f["seed"] in REPORTED_SEEDS]
        row = {
            "task": exp.report.task,
            "arm": exp.report.arm,
            "label": exp.report.label,
            "seeds": [f["seed"] for f in files],
            "experiment": exp.name,
            "paper": dict(exp.report.paper),
        }
        for name in exp.report.figures:
            row[name] = _over_seeds(files, name)
        rows.append(row)
    return rows


def _over_seeds(files: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """A figure of the seed files: per seed, mean and standard deviation (None unless every
    seed's is finite)."""
    values = [f.get("figures", {}).get(name, float("nan")) for f in files]
    finite = np.isfinite(values).all() if values else False
    return {
        "per_seed": [_round_sig(v) for v in values],
        "mean": _round_sig(float(np.mean(values))) if finite else None,
        "std": _round_sig(float(np.std(values))) if finite else None,
    }


def generalisation_rows(experiments: list[Experiment], results: Path = RESULTS) -> list[dict]:
    """A row per generalisation experiment, test set and model (the seed files' figures
    ``<set>/<model>/<figure>``): each figure of the report over the reported seeds."""
    rows = []
    for exp in experiments:
        if exp.report is None or exp.report.table != "generalisation":
            continue
        files = [f for f in load_seed_files(exp.name, results) if f["seed"] in REPORTED_SEEDS]
        pairs = dict.fromkeys(
            tuple(key.split("/")[:2]) for f in files for key in f["figures"] if key.count("/") == 2
        )
        for test_set, model in pairs:
            row = {
                "task": exp.report.task,
                "label": exp.report.label,
                "test_set": test_set,
                "model": model,
                "seeds": [f["seed"] for f in files],
                "experiment": exp.name,
            }
            for name in exp.report.figures:
                row[name] = _over_seeds(files, f"{test_set}/{model}/{name}")
            rows.append(row)
    return rows


def generalisation_markdown(rows: list[dict], figures: tuple[str, ...]) -> str:
    """One table: each model on each test set, mean ± standard deviation over seeds, and its
    last figure's mean as a multiple of the structure-free model's on the same set."""
    if not rows:
        return "No generalisation experiment has a finished seed yet.\n"
    last = figures[-1]
    out = [
        f"| task | data | test set | model | seeds | {' | '.join(figures)} | {last} ÷ structure-free |",
        "|---|---|---|---|---:|" + "---|" * len(figures) + "---:|",
    ]
    plain = {
        (r["experiment"], r["test_set"]): r[last]["mean"]
        for r in rows
        if r["model"] == "structure_free"
    }
    for r in rows:
        cells = [_mean_std(r[name]) for name in figures]
        base = plain.get((r["experiment"], r["test_set"]))
        ours = r[last]["mean"]
        ratio = f"{ours / base:.2f}x" if ours is not None and base else ""
        out.append(
            f"| {r['task']} | {r['label']} | {r['test_set']} | {r['model']} | {len(r['seeds'])} | "
            + " | ".join(cells)
            + f" | {ratio} |"
        )
    return "\n".join(out) + "\n"


def _mean_std(f: dict[str, Any]) -> str:
    return "n/a" if f["mean"] is None else f"{f['mean']:.4g} ± {f['std']:.2g}"


def _round_sig(x: float) -> float | None:
    return None if not np.isfinite(x) else float(f"{x:.4g}")


def prediction_markdown(rows: list[dict], figures: tuple[str, ...]) -> str:
    """One table: a world model's held-out figures, mean ± standard deviation over seeds (any
    failed rollout makes a seed's error infinite, and the row's mean n/a)."""
    if not rows:
        return "No prediction experiment has a finished seed yet.\n"
    head = " | ".join(figures)
    out = [
        f"| task | model | data | seeds | {head} |",
        "|---|---|---|---:|" + "---|" * len(figures),
    ]
    for r in sorted(rows, key=lambda r: (r["task"], r["label"], r["arm"])):
        cells = ["" if r.get(name) is None else _mean_std(r[name]) for name in figures]
        out.append(
            f"| {r['task']} | {r['arm']} | {r['label']} | {len(r['seeds'])} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(out) + "\n"


def paper_markdown(rows: list[dict], figures: tuple[str, ...]) -> str:
    """Ours under the paper's protocol beside the paper's Table 1, figure by figure."""
    if not rows:
        return "No paper-protocol experiment has a finished seed yet.\n"
    head = " | ".join(f"{name} ours | paper | ours / paper" for name in figures)
    out = [
        f"| task | model | {head} | failed_h100 |",
        "|---|---|" + "---:|" * (3 * len(figures) + 1),
    ]
    for r in sorted(rows, key=lambda r: r["task"]):
        cells = []
        for name in figures:
            ours, paper = (r.get(name) or {}).get("mean"), r["paper"].get(name)
            ratio = f"{ours / paper:.2g}x" if ours is not None and paper else ""
            cells += [fmt(ours, ".4g"), fmt(paper, ".4g"), ratio]
        failed = (r.get("failed_h100") or {}).get("mean")
        out.append(
            f"| {r['task']} | {r['label']} | " + " | ".join(cells) + f" | {fmt(failed, '.4g')} |"
        )
    return "\n".join(out) + "\n"


def benchmark_markdown(results: list[dict[str, Any]], figures: tuple[str, ...]) -> str:
    """Prediction benchmarks' results (``pipelines/benchmark.py``'s ``result.json``), a row per
    task, test set and model: its figures on that set (``error_figures``)."""
    from mosim_ray.eval.metrics import error_figures

    if not results:
        return "No benchmark result yet.\n"
    out = [
        f"| task | test set | model | {' | '.join(figures)} |",
        "|---|---|---|" + "---:|" * len(figures),
    ]
    for result in sorted(results, key=lambda r: r["task"]):
        for test_set, s in result["sets"].items():
            for model, row in s["models"].items():
                got = error_figures(row["errors"])
                cells = " | ".join(fmt(got.get(name), ".4g") for name in figures)
                out.append(f"| {result['task']} | {test_set} | {model} | {cells} |")
    return "\n".join(out) + "\n"
