"""The model-free baseline: RLlib SAC (same settings as in imagination) in the real environment.

    python pipelines/real_sac.py --task reacher-easy --env-steps 20000

Judged exactly like the zero-shot policy (``RealEvaluator``), so the two results compare side by
side. Writes result.json, curve.csv, curve.png and the policy checkpoint to --out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ray
import torch

from mosim_ray.eval.plots import plot_rl_curves
from mosim_ray.rl.algorithms import algorithm_config
from mosim_ray.rl.cli import start_ray, write_result
from mosim_ray.rl.envs import REAL, register_envs
from mosim_ray.rl.loop import parse_overrides, train_and_judge
from mosim_ray.tasks import check_task_name


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--algo", default="sac")
    p.add_argument("--env-steps", type=int, default=20_000, help="real steps to train for")
    p.add_argument("--num-envs", type=int, default=1, help="real envs per env runner")
    p.add_argument("--env-runners", type=int, default=0)
    p.add_argument("--time-limit", type=int, default=1000, help="real training episode length")
    p.add_argument("--learning-starts", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=5000)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--eval-time-limit", type=int, default=1000)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch threads of the learner (default 2: 132 vs ~90 updates/s alone on 2 cores; "
        "give 1 to each of two runs side by side)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output folder (default runs/real_sac/<task>)")
    p.add_argument("--json", default=None, help="also write the result JSON here")
    p.add_argument("--address", default=None)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        overrides = parse_overrides(args.set)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/real_sac/{args.task}")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    torch.set_num_threads(args.threads)
    start_ray(args.address)
    register_envs()
    config = algorithm_config(
        args.algo,
        REAL,
        {"task": args.task, "time_limit": args.time_limit},
        num_env_runners=args.env_runners,
        num_envs_per_env_runner=args.num_envs,
        vectorize_mode="vector_entry_point",
        seed=args.seed,
        **({"learning_starts": args.learning_starts} if args.algo == "sac" else {}),
        **overrides,
    )
    curve, final = train_and_judge(
        config,
        args.task,
        args.env_steps,
        args.eval_every,
        args.eval_episodes,
        args.eval_time_limit,
        out,
        progress=not args.no_progress,
        label="real steps",
        on_point=lambda p: print(
            f"  {p.env_steps:>8,} real steps: train return {p.train_return_mean:7.1f}, "
            f"eval {p.real_return_mean:7.1f} ± {p.real_return_std:.1f}",
            flush=True,
        ),
    )
    ray.shutdown()

    result = {
        "task": args.task,
        "algo": args.algo,
        "real_return_mean": final.mean,
        "real_return_std": final.std,
        "real_returns": final.returns.tolist(),
        "eval_episodes": args.eval_episodes,
        "eval_time_limit": args.eval_time_limit,
        "env_steps": curve[-1].env_steps,
        "wall_s": time.perf_counter() - started,
        "curve": [vars(p) for p in curve],
        "command": " ".join(["python", "pipelines/real_sac.py", *(argv or sys.argv[1:])]),
    }
    plot_rl_curves({"SAC in the real env": result["curve"]}, out / "curve.png", args.task)
    write_result(result, out, args.json)
    print(
        f"{args.task}: {final.line()} after {result['env_steps']:,} real steps "
        f"({result['wall_s']:.0f} s) -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
