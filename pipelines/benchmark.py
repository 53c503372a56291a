"""Prediction benchmark against real MuJoCo: world models side by side, horizons 3 / 16 / 100.

    python pipelines/benchmark.py --task reacher-easy --checkpoint pretrained/reacher-easy \
        --baselines structure_free=runs/sf/model ensemble=runs/ens/model \
        --policy runs/real_sac/reacher-easy/policy

Test sets (written once to --data-dir and reused, so every model sees the same segments):
``random``, long real rollouts under Poisson-switching piecewise-constant random actions, and
``policy``, rollouts of a trained RLlib policy (``--policy``, copied beside the data so the set can
be rebuilt) with a little Gaussian action noise. The first --burn-in steps of each episode are
dropped (start-up transients), then at least --segments segments per horizon are cut at random.

Per model, test set and horizon: raw-state MSE, normalized MSE, share of finite rollouts, and the
equivalent horizon: the horizon at which the model's error reaches the reference model's 16-step
error (--reference; default the first baseline, else constant-state). Writes a markdown table,
JSON, an error-against-horizon plot (log scale) and predicted-against-true trajectories to --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mosim_ray.data import EpisodeCollector, RolloutDataset
from mosim_ray.data.processes import ProcessConfig
from mosim_ray.data.shards import shard_name
from mosim_ray.eval.metrics import equivalent_horizon, error_by_step, prediction_errors
from mosim_ray.eval.plots import plot_error_vs_horizon, plot_trajectories
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.tasks import check_task_name, get_spec

TEST_SEED = 777_000  # far from the seeds training data uses


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", required=True)
    p.add_argument("--checkpoint", required=True, help="the MoSim model (folder or pretrained/...)")
    p.add_argument("--baselines", nargs="*", default=[], metavar="NAME=DIR")
    p.add_argument("--horizons", type=int, nargs="+", default=[3, 16, 100])
    p.add_argument("--segments", type=int, default=256, help="segments per horizon (>= 256)")
    p.add_argument(
        "--test-sets", nargs="+", default=["random", "policy"], choices=["random", "policy"]
    )
    p.add_argument(
        "--policy", default=None, help="RLlib checkpoint whose actions make the policy set"
    )
    p.add_argument("--policy-noise", type=float, default=0.1)
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--burn-in", type=int, default=100)
    p.add_argument(
        "--reference", default=None, help="model whose 16-step error defines equivalence"
    )
    p.add_argument("--data-dir", default=None, help="default benchmarks/data/<task>")
    p.add_argument("--out", default=None, help="default benchmarks/results/prediction_<task>")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def test_set(args, kind: str, folder: Path) -> RolloutDataset:
    """Build (once) and open a test set; drop the burn-in of each episode."""
    if not folder.is_dir() or not any(folder.glob("shard-*.parquet")):
        spec = get_spec(args.task)
        if kind == "random":
            collector = EpisodeCollector(args.task, args.steps, ProcessConfig(kind="poisson"))
        else:
            from mosim_ray.rl.policy import RLlibPolicy

            low, high = spec.action_bounds
            policy = RLlibPolicy(args.policy, low, high, noise=args.policy_noise, seed=TEST_SEED)
            shutil.copytree(args.policy, folder / "policy", dirs_exist_ok=True)
            collector = EpisodeCollector(
                args.task, args.steps, ProcessConfig(kind="policy"), policy=policy
            )
        collector.write_shard(folder / shard_name(0), list(range(args.episodes)), seed=TEST_SEED)
    data = RolloutDataset.open(folder)
    b = args.burn_in
    trimmed = [
        replace(
            ep,
            states=ep.states[b:],
            actions=ep.actions[b:],
            rewards=ep.rewards[b:],
            observations=ep.observations[b:],
            contexts=ep.contexts[b:],
        )
        for ep in data.episodes
    ]
    return replace(data, episodes=trimmed)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        if args.segments < 1 or args.burn_in < 0:
            raise ValueError("--segments must be >= 1 and --burn-in >= 0")
        if "policy" in args.test_sets and not args.policy:
            raise ValueError("the policy test set needs --policy (an RLlib checkpoint folder)")
        if args.steps - args.burn_in <= max(args.horizons):
            raise ValueError("--steps minus --burn-in must exceed the longest horizon")
        models = {"mosim": WorldModel.load(args.checkpoint, task=args.task)}
        for item in args.baselines:
            name, sep, path = item.partition("=")
            if not sep:
                raise ValueError(f"--baselines wants NAME=DIR, got {item!r}")
            models[name] = WorldModel.load(path, task=args.task)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    models["constant"] = WorldModel.create(ModelConfig(task=args.task, kind="constant"))
    reference = args.reference or next(
        (n for n in models if n not in ("mosim", "constant")), "constant"
    )
    data_dir = Path(args.data_dir or f"benchmarks/data/{args.task}")
    out = Path(args.out or f"benchmarks/results/prediction_{args.task}")
    out.mkdir(parents=True, exist_ok=True)

    results: dict = {
        "task": args.task,
        "reference": reference,
        "burn_in": args.burn_in,
        "command": " ".join(["python", "pipelines/benchmark.py", *(argv or sys.argv[1:])]),
        "models": {n: getattr(m, "info", {}).get("train_seconds") for n, m in models.items()},
        "sets": {},
    }
    lines = [f"# {args.task}: raw-state MSE against real MuJoCo (normalized MSE in brackets)\n"]
    for kind in args.test_sets:
        data = test_set(args, kind, data_dir / kind)
        hmax = max(args.horizons)
        by_step = {
            n: error_by_step(m, data, hmax, args.segments)["model"] for n, m in models.items()
        }
        ref16 = float(np.mean(by_step[reference][:16]))
        rows = {}
        for name, model in models.items():
            errs = prediction_errors(model, data, tuple(args.horizons), args.segments)
            rows[name] = {
                "errors": [e.as_dict() for e in errs],
                "equivalent_horizon": equivalent_horizon(by_step[name], ref16),
                "error_by_step": by_step[name].tolist(),
            }
        results["sets"][kind] = {
            "episodes": len(data.episodes),
            "steps": data.num_steps,
            "reference_16_step_mse": ref16,
            "models": rows,
        }
        head = " | ".join(f"H={h}" for h in args.horizons)
        lines += [
            f"\n## {kind} actions ({len(data.episodes)} episodes)\n",
            f"| model | {head} | finite (H={hmax}) | equivalent horizon |",
            "|---|" + "---|" * (len(args.horizons) + 2),
        ]
        for name, row in rows.items():
            cells = " | ".join(f"{e['mse']:.4g} ({e['normalized_mse']:.3g})" for e in row["errors"])
            eq = row["equivalent_horizon"]
            eq_text = f"> {hmax}" if eq is None else str(eq)
            lines.append(
                f"| {name} | {cells} | {row['errors'][-1]['finite_share']:.0%} | {eq_text} |"
            )
        plot_error_vs_horizon(
            by_step, out / f"error_vs_horizon_{kind}.png", f"{args.task}, {kind} actions"
        )
        plot_trajectories(models, data, out / f"trajectories_{kind}.png", horizon=min(hmax, 100))
    table = "\n".join(lines) + "\n"
    print(table)
    (out / "table.md").write_text(table)
    (out / "result.json").write_text(json.dumps(results, indent=1))
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
