"""Imagined env throughput against the real simulator, on one CPU core.

    python benchmarks/imagined_speed.py [--tasks cheetah-run walker-walk ...] [--seconds 2]

For each task: real steps per second (dm_control ``env.step`` in one process, and our
``RealEnv``), and ``ImaginedVecEnv`` steps per second at N = 1, 64, 256, 1024 imagined robots
with random actions (model step + the task's observation and reward + resets), 1 torch thread,
as one env runner has. ``imagined N=256 pool resets`` is the same env
started from a pool of real states (as the few-shot and on-policy schedules reset) instead of
a dm_control reset per episode. The model is the shipped checkpoint where there is one, else
an untrained one of the default config (same cost). Rounds alternate between variants so that
machine noise hits all of them alike; the median round is reported.

``split_ms_per_step_N256`` says where an env step's time goes at N=256: the model's forward,
the task's observation and reward, the resets (a reset of all N every ``time_limit`` steps,
per step), and the rest of the env's bookkeeping (the step's total minus those).

Writes benchmarks/results/imagined_speed.json and imagined_speed.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from mosim_ray.envs import ImaginedVecEnv, RealEnv, ResetPool
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.world_model import PRETRAINED_DIR
from mosim_ray.tasks import make_simulator

RESULTS = Path(__file__).parent / "results"
SIZES = (1, 64, 256, 1024)
TASKS = ["cheetah-run", "walker-walk", "hopper-hop", "hopper-stand", "reacher-easy"]
TASKS += ["acrobot-swingup"]
TIME_LIMIT = 100


def model_for(task: str) -> tuple[WorldModel, str]:
    if (PRETRAINED_DIR / task).is_dir():
        return WorldModel.load(f"pretrained/{task}"), f"pretrained/{task}"
    return WorldModel.create(ModelConfig(task=task)), "untrained, default ModelConfig"


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


def real_pool(task: str, episodes: int = 20, steps: int = 100) -> ResetPool:
    """States of real episodes under random actions: a stand-in for a replay buffer."""
    sim = make_simulator(task, seed=0)
    rng = np.random.default_rng(0)
    states, contexts = [], []
    for ep in range(episodes):
        sim.reset(ep)
        for _ in range(steps):
            sim.step(rng.uniform(-1, 1, sim.spec.nu))
            states.append(sim.state())
            contexts.append(sim.context())
    return ResetPool(np.array(states), np.array(contexts))


def _per_call_ms(fn, seconds: float) -> float:
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n * 1e3


def split(env: ImaginedVecEnv, seconds: float) -> dict[str, float]:
    """ms per env step at env.num_envs spent in the model, the task functions and the resets."""
    states, contexts = env._states.copy(), env._contexts.copy()
    actions = np.random.default_rng(0).uniform(-1, 1, (env.num_envs, env.spec_.nu))
    actions = actions.astype(np.float32)
    s, a = torch.as_tensor(states, dtype=torch.float32), torch.from_numpy(actions)
    with torch.inference_mode():
        model = _per_call_ms(lambda: env.model.dynamics.step(s, a), seconds)
    functions = _per_call_ms(lambda: env.fns(states, actions, contexts), seconds)
    everyone = np.ones(env.num_envs, bool)
    resets = _per_call_ms(lambda: env._reset_rows(everyone), seconds) / env.time_limit
    return {"model": model, "task_functions": functions, "resets": resets}


def provenance(argv: list[str]) -> dict:
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return out.stdout.strip()

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "machine": f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        "git_sha": git("rev-parse", "HEAD"),
        "git_dirty_files": git("status", "--porcelain", "--untracked-files=no").splitlines(),
        "command": "python benchmarks/imagined_speed.py " + " ".join(argv),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "mujoco": __import__("mujoco").__version__,
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", nargs="+", default=TASKS)
    p.add_argument("--seconds", type=float, default=2.0, help="per variant per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=str(RESULTS / "imagined_speed.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    load_start = os.getloadavg()[0]
    results = {**provenance(argv), "torch_threads": 1, "time_limit": TIME_LIMIT, "tasks": {}}
    for task in args.tasks:
        results["tasks"][task] = bench_task(task, args)
    # the machine may be shared: its load during the run says how noisy the numbers are
    results["load_average_1min_start_end"] = [load_start, os.getloadavg()[0]]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    plot(results, out.with_suffix(".png"))
    print_table(results)
    print(f"-> {out}")
    return 0


def bench_task(task: str, args) -> dict:
    model, source = model_for(task)
    envs = {n: ImaginedVecEnv(model, num_envs=n, time_limit=TIME_LIMIT) for n in SIZES}
    pooled = ImaginedVecEnv(model, num_envs=256, time_limit=TIME_LIMIT, reset_pool=real_pool(task))
    for env in [*envs.values(), pooled]:
        env.reset(seed=0)
    rounds: dict[str, list[float]] = {}
    parts: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        rounds.setdefault("dm_control env.step", []).append(real_rate(task, args.seconds, True))
        rounds.setdefault("RealEnv.step", []).append(real_rate(task, args.seconds, False))
        for n, env in envs.items():
            rounds.setdefault(f"imagined N={n}", []).append(imagined_rate(env, args.seconds))
        rounds.setdefault("imagined N=256 pool resets", []).append(
            imagined_rate(pooled, args.seconds)
        )
        for k, v in split(envs[256], args.seconds / 2).items():
            parts.setdefault(k, []).append(v)
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    real = med["dm_control env.step"]
    parts_med = {k: float(np.median(v)) for k, v in parts.items()}
    total = 256 / med["imagined N=256"] * 1e3
    parts_med["other_bookkeeping"] = total - sum(parts_med.values())
    parts_med["env_step_total"] = total
    entry = {
        "steps_per_s": med,
        "rounds": rounds,
        "ratio_to_real": {k: v / real for k, v in med.items()},
        "vectorized_reward": envs[1].fns.vectorized,
        "model": source,
        "model_substeps": int(getattr(model.dynamics, "substeps", 1)),
        "split_ms_per_step_N256": parts_med,
        "split_rounds_ms": parts,
    }
    how = "vectorized" if entry["vectorized_reward"] else "via MuJoCo"
    print(f"\n{task} (obs/reward {how}; model {source}):")
    for k, v in med.items():
        print(f"  {k:>28}: {v:>10,.0f} steps/s  ({v / real:5.2f}x real)")
    print("  ms per step at N=256: " + ", ".join(f"{k} {v:.2f}" for k, v in parts_med.items()))
    return entry


def print_table(results: dict) -> None:
    print("\n| task | dm_control steps/s | imagined N=256 steps/s | ratio | pool resets ratio |")
    print("|---|---|---|---|---|")
    for task, r in results["tasks"].items():
        s, q = r["steps_per_s"], r["ratio_to_real"]
        print(
            f"| {task} | {s['dm_control env.step']:,.0f} | {s['imagined N=256']:,.0f} "
            f"| {q['imagined N=256']:.2f}x | {q['imagined N=256 pool resets']:.2f}x |"
        )


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (task, r) in enumerate(results["tasks"].items()):
        rates = [r["steps_per_s"][f"imagined N={n}"] for n in SIZES]
        ax.loglog(SIZES, rates, "o-", color=f"C{i}", label=f"{task}: imagined")
        pool = r["steps_per_s"].get("imagined N=256 pool resets")
        if pool is not None:
            ax.plot([256], [pool], "s", color=f"C{i}", mfc="none")
        ax.axhline(
            r["steps_per_s"]["dm_control env.step"],
            color=f"C{i}",
            ls="--",
            lw=1,
            label=f"{task}: real dm_control",
        )
    ax.set_xlabel("imagined robots N (one batched model call); squares: resets from a pool")
    ax.set_ylabel("env steps per second (1 core)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
