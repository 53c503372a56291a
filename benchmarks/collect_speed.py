"""Real-environment collection throughput: one process vs 1 and 2 RolloutCollector actors.

    python benchmarks/collect_speed.py [--tasks cheetah-run ...] [--episodes 40] [--steps 1000]

For each task, in one run: raw dm_control ``env.step`` per second (uniform actions, no recording),
the plain single-process ``EpisodeCollector`` writing the same shards, and ``collect_shards`` with 1
and 2 actors (actor start-up and Parquet writing included), plus the latency from the call to the
first shard on disk. Writes benchmarks/results/collect_speed.json and collect_speed.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import ray

from mosim_ray.actors.collector import collect_shards
from mosim_ray.data import EpisodeCollector
from mosim_ray.data.rollout import default_episodes_per_shard, plan_shards
from mosim_ray.data.shards import shard_name
from mosim_ray.runs.provenance import provenance
from mosim_ray.tasks import make_simulator, task_names

RESULTS = Path(__file__).parent / "results"


def raw_steps_per_second(task: str, steps: int) -> float:
    sim = make_simulator(task, seed=0)
    low, high = sim.spec.action_bounds
    actions = np.random.default_rng(0).uniform(low, high, size=(steps, sim.spec.nu))
    env = sim.env
    t0 = time.perf_counter()
    for a in actions:
        env.step(a)
    return steps / (time.perf_counter() - t0)


def plain_collector(task: str, episodes: int, steps: int, out: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    col = EpisodeCollector(task, steps)
    first = None
    for i, eps in enumerate(plan_shards(episodes, default_episodes_per_shard(episodes))):
        col.write_shard(out / shard_name(i), eps, seed=0)
        first = first or time.perf_counter() - t0
    return episodes * steps / (time.perf_counter() - t0), first


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", nargs="+", default=task_names())
    p.add_argument("--episodes", type=int, default=40)
    p.add_argument("--steps", type=int, default=1000)
    args = p.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    rows = []
    for task in args.tasks:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            raw = raw_steps_per_second(task, args.episodes * args.steps // 2)
            plain, plain_first = plain_collector(task, args.episodes, args.steps, tmp / "plain")
            actors = {}
            for n in (1, 2):
                s = collect_shards(
                    task, args.episodes, args.steps, tmp / f"a{n}", actors=n, progress=False
                )
                actors[n] = (s.steps_per_second, s.first_shard_seconds)
        row = {
            "task": task,
            "raw_env_steps_per_s": raw,
            "plain_collector_steps_per_s": plain,
            "plain_first_shard_s": plain_first,
            "actors_1_steps_per_s": actors[1][0],
            "actors_1_first_shard_s": actors[1][1],
            "actors_2_steps_per_s": actors[2][0],
            "actors_2_first_shard_s": actors[2][1],
            "ratio_2_actors_to_plain": actors[2][0] / plain,
        }
        # Throughput once the actors are up: when the first shard lands, every actor is about one
        # shard in (n shards in all); the remaining steps over the remaining time.
        shard_steps = default_episodes_per_shard(args.episodes) * args.steps
        total = args.episodes * args.steps
        for n in (1, 2):
            rate, first = actors[n]
            row[f"actors_{n}_after_first_shard_steps_per_s"] = (total - n * shard_steps) / (
                total / rate - first
            )
        row["ratio_2_actors_after_first_shard_to_plain"] = (
            row["actors_2_after_first_shard_steps_per_s"] / plain
        )
        rows.append(row)
        print(
            f"{task:16s} raw {raw:8,.0f}/s  plain {plain:8,.0f}/s  1 actor {actors[1][0]:8,.0f}/s  "
            f"2 actors {actors[2][0]:8,.0f}/s (x{row['ratio_2_actors_to_plain']:.2f})  "
            f"first shard {actors[2][1]:.2f} s",
            flush=True,
        )
    ray.shutdown()
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "episodes": args.episodes,
        "steps": args.steps,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "command": "python benchmarks/collect_speed.py",
        "load_average_end": list(os.getloadavg()),
    }
    record = provenance(" ".join(["python benchmarks/collect_speed.py", *sys.argv[1:]]))
    meta = {**meta, "command": record["command"], "provenance": record}
    (RESULTS / "collect_speed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    plot(rows, RESULTS / "collect_speed.png")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [
        ("raw_env_steps_per_s", "raw env.step"),
        ("plain_collector_steps_per_s", "plain collector"),
        ("actors_1_steps_per_s", "1 actor"),
        ("actors_2_steps_per_s", "2 actors"),
    ]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, (k, label) in enumerate(keys):
        ax.bar(x + (i - 1.5) * 0.2, [r[k] for r in rows], 0.2, label=label)
    ax.set_xticks(x, [r["task"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("environment steps per second")
    ax.set_title("Real rollout collection throughput (2 CPU cores)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
