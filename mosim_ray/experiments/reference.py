"""Published DMC learning curves (``benchmarks/reference_curves/``: sources and step conventions
in its README): per method, task and seed, in control steps."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE = Path("benchmarks/reference_curves")
NAMES = {
    "sac_pytorch_sac": "SAC (pytorch_sac)",
    "sac_tdmpc2_repo": "SAC (TD-MPC2 repo)",
    "dreamerv3": "DreamerV3",
    "tdmpc": "TD-MPC",
    "tdmpc2": "TD-MPC2",
    "mrq": "MR.Q",
    "drq": "DR.Q",
    "simbav2_utd2": "SimbaV2",
}


@dataclass(frozen=True)
class AtSteps:
    """A published method's figure at one step count: across its seeds."""

    method: str
    task: str
    n_seeds: int
    env_step: int
    mean: float
    low: float
    high: float


@cache
def at_steps(folder: Path = REFERENCE) -> tuple[AtSteps, ...]:
    with open(folder / "at_steps.csv") as f:
        return tuple(
            AtSteps(
                r["method"],
                r["task"],
                int(r["n_seeds"]),
                int(r["env_step"]),
                float(r["mean"]),
                float(r["min"]),
                float(r["max"]),
            )
            for r in csv.DictReader(f)
        )


def published(task: str, step: int, folder: Path = REFERENCE) -> list[AtSteps]:
    """Every method's published figure on ``task`` at ``step`` control steps."""
    return [a for a in at_steps(folder) if a.task == task and a.env_step == step]


@cache
def curves(folder: Path = REFERENCE) -> dict[tuple[str, str], dict[int, list[float]]]:
    """(method, task) -> env_step -> returns of the seeds evaluated there."""
    out: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    with open(folder / "curves.csv") as f:
        for r in csv.DictReader(f):
            out[(r["method"], r["task"])][int(r["env_step"])].append(float(r["return"]))
    return {k: dict(v) for k, v in out.items()}
