"""Collect real MuJoCo rollouts with parallel Ray actors into Parquet shards.

python pipelines/collect.py --task cheetah-run --episodes 20 --steps 1000 --actors 2 --out data/cheetah-run
"""

from __future__ import annotations

import argparse
import sys

import ray

from mosim_ray.actors.collector import collect_shards
from mosim_ray.data import ProcessConfig, RolloutDataset
from mosim_ray.tasks import UnknownTaskError, check_task_name, task_names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--task", required=True, help=f"one of {', '.join(task_names())}, or mjcf:<model.xml>"
    )
    p.add_argument("--episodes", type=int, default=20, help="number of episodes (default 20)")
    p.add_argument(
        "--steps", type=int, default=1000, help="control steps per episode (default 1000)"
    )
    p.add_argument(
        "--actors", type=int, default=None, help="collector actors (default: Ray's CPUs)"
    )
    p.add_argument(
        "--process",
        default="uniform",
        choices=["uniform", "poisson", "ou"],
        help="action process: i.i.d. uniform (the paper's random data), the original MoSim "
        "Poisson-switching sampler, or a smooth Ornstein-Uhlenbeck process",
    )
    p.add_argument(
        "--switch-every", type=float, default=5.0, help="poisson: mean steps between switches"
    )
    p.add_argument(
        "--zero-prob", type=float, default=0.3, help="poisson: probability of a zero action"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--episodes-per-shard", type=int, default=None)
    p.add_argument("--out", default=None, help="output folder (default data/<task>)")
    p.add_argument(
        "--address", default=None, help="Ray cluster address (default: start a local Ray)"
    )
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        process = ProcessConfig(
            kind=args.process, switch_every=args.switch_every, zero_prob=args.zero_prob
        )
    except (UnknownTaskError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = args.out or f"data/{args.task.replace(':', '_').replace('/', '_')}"

    ray.init(
        address=args.address, include_dashboard=False, log_to_driver=False, configure_logging=False
    )
    summary = collect_shards(
        args.task,
        args.episodes,
        args.steps,
        out,
        actors=args.actors,
        process=process,
        seed=args.seed,
        episodes_per_shard=args.episodes_per_shard,
        progress=not args.no_progress,
    )
    ray.shutdown()

    data = RolloutDataset.open(out)  # read back: proves the shards are whole
    print(summary.line())
    print(f"read back {len(data.episodes)} episodes, {data.num_steps:,} steps from {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
