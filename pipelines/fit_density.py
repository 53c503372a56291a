"""Fit the density penalty's normalizing flow to a world model's real training data.

    python pipelines/fit_density.py --task reacher-easy --data data/reacher-easy \
        --out runs/density/reacher-easy

A zuko masked autoregressive flow over (state, action) of every real transition in --data (the
data the model learned from). Imagined steps far outside it get the penalty
scale * (sigmoid((log p - c) / s) - 1) in MoSimSAC (mosim(density=<out>, penalty_c=..., ...)) and
in mosim-imagined (env_config density=<out>). Prints the log p quantiles of the data, which is
where c belongs; writes <out>/density.pt, density.json and fit.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from mosim_ray.data import RolloutDataset
from mosim_ray.model.density import DensityConfig, StateActionDensity
from mosim_ray.tasks import check_task_name


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", required=True)
    p.add_argument("--data", required=True, help="real shards (pipelines/collect.py)")
    p.add_argument("--out", required=True)
    p.add_argument("--kind", default="maf", choices=["maf", "nsf"])
    p.add_argument("--steps", type=int, default=2000, help="gradient steps")
    p.add_argument("--max-transitions", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        if args.steps < 1:
            raise ValueError("--steps must be >= 1")
        data = RolloutDataset.open(args.data)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    states = np.concatenate([ep.states[:-1] for ep in data.episodes])
    actions = np.concatenate([ep.actions for ep in data.episodes])
    if len(states) > args.max_transitions:
        pick = np.random.default_rng(args.seed).choice(len(states), args.max_transitions, False)
        states, actions = states[pick], actions[pick]
    torch.manual_seed(args.seed)
    density = StateActionDensity(DensityConfig(task=args.task, kind=args.kind))
    t0 = time.perf_counter()
    fit = density.fit(states, actions, steps=args.steps, seed=args.seed)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        logp = density.eval().log_prob(states[:20000], actions[:20000]).numpy()
    quantiles = {f"q{q:02d}": float(np.percentile(logp, q)) for q in (1, 5, 50, 95)}
    out = density.save(args.out)
    report = {
        "task": args.task,
        "data": args.data,
        "transitions": len(states),
        "kind": args.kind,
        "steps": args.steps,
        "seconds": seconds,
        **fit,
        "log_prob_quantiles": quantiles,
    }
    (out / "fit.json").write_text(json.dumps(report, indent=1))
    print(
        f"{args.task}: flow fitted on {len(states):,} transitions in {seconds:.0f} s: "
        f"held-out log p {fit['val_log_prob']:.2f}; data log p quantiles "
        + ", ".join(f"{k} {v:.1f}" for k, v in quantiles.items())
        + f" -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
