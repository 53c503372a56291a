"""What one seed costs: on-policy MoSimSAC end to end against its arithmetic floor and peers.

    python benchmarks/schedule_speed.py                       # about 15 minutes
    python benchmarks/schedule_speed.py --quick --json /tmp/s.json   # about 3 minutes, noisier
    python benchmarks/schedule_speed.py --network-dtype bfloat16 \
        --json benchmarks/results/schedule_speed_bfloat16.json   # ours with bfloat16 networks

One process, side by side, on this machine (cheetah-run, 5 policy updates per real step, batch
256, 256x256 networks):

(a) ``floor``: a plain-PyTorch SAC update (eager, 2 threads), measured first and last;
(b) ``on_policy``: MoSimSAC on-policy with the long-branch recipe (20-step branches from the whole
    dataset, one a real step, 10% real batches), trainer updates overlapping the learner, as
    many seeds at once as ``benchmarks/run.py --jobs`` runs them (``--seeds-at-once``, default 2:
    a process per seed, one learner thread each, their real steps per second summed); one seed
    alone; and one seed with ``trainer.overlap=false`` (what the overlap buys);
(c) ``control``: the same updates per real step without a model (real-env SAC, ours);
(d) ``sb3``: Stable-Baselines3's SAC with the same network, batch and updates per step (the peer
    most users would reach for; ``pip install -e '.[bench]'``), on the same real env.

``--network-dtype bfloat16`` runs ours (b and c) with the SAC update's MLPs in bfloat16 (CPU
autocast, ``FastSACConfig.network_dtype``); the floor and Stable-Baselines3 stay float32.
``--trainer-compile`` runs (b)'s model trainer with its step compiled (``trainer.compile``), and
the seeds at once with the eager trainer too, first, for the gain side by side; the compile is
made once before any timing, so the timed runs find it on disk, as every seed after a machine's
first does.

Each on-policy run starts from the shipped cheetah-run model and 10,000 random real steps, and
is timed after learning starts; its real steps per second, plus evaluation every 5,000 real
steps (10 episodes, timed), give the hours a 100k-real-step seed takes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from schedule_peers import control, sb3  # noqa: E402

TASK = "cheetah-run"
UPDATES_PER_REAL_STEP = 5
BATCH = 256
EVAL_EVERY = 5000
RECIPE = {
    "on_policy.branch_from": "dataset",
    "on_policy.branch_length": 20,
    "on_policy.branches_per_real_step": 1.0,
    "on_policy.real_fraction": 0.1,
    "trainer.steps_per_update": 20,
    "overrides.training_intensity": UPDATES_PER_REAL_STEP * BATCH,
}


def floor_updates(seconds: float) -> float:
    import torch
    from sac_floor import floor_updates_per_second

    torch.set_num_threads(2)
    return floor_updates_per_second(17, 6, seconds)  # cheetah-run: obs 17, action 6


def starting_data(folder: Path) -> str:
    from mosim_ray.runs.collect import random_data

    return random_data(TASK, 20, 500, folder, seed=0)


def on_policy(
    real_steps: int,
    data: str,
    out: Path,
    overlap: bool,
    seed: int = 0,
    threads: int = 1,
    dtype: str = "float32",
    trainer_compile: bool = False,
) -> dict[str, Any]:
    from mosim_ray.config import replace_dotted
    from mosim_ray.runs import get_kind

    kind = get_kind("on_policy")
    config = replace_dotted(
        kind.config(task=TASK, data=data, real_steps=real_steps, learning_starts=256),
        {
            **RECIPE,
            "trainer.overlap": overlap,
            "eval.every": 10**9,
            "eval.episodes": 10,
            "seed": seed,
            "threads": threads,
            "overrides.network_dtype": dtype,
            "trainer.compile": trainer_compile,
        },
    )
    result = kind.run(config, out)
    s = result["seconds"]
    busy = result["wall_s"] - s["evaluation"]
    return {
        "real_steps": result["real_steps"],
        "policy_updates": result["policy_updates"],
        "wall_s": result["wall_s"],
        "seconds": s,
        "real_steps_per_s": result["real_steps"] / busy,
        "updates_per_s": result["policy_updates"] / busy,
        "eval_seconds": s["evaluation"] / max(1, len(result["curve"])),
    }


def on_policy_at_once(
    real_steps: int, data: str, out: Path, seeds: int, dtype: str, trainer_compile: bool
) -> dict[str, Any]:
    """``seeds`` on-policy runs at the same time, a process each (as ``run.py --jobs``), one
    learner thread each; their real steps per second summed."""
    import json
    import subprocess

    procs = []
    for seed in range(seeds):
        part = out / f"seed{seed}.json"
        cmd = [sys.executable, __file__, "--worker", str(part), "--steps", str(real_steps)]
        cmd += ["--data", data, "--seed", str(seed), "--network-dtype", dtype]
        cmd += ["--trainer-compile"] if trainer_compile else []
        procs.append((subprocess.Popen(cmd), part))
    runs = []
    for proc, part in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"an on-policy seed failed (exit {proc.returncode})")
        runs.append(json.loads(part.read_text()))
    return {
        "seeds": runs,
        "real_steps_per_s": sum(r["real_steps_per_s"] for r in runs),
        "updates_per_s": sum(r["updates_per_s"] for r in runs),
        "eval_seconds": max(r["eval_seconds"] for r in runs),
    }


def worker(path: Path, steps: int, data: str, seed: int, dtype: str, trainer_compile: bool) -> int:
    """One seed of ``on_policy_at_once``, in its own process and Ray."""
    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.runs.provenance import write_json

    start_ray(num_cpus=2)
    out = path.with_suffix("")
    run = on_policy(
        steps,
        data,
        out,
        overlap=True,
        seed=seed,
        threads=1,
        dtype=dtype,
        trainer_compile=trainer_compile,
    )
    write_json(run, path)
    return 0


def warm_compile(data: str) -> float:
    """Seconds to compile the trainer's step once here, the first update included: the on-disk
    cache the timed runs' trainers then compile from."""
    import torch

    from mosim_ray.data import RolloutDataset
    from mosim_ray.envs.world_models import resolve_world_model
    from mosim_ray.model import WorldModel
    from mosim_ray.train import ContinualConfig, ModelTrainer

    torch.set_num_threads(1)
    start = time.perf_counter()
    model = WorldModel.load(resolve_world_model(TASK, None))
    ModelTrainer(model, RolloutDataset.open(data), ContinualConfig(compile=True)).train(1)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    from mosim_ray.sac.forward import NETWORK_DTYPES

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs: about 3 minutes in all")
    p.add_argument("--json", default=str(HERE / "results" / "schedule_speed.json"))
    p.add_argument("--seeds-at-once", type=int, default=2, help="on-policy seeds run together")
    p.add_argument(
        "--network-dtype",
        choices=NETWORK_DTYPES,
        default="float32",
        help="ours: the SAC update's MLPs in this dtype (CPU autocast)",
    )
    p.add_argument(
        "--trainer-compile",
        action="store_true",
        help="the on-policy runs' model trainer with its step compiled (trainer.compile)",
    )
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(
            args.worker, args.steps, args.data, args.seed, args.network_dtype, args.trainer_compile
        )
    if args.seeds_at_once < 1:
        print("error: --seeds-at-once must be at least 1", file=sys.stderr)
        return 2
    steps = 600 if args.quick else 2500
    floor_s = 5.0 if args.quick else 15.0

    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.runs.provenance import provenance, write_json

    record = provenance(" ".join(["python benchmarks/schedule_speed.py", *(argv or sys.argv[1:])]))
    start_ray(num_cpus=2)
    work = Path(tempfile.mkdtemp(prefix="schedule_speed-"))
    data = starting_data(work / "data")
    compile_s = warm_compile(data) if args.trainer_compile else None
    floor_before = floor_updates(floor_s)
    dtype, k, tc = args.network_dtype, args.seeds_at_once, args.trainer_compile
    runs = {
        # with --trainer-compile, the same seeds at once with the eager trainer first: the
        # compile's gain side by side, in one run
        "on_policy_at_once_eager_trainer": (
            on_policy_at_once(steps, data, work / "at_once_eager", k, dtype, False) if tc else None
        ),
        "on_policy_at_once": on_policy_at_once(steps, data, work / "at_once", k, dtype, tc),
        "on_policy": on_policy(
            steps, data, work / "on_policy", overlap=True, dtype=dtype, trainer_compile=tc
        ),
        "on_policy_serial": on_policy(
            steps, data, work / "serial", overlap=False, dtype=dtype, trainer_compile=tc
        ),
        "control": control(TASK, steps, UPDATES_PER_REAL_STEP, BATCH, work / "control", dtype),
        "sb3": sb3(TASK, steps, UPDATES_PER_REAL_STEP, BATCH),
    }
    floor_after = floor_updates(floor_s)
    floor = (floor_before + floor_after) / 2
    best = runs["on_policy_at_once"]
    floor_steps = floor / UPDATES_PER_REAL_STEP
    evals = 100_000 / EVAL_EVERY

    def hours_per_seed(at_once: dict[str, Any]) -> float:
        # k seeds of 100k real steps at the summed rate, then wall time per seed; each seed's
        # evaluations run beside the others' work (a core each), so they add their own time / k
        rate, evals_s = at_once["real_steps_per_s"], at_once["eval_seconds"]
        return (100_000 / rate + evals * evals_s / k) / 3600

    hours = hours_per_seed(best)
    eager = runs["on_policy_at_once_eager_trainer"]
    alone = runs["on_policy"]
    result = {
        "task": TASK,
        "updates_per_real_step": UPDATES_PER_REAL_STEP,
        "network_dtype": dtype,
        "trainer_compile": tc,
        "first_compile_s": compile_s,
        "eager_trainer_real_steps_per_s": eager["real_steps_per_s"] if eager else None,
        "eager_trainer_hours_per_100k_real_steps": hours_per_seed(eager) if eager else None,
        "trainer_compile_speedup": (
            best["real_steps_per_s"] / eager["real_steps_per_s"] if eager else None
        ),
        "seeds_at_once": k,
        "on_policy_real_steps_per_s": best["real_steps_per_s"],
        "one_seed_real_steps_per_s": alone["real_steps_per_s"],
        "one_seed_hours_per_100k_real_steps": (
            100_000 / alone["real_steps_per_s"] + evals * alone["eval_seconds"]
        )
        / 3600,
        "floor_updates_per_s": floor,
        "floor_updates_per_s_before_after": [floor_before, floor_after],
        "floor_real_steps_per_s": floor_steps,
        "ratio_to_floor": best["real_steps_per_s"] / floor_steps,
        "hours_per_100k_real_steps": hours,
        "overlap_speedup": alone["real_steps_per_s"] / runs["on_policy_serial"]["real_steps_per_s"],
        "ours_updates_per_s": runs["control"]["updates_per_s"],
        "peer_sb3_updates_per_s": None if runs["sb3"] is None else runs["sb3"]["updates_per_s"],
        "runs": runs,
        "quick": args.quick,
        "load_average": list(os.getloadavg()),
        **record,
    }
    write_json(result, args.json)
    keys = (
        "seeds_at_once",
        "on_policy_real_steps_per_s",
        "one_seed_real_steps_per_s",
        "floor_real_steps_per_s",
        "ratio_to_floor",
        "hours_per_100k_real_steps",
        "eager_trainer_hours_per_100k_real_steps",
        "trainer_compile_speedup",
        "overlap_speedup",
        "ours_updates_per_s",
        "peer_sb3_updates_per_s",
    )
    for key in keys:
        value = result[key]
        print(f"{key:>40}: {value:.3f}" if isinstance(value, float) else f"{key:>40}: {value}")
    print(f"-> {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
