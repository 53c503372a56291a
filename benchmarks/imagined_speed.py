"""Imagined env throughput against the real simulator, on one CPU core.

    python benchmarks/imagined_speed.py [--tasks cheetah-run walker-walk ...] [--seconds 2]

For each task: real steps per second (dm_control ``env.step`` in one process, and our
``RealEnv``), and ``ImaginedVecEnv`` steps per second at N = 1, 64, 256, 1024 imagined robots
with random actions (model step + the task's observation and reward + resets), 1 torch thread,
as one env runner has, over whole reset cycles (every measurement holds the same share of
resets). ``imagined N=256 pool resets`` is the same env started from a pool of real states (as
the few-shot and on-policy schedules reset) instead of a dm_control reset per episode;
``imagined, model step as before (reference) N=256`` is the N=256 env with the model's step as
it was before the speed work (``mosim_ray.model.reference``), timed in the same rounds. The
model is the shipped checkpoint where there is one, else an untrained one of the default
config (same cost). Rounds alternate between variants so that machine noise hits all of them
alike; the median round is reported.

``split_ms_per_step_N256`` says where an env step's time goes at N=256, timed inside the steps
of the median round: the model's forward, the task's observation and reward, the resets (a
dm_control reset of each robot every ``time_limit`` steps) and the rest of the env's
bookkeeping.

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
from copy import deepcopy
from functools import partial
from pathlib import Path

import numpy as np
import torch

from mosim_ray.envs import ImaginedVecEnv, RealEnv, ResetPool
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.reference import reference_step
from mosim_ray.model.world_model import PRETRAINED_DIR
from mosim_ray.tasks import make_simulator

RESULTS = Path(__file__).parent / "results"
SIZES = (1, 64, 256, 1024)
TASKS = ["cheetah-run", "walker-walk", "hopper-hop", "hopper-stand", "reacher-easy"]
TASKS += ["acrobot-swingup"]
TIME_LIMIT = 100
BEFORE = "imagined, model step as before (reference)"


def model_for(task: str) -> tuple[WorldModel, str]:
    if (PRETRAINED_DIR / task).is_dir():
        return WorldModel.load(f"pretrained/{task}"), f"pretrained/{task}"
    return WorldModel.create(ModelConfig(task=task)), "untrained, default ModelConfig"


def with_reference_step(model: WorldModel) -> WorldModel:
    """A copy of ``model`` whose step is the plain one from before the speed work
    (``mosim_ray.model.reference``): the same predictions, the old cost."""
    ref = WorldModel(deepcopy(model.dynamics), model.info)
    ref.dynamics.step = partial(reference_step, ref.dynamics)
    return ref


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
    """Steps per second over whole reset cycles (``time_limit`` steps and the autoreset step
    after them), so that every measurement holds the same share of resets."""
    rng = np.random.default_rng(0)
    cycle = env.time_limit + 1
    acts = rng.uniform(-1, 1, (cycle, env.num_envs, env.spec_.nu)).astype(np.float32)
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < seconds:
        for a in acts:
            env.step(a)
        n += cycle * env.num_envs
    return n / (time.perf_counter() - t0)


class _Clock:
    """Exclusive time spent in named sections (a section inside another counts only once)."""

    def __init__(self):
        self.spent: dict[str, float] = {"model": 0.0, "task_functions": 0.0, "resets": 0.0}
        self._open: list[str] = []

    def timed(self, key: str, fn):
        def call(*args, **kwargs):
            self._open.append(key)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                self._open.pop()
                self.spent[key] += dt
                if self._open:
                    self.spent[self._open[-1]] -= dt

        return call


class _TimedFunctions:
    """The env's task functions (called, or through ``transition``), timed; every other
    attribute passes through."""

    def __init__(self, fns, clock: _Clock):
        self._fns, self._clock = fns, clock

    def __getattr__(self, name: str):
        attr = getattr(self._fns, name)
        return self._clock.timed("task_functions", attr) if name == "transition" else attr

    def __call__(self, *args):
        return self._clock.timed("task_functions", self._fns)(*args)


def timed_rate(env: ImaginedVecEnv, seconds: float) -> tuple[float, dict[str, float]]:
    """``imagined_rate`` with, per env step, the ms spent in the model's forward, the task
    functions, the resets (the task functions of reset states counted as task functions) and
    the rest of the step, all measured inside the same steps."""
    clock = _Clock()
    dynamics, fns = env.model.dynamics, env.fns
    dynamics.step = clock.timed("model", dynamics.step)
    env.fns = _TimedFunctions(fns, clock)
    env._reset_rows = clock.timed("resets", env._reset_rows)
    try:
        t0 = time.perf_counter()
        rate = imagined_rate(env, seconds)
        elapsed = time.perf_counter() - t0
    finally:
        del dynamics.step, env._reset_rows
        env.fns = fns
    calls = rate * elapsed / env.num_envs
    ms = {k: v / calls * 1e3 for k, v in clock.spent.items()}
    ms["other_bookkeeping"] = elapsed / calls * 1e3 - sum(ms.values())
    ms["env_step_total"] = elapsed / calls * 1e3
    return rate, ms


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


def provenance(argv: list[str], script: str = "benchmarks/imagined_speed.py") -> dict:
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return out.stdout.rstrip()

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
        "command": f"python {script} " + " ".join(argv),
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
    before = ImaginedVecEnv(with_reference_step(model), num_envs=256, time_limit=TIME_LIMIT)
    for env in [*envs.values(), pooled, before]:
        env.reset(seed=0)
    rounds: dict[str, list[float]] = {}
    parts: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        rounds.setdefault("dm_control env.step", []).append(real_rate(task, args.seconds, True))
        rounds.setdefault("RealEnv.step", []).append(real_rate(task, args.seconds, False))
        for n, env in envs.items():
            if n == 256:  # timed inside: a few µs a step, under 1% of it
                rate, ms = timed_rate(env, args.seconds)
                for k, v in ms.items():
                    parts.setdefault(k, []).append(v)
                # right after, so that a shared machine's slow swings hit both alike
                before_rate = imagined_rate(before, args.seconds)
                rounds.setdefault(f"{BEFORE} N=256", []).append(before_rate)
            else:
                rate = imagined_rate(env, args.seconds)
            rounds.setdefault(f"imagined N={n}", []).append(rate)
        rounds.setdefault("imagined N=256 pool resets", []).append(
            imagined_rate(pooled, args.seconds)
        )
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    real = med["dm_control env.step"]
    # the round whose N=256 rate is the median one: its parts add up to its total
    middle = int(np.argsort(rounds["imagined N=256"])[len(rounds["imagined N=256"]) // 2])
    parts_med = {k: v[middle] for k, v in parts.items()}
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
    print(
        "\n| task | dm_control steps/s | imagined N=256, step as before | imagined N=256 steps/s "
        "| ratio before | ratio | pool resets ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for task, r in results["tasks"].items():
        s, q = r["steps_per_s"], r["ratio_to_real"]
        b = f"{BEFORE} N=256"
        print(
            f"| {task} | {s['dm_control env.step']:,.0f} | {s[b]:,.0f} | {s['imagined N=256']:,.0f} "
            f"| {q[b]:.2f}x | {q['imagined N=256']:.2f}x | {q['imagined N=256 pool resets']:.2f}x |"
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
        before = r["steps_per_s"].get(f"{BEFORE} N=256")
        if before is not None:
            ax.plot([256], [before], "x", color=f"C{i}")
        ax.axhline(
            r["steps_per_s"]["dm_control env.step"],
            color=f"C{i}",
            ls="--",
            lw=1,
            label=f"{task}: real dm_control",
        )
    ax.set_xlabel(
        "imagined robots N (one batched model call); squares: resets from a pool; "
        "crosses: model step as before"
    )
    ax.set_ylabel("env steps per second (1 core)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
