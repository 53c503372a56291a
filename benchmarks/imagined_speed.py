"""Imagined env throughput against the real simulator, on one CPU core.

    python benchmarks/imagined_speed.py [--tasks reacher-easy cheetah-run] [--seconds 2]

For each task: real steps per second (dm_control ``env.step`` in one process, and our
``RealEnv``), and ``ImaginedVecEnv`` steps per second at N = 1, 64, 256, 1024 imagined robots
with random actions (model step + the task's observation and reward + resets), 1 torch thread,
as one env runner has. The model is the shipped checkpoint where there is one. Rounds alternate
between variants so that machine noise hits all of them alike; the median round is reported.

Writes benchmarks/results/imagined_speed.json and imagined_speed.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from mosim_ray.envs import ImaginedVecEnv, RealEnv
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.world_model import PRETRAINED_DIR

RESULTS = Path(__file__).parent / "results"
SIZES = (1, 64, 256, 1024)


def model_for(task: str) -> WorldModel:
    if (PRETRAINED_DIR / task).is_dir():
        return WorldModel.load(f"pretrained/{task}")
    return WorldModel.create(ModelConfig(task=task))


def real_rate(task: str, seconds: float, raw: bool) -> float:
    env = RealEnv(task)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    low, high = env.action_space.low, env.action_space.high
    acts = rng.uniform(low, high, (1000, len(low)))
    dm_env = env.sim.env
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for a in acts[:200]:
            if raw:
                dm_env.step(a)
            else:
                _, _, _, trunc, _ = env.step(a)
                if trunc:
                    env.reset()
        n += 200
    return n / (time.perf_counter() - t0)


def imagined_rate(env: ImaginedVecEnv, seconds: float) -> float:
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (20, env.num_envs, env.spec_.nu)).astype(np.float32)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for a in acts:
            env.step(a)
        n += len(acts) * env.num_envs
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", nargs="+", default=["reacher-easy", "cheetah-run"])
    p.add_argument("--seconds", type=float, default=2.0, help="per variant per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=str(RESULTS / "imagined_speed.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    results = {
        "machine": platform.processor() or platform.machine(),
        "torch_threads": 1,
        "command": "python benchmarks/imagined_speed.py " + " ".join(argv or []),
        "tasks": {},
    }
    for task in args.tasks:
        model = model_for(task)
        envs = {n: ImaginedVecEnv(model, num_envs=n, time_limit=100) for n in SIZES}
        for env in envs.values():
            env.reset(seed=0)
        rounds: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            rounds.setdefault("dm_control env.step", []).append(real_rate(task, args.seconds, True))
            rounds.setdefault("RealEnv.step", []).append(real_rate(task, args.seconds, False))
            for n, env in envs.items():
                rounds.setdefault(f"imagined N={n}", []).append(imagined_rate(env, args.seconds))
        med = {k: float(np.median(v)) for k, v in rounds.items()}
        real = med["dm_control env.step"]
        results["tasks"][task] = {
            "steps_per_s": med,
            "rounds": rounds,
            "ratio_to_real": {k: v / real for k, v in med.items()},
            "vectorized_reward": envs[1].fns.vectorized,
        }
        print(f"\n{task} (obs/reward {'vectorized' if envs[1].fns.vectorized else 'via MuJoCo'}):")
        for k, v in med.items():
            print(f"  {k:>22}: {v:>10,.0f} steps/s  ({v / real:5.2f}x real)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    plot(results, out.with_suffix(".png"))
    print(f"-> {out}")
    return 0


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, (task, r) in enumerate(results["tasks"].items()):
        rates = [r["steps_per_s"][f"imagined N={n}"] for n in SIZES]
        ax.loglog(SIZES, rates, "o-", color=f"C{i}", label=f"{task}: imagined")
        ax.axhline(
            r["steps_per_s"]["dm_control env.step"],
            color=f"C{i}",
            ls="--",
            lw=1,
            label=f"{task}: real dm_control",
        )
    ax.set_xlabel("imagined robots N (one batched model call)")
    ax.set_ylabel("env steps per second (1 core)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
