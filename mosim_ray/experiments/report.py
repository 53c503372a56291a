"""The report: headline rows from the seed files, markdown tables between markers in the docs,
``headline.json`` and plots against the published curves. Nothing typed by hand.

A row is one arm on one task at one real-step count (starting data included), over the reported
seeds (0-99): mean, interquartile mean and a 95% bootstrap interval of the mean, the evaluation
at that count (never the best on the way). An unfinished seed counts at the counts its last save
holds (its partial file; an evaluation there is final), and the row names it (``unfinished``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mosim_ray.experiments import reference
from mosim_ray.experiments.runner import RESULTS, load_seed_files
from mosim_ray.experiments.spec import Experiment
from mosim_ray.experiments.stats import SeedSummary

REPORTED_SEEDS = range(0, 100)
CHOOSING_SEEDS = range(100, 10**9)
SEEDS = {"headline": REPORTED_SEEDS, "choosing": CHOOSING_SEEDS}
STEP_TOLERANCE = 0.01
"""an evaluation counts for step S when it came at S to S * (1 + this): schedules evaluate at the
first iteration past S (a rollout fragment of a few steps later)"""


def value_at(curve: list[dict[str, float]], step: int) -> float | None:
    """The first evaluation at ``step`` (within the tolerance), else None."""
    for point in curve:
        if step <= point["real_steps"] <= step * (1 + STEP_TOLERANCE):
            return float(point["return_mean"])
    return None


def headline_rows(
    experiments: list[Experiment], results: Path = RESULTS, table: str = "headline"
) -> list[dict[str, Any]]:
    """The rows of one table: ``headline`` (seeds 0-99) or ``choosing`` (100 and above)."""
    rows = []
    for exp in experiments:
        if exp.report is None or exp.report.table != table:
            continue
        seeds = SEEDS[table]
        files = [f for f in load_seed_files(exp.name, results, True) if f["seed"] in seeds]
        unfinished = {f["seed"] for f in files if f.get("complete") is False}
        for step in exp.report.steps:
            got = [(f["seed"], value_at(f["curve"], step)) for f in files]
            got = [(s, v) for s, v in got if v is not None]
            summary = SeedSummary(tuple(s for s, _ in got), tuple(v for _, v in got))
            rows.append(
                {
                    "task": exp.report.task,
                    "arm": exp.report.arm,
                    "real_steps": step,
                    **_stats(summary),
                    "unfinished": [s for s in summary.seeds if s in unfinished],
                    "experiment": exp.name,
                }
            )
    return rows


def paired_rows(experiments: list[Experiment], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an arm adds over its matched control (``report.control``): at each step count, the
    difference of the two arms seed by seed, over the seeds both have there (mean, IQM, 95%
    bootstrap interval of the mean difference, and how many seeds the arm is ahead on)."""
    by_key = {(r["task"], r["arm"], r["real_steps"]): r for r in rows}
    paired = []
    for exp in experiments:
        spec = exp.report
        if spec is None or spec.table != "headline" or not spec.control:
            continue
        for step in spec.steps:
            arm = by_key.get((spec.task, spec.arm, step))
            control = by_key.get((spec.task, spec.control, step))
            if arm is None or control is None:
                continue
            theirs = dict(zip(control["seeds"], control["per_seed"]))
            both = [
                (s, v - theirs[s]) for s, v in zip(arm["seeds"], arm["per_seed"]) if s in theirs
            ]
            summary = SeedSummary(tuple(s for s, _ in both), tuple(d for _, d in both))
            paired.append(
                {
                    "task": spec.task,
                    "arm": spec.arm,
                    "control": spec.control,
                    "real_steps": step,
                    **_stats(summary),
                    "seeds_ahead": sum(d > 0 for _, d in both),
                }
            )
    return paired


def paired_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task: each arm minus its matched control, seed by seed."""
    if not rows:
        return "No arm has a matched control yet.\n"
    out = []
    for task in sorted({r["task"] for r in rows}):
        out += [
            f"**{task}**\n",
            "| arm - matched control | real steps | seeds in both | mean difference | IQM | "
            "95% CI of the mean difference | seeds ahead |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for r in sorted((r for r in rows if r["task"] == task), key=lambda r: r["real_steps"]):
            ci = fmt_ci(r["ci95"])
            ahead = f"{r['seeds_ahead']} of {r['n_seeds']}" if r["n_seeds"] else "n/a"
            out.append(
                f"| {r['arm']} - {r['control']} | {r['real_steps']:,} | {r['n_seeds']} | "
                f"{fmt(r['mean'])} | {fmt(r['iqm'])} | {ci} | {ahead} |"
            )
        out.append("")
    return "\n".join(out)


def horizon_rows(experiments: list[Experiment], results: Path = RESULTS) -> list[dict[str, Any]]:
    """A row per grid value of each horizon experiment: the final real return over its
    reported seeds (mean, IQM, 95% bootstrap interval), with the paper's figures."""
    rows = []
    for exp in experiments:
        if exp.report is None or exp.report.table != "horizon" or exp.grid is None:
            continue
        for value in exp.points:
            files = load_seed_files(exp.name, results, point=exp.point(value))
            got = [(f["seed"], f["final"]["return_mean"]) for f in files]
            got = [(s, v) for s, v in got if s in REPORTED_SEEDS]
            summary = SeedSummary(tuple(s for s, _ in got), tuple(v for _, v in got))
            rows.append(
                {
                    "task": exp.report.task,
                    "arm": exp.report.arm,
                    "field": exp.grid.field,
                    "value": value,
                    "real_steps": files[0]["final"]["real_steps"] if files else None,
                    **_stats(summary),
                    "experiment": exp.name,
                    "paper": dict(exp.report.paper),
                }
            )
    return rows


