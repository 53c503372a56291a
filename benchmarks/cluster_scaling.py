"""Collection and imagined-step throughput against actors and nodes, on a local multi-node Ray
(``ray.cluster_utils.Cluster``: a head and 1 or 2 worker nodes on this one machine).

    python benchmarks/cluster_scaling.py --seconds 8

Each configuration starts a fresh cluster of W worker nodes (2 logical CPUs each), then runs A
actors spread over them for a fixed time: ``real`` actors step real MuJoCo (reacher-easy, random
actions), ``imagined`` actors step an ``ImaginedVecEnv`` of 256 robots with the shipped model.
Every actor runs one torch thread. The machine has 2 cores whatever the node count, so the curve
is bounded by 2x one actor: what it shows is that the work spreads over nodes and that nothing in
the path serializes it. Writes benchmarks/results/cluster_scaling.{json,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import ray

RESULTS = Path(__file__).parent / "results"


@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
class Stepper:
    """Steps real or imagined reacher-easy for ``seconds``; returns (steps, node id)."""

    def __init__(self, kind: str):
        import torch

        torch.set_num_threads(1)
        self.kind = kind
        if kind == "real":
            from mosim_ray.envs.real import RealEnv

            self.env = RealEnv("reacher-easy", time_limit=1000)
        else:
            from mosim_ray.envs.imagined import ImaginedVecEnv
            from mosim_ray.model import WorldModel

            model = WorldModel.load("pretrained/reacher-easy")
            self.env = ImaginedVecEnv(model, num_envs=256, time_limit=100)
        self.env.reset(seed=0)

    def ready(self) -> bool:
        return True

    def run(self, seconds: float) -> tuple[int, str]:
        rng = np.random.default_rng(0)
        steps, t0 = 0, time.perf_counter()
        space = self.env.action_space
        while time.perf_counter() - t0 < seconds:
            for _ in range(50):
                a = rng.uniform(space.low, space.high).astype(np.float32)
                _, _, term, trunc, _ = self.env.step(a)
                if self.kind == "real":
                    steps += 1
                    if term or trunc:
                        self.env.reset()
                else:
                    steps += self.env.num_envs
        return steps, ray.get_runtime_context().get_node_id()


def measure(workers: int, actors: int, kind: str, seconds: float) -> dict:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(workers):
        cluster.add_node(num_cpus=2)
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    cluster.wait_for_nodes()
    try:
        pool = [Stepper.remote(kind) for _ in range(actors)]
        ray.get([a.ready.remote() for a in pool])
        t0 = time.perf_counter()
        out = ray.get([a.run.remote(seconds) for a in pool])
        wall = time.perf_counter() - t0
    finally:
        ray.shutdown()
        cluster.shutdown()
    steps = sum(s for s, _ in out)
    return {
        "kind": kind,
        "workers": workers,
        "actors": actors,
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": steps / wall,
        "nodes_used": len({n for _, n in out}),
    }


def plot(rows: list[dict], path: Path) -> None:
    from mosim_ray.eval.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind in zip(axes, ("real", "imagined")):
        for w in sorted({r["workers"] for r in rows}):
            pts = sorted(
                (r["actors"], r["steps_per_s"])
                for r in rows
                if r["kind"] == kind and r["workers"] == w
            )
            ax.plot(*zip(*pts), "o-", label=f"{w} worker node(s)")
        ax.set_xlabel("actors")
        ax.set_ylabel("steps/s (all actors)")
        ax.set_title(f"{kind} reacher-easy steps, 2-core machine")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args(argv)
    rows = []
    for kind in ("real", "imagined"):
        for workers in args.workers:
            for actors in args.actors:
                if actors > 2 * workers:  # 2 logical CPUs a node
                    continue
                row = measure(workers, actors, kind, args.seconds)
                rows.append(row)
                print(
                    f"{kind:8s} {workers} node(s) {actors} actor(s): "
                    f"{row['steps_per_s']:10,.0f} steps/s on {row['nodes_used']} node(s)",
                    flush=True,
                )
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "command": "python benchmarks/cluster_scaling.py " + " ".join(argv or sys.argv[1:]),
        "cpu_count": os.cpu_count(),
        "rows": rows,
    }
    (RESULTS / "cluster_scaling.json").write_text(json.dumps(result, indent=1))
    plot(rows, RESULTS / "cluster_scaling.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
