"""Where a seed's time went, from the ``seconds`` its run recorded: a row per experiment whose
finished seed files carry them (BENCHMARKS.md, ``<!-- report:seed_time -->``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mosim_ray.experiments.report import fmt
from mosim_ray.experiments.runner import RESULTS, load_seed_files
from mosim_ray.experiments.spec import Experiment

ACTIVITIES = (
    "policy_updates",
    "model_training",
    "waiting",
    "imagined_steps",
    "real_collection",
    "evaluation",
    "density_fitting",
    "saving",
)
"""the columns, as ``counts.Seconds`` names them"""
BESIDE = ("model_training",)
"""activities another process does at the same time as the driver's (not part of its wall)"""
CPU = ("driver_cpu", "trainer_cpu")


def seed_wall(data: dict[str, Any]) -> float | None:
    """A seed's wall seconds: its run's own count over every process it had where recorded,
    else the one process's time (its inputs' building included), None when it had several."""
    wall = data["seconds"].get("wall")
    if wall is not None and math.isfinite(wall) and wall > 0:
        return float(wall)
    return float(data["wall_s"]) if len(data.get("segments", [])) == 1 else None


def seed_time_rows(experiments: list[Experiment], results: Path = RESULTS) -> list[dict[str, Any]]:
    """Per experiment, means over its finished seeds that carry ``seconds``: real steps the run
    took (starting data not included), wall seconds, seconds by activity, the part of the wall
    the driver did not time, real steps per wall second and, where recorded, CPU seconds."""
    rows = []
    for exp in experiments:
        seeds = [d for d in load_seed_files(exp.name, results) if "seconds" in d and d["curve"]]
        if not seeds:
            continue
        steps = [d["curve"][-1]["real_steps"] - d["curve"][0]["real_steps"] for d in seeds]
        walls = [seed_wall(d) for d in seeds]
        spent = {a: _mean([d["seconds"].get(a) for d in seeds]) for a in ACTIVITIES + CPU}
        timed = [
            sum(v for a, v in d["seconds"].items() if a in ACTIVITIES and a not in BESIDE)
            for d in seeds
        ]
        rows.append(
            {
                "experiment": exp.name,
                "seeds": [d["seed"] for d in seeds],
                "real_steps": float(np.mean(steps)),
                "wall": _mean(walls),
                **spent,
                "untimed": _mean([None if w is None else w - t for w, t in zip(walls, timed)]),
                "real_steps_per_s": _mean(
                    [None if w is None else s / w for s, w in zip(steps, walls)]
                ),
            }
        )
    return rows


def _mean(values: list[float | None]) -> float | None:
    """The mean of the values, None unless every seed has one (NaN: a resume of a save from
    before its clock existed)."""
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    return float(np.mean(values))


def seed_time_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table, seconds per seed (means over its seeds)."""
    head = ["experiment", "seeds", "real steps run", "wall s", *ACTIVITIES, "untimed"]
    head += ["real steps/s", "driver CPU s", "trainer CPU s"]
    lines = ["| " + " | ".join(h.replace("_", " ") for h in head) + " |"]
    lines.append("|---|---|" + "---:|" * (len(head) - 2))
    for r in rows:
        cells = [f"`{r['experiment']}`", ",".join(map(str, r["seeds"])), f"{r['real_steps']:,.0f}"]
        seconds = [r["wall"], *(r[a] for a in ACTIVITIES), r["untimed"]]
        cells += [fmt(x, ",.0f") for x in seconds] + [fmt(r["real_steps_per_s"], ".1f")]
        cells += [fmt(r[c], ",.0f") for c in CPU]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