def horizon_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task: the final real return at each value, then the paper's figures."""
    if not rows:
        return "No horizon experiment yet.\n"
    out = []
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        out += [
            f"**{task}** ({mine[0]['arm']}, `{mine[0]['experiment']}`)\n",
            f"| {mine[0]['field']} | real steps | seeds | mean | IQM | 95% CI of the mean |",
            "|---:|---:|---:|---:|---:|---|",
        ]
        for r in mine:
            ci = fmt_ci(r["ci95"])
            steps = "n/a" if r["real_steps"] is None else f"{r['real_steps']:,}"
            out.append(
                f"| {r['value']} | {steps} | {r['n_seeds']} | {fmt(r['mean'])} | "
                f"{fmt(r['iqm'])} | {ci} |"
            )
        paper = mine[0]["paper"]
        if paper:
            out += ["", "Paper, Table 7: " + ", ".join(f"{k} {v:g}" for k, v in paper.items())]
        out.append("")
    return "\n".join(out)


def _stats(summary: SeedSummary) -> dict[str, Any]:
    """A row's figures over its seeds: per seed, mean, IQM, 95% interval of the mean."""
    lo, hi = summary.ci95
    return {
        "n_seeds": summary.n,
        "seeds": list(summary.seeds),
        "per_seed": [round(v, 2) for v in summary.per_seed],
        "mean": _round(summary.mean),
        "iqm": _round(summary.iqm),
        "ci95": [_round(lo), _round(hi)],
    }


def _round(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "n/a" if x is None else format(x, spec)


def fmt_ci(ci: list[float | None]) -> str:
    return "n/a" if ci[0] is None else f"[{ci[0]:.1f}, {ci[1]:.1f}]"


def headline_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task: our arms at each step count, then the published methods there."""
    if not rows:
        return "No experiment has a finished reported seed yet.\n"
    out = []
    for task in sorted({r["task"] for r in rows}):
        mine = [r for r in rows if r["task"] == task]
        out += [
            f"**{task}**\n",
            "| arm | real steps | seeds | mean | IQM | 95% CI of the mean |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in sorted(mine, key=lambda r: (r["real_steps"], r["arm"])):
            ci = fmt_ci(r["ci95"])
            n = (
                f"{r['n_seeds']} ({len(r['unfinished'])} unfinished)"
                if r["unfinished"]
                else r["n_seeds"]
            )
            out.append(
                f"| {r['arm']} | {r['real_steps']:,} | {n} | {fmt(r['mean'])} | "
                f"{fmt(r['iqm'])} | {ci} |"
            )
        steps = sorted({r["real_steps"] for r in mine})
        published = [a for s in steps for a in reference.published(task, s)]
        if published:
            out += [
                "",
                "| published | control steps | seeds | mean | range over seeds |",
                "|---|---:|---:|---:|---|",
            ]
            for a in sorted(published, key=lambda a: (a.env_step, -a.mean)):
                name = reference.NAMES.get(a.method, a.method)
                out.append(
                    f"| {name} | {a.env_step:,} | {a.n_seeds} | {a.mean:.1f} | "
                    f"[{a.low:.1f}, {a.high:.1f}] |"
                )
        out.append("")
    return "\n".join(out)


def replace_between(text: str, name: str, body: str) -> str:
    """``text`` with what lies between ``<!-- report:NAME -->`` and ``<!-- /report:NAME -->``
    replaced by ``body``."""
    start, end = f"<!-- report:{name} -->", f"<!-- /report:{name} -->"
    if start not in text or end not in text:
        raise ValueError(f"markers {start} ... {end} not found")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body.rstrip()}\n{end}{tail}"


def headline_json(
    rows: list[dict[str, Any]],
    paired: list[dict[str, Any]] = (),
    published: list[dict[str, Any]] = (),
) -> str:
    return (
        json.dumps({"rows": rows, "paired": list(paired), "published": list(published)}, indent=1)
        + "\n"
    )
