"""Fit the density penalty's normalizing flow to a world model's real training data.

    python pipelines/fit_density.py --task reacher-easy --data data/reacher-easy \
        --out runs/density/reacher-easy

A zuko masked autoregressive flow over (state, action) of every real transition in --data (the
data the model learned from). Imagined steps far outside it get the penalty
scale * (sigmoid((log p - c) / s) - 1) in MoSimSAC (``penalty.density=<out>``) and in
mosim-imagined (env_config ``density``). Prints the log p quantiles of the data, which is where c
belongs; writes <out>/density.pt, density.json and result.json.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mosim_ray.runs.kind import Report, RunKind
from mosim_ray.runs.names import folder_name


@dataclass(frozen=True)
class FitDensityConfig:
    """A state-action density fitted to real transitions."""

    task: str = "reacher-easy"
    data: str = "data/reacher-easy"
    """real shards (pipelines/collect.py)"""
    kind: str = "maf"
    """maf | nsf (zuko flows)"""
    steps: int = 2000
    """gradient steps"""
    max_transitions: int = 200_000
    """a seeded random subset when the data holds more"""
    seed: int = 0

    def __post_init__(self) -> None:
        from mosim_ray.tasks import check_task_name

        check_task_name(self.task)
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.kind not in ("maf", "nsf"):
            raise ValueError(f"kind must be maf or nsf, got {self.kind!r}")


def run(
    config: FitDensityConfig,
    out: str | Path,
    *,
    report: Report | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    import numpy as np
    import torch

    from mosim_ray.data import RolloutDataset
    from mosim_ray.model.density import DensityConfig, StateActionDensity

    data = RolloutDataset.open(config.data)
    states = np.concatenate([ep.states[:-1] for ep in data.episodes])
    actions = np.concatenate([ep.actions for ep in data.episodes])
    if len(states) > config.max_transitions:
        rng = np.random.default_rng(config.seed)
        pick = rng.choice(len(states), config.max_transitions, False)
        states, actions = states[pick], actions[pick]
    torch.manual_seed(config.seed)
    density = StateActionDensity(DensityConfig(task=config.task, kind=config.kind))
    t0 = time.perf_counter()
    fit = density.fit(states, actions, steps=config.steps, seed=config.seed)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        logp = density.eval().log_prob(states[:20000], actions[:20000]).numpy()
    quantiles = {f"q{q:02d}": float(np.percentile(logp, q)) for q in (1, 5, 50, 95)}
    density.save(out)
    return {
        "task": config.task,
        "data": config.data,
        "transitions": len(states),
        "kind": config.kind,
        "steps": config.steps,
        "seconds": seconds,
        **fit,
        "log_prob_quantiles": quantiles,
        "settings": asdict(config),
    }


def summary(result: dict[str, Any]) -> str:
    q = ", ".join(f"{k} {v:.1f}" for k, v in result["log_prob_quantiles"].items())
    return (
        f"{result['task']}: flow fitted on {result['transitions']:,} transitions in "
        f"{result['seconds']:.0f} s: held-out log p {result['val_log_prob']:.2f}; data log p "
        f"quantiles {q}"
    )


KIND = RunKind(
    name="fit_density",
    config=FitDensityConfig,
    run=run,
    doc=__doc__,
    default_out=lambda c: f"runs/density/{folder_name(c.task)}",
    summary=summary,
    uses_ray=False,
    inputs=("data",),
)
