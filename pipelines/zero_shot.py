"""Zero-shot MoSim RL: a policy learns only inside the world model, then acts in real MuJoCo.

    python pipelines/zero_shot.py --task reacher-easy                 # shipped model, minutes
    python pipelines/zero_shot.py --task reacher-easy --collect-episodes 200 --train-minutes 10

Steps: (1) a world model: the given --checkpoint, the shipped one for the task, or one trained
here on random real data collected by Ray actors; (2) RLlib SAC (or --algo ppo) in N imagined
robots per env runner (``mosim-imagined``); (3) real-env evaluation of the policy every
--eval-every imagined steps and at the end. Real steps used: only the model's random data.

Writes to --out: result.json, curve.csv, curve.png, the RLlib checkpoint of the policy (policy/).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import ray
import torch

from mosim_ray.config import ZeroShotRun
from mosim_ray.envs.imagined import check_same_physics
from mosim_ray.eval.plots import plot_rl_curves
from mosim_ray.model import WorldModel
from mosim_ray.model.world_model import shipped_model
from mosim_ray.rl.cli import start_ray, write_result
from mosim_ray.rl.loop import parse_overrides
from mosim_ray.rl.zero_shot import run_zero_shot
from mosim_ray.tasks import check_task_name

HERE = Path(__file__).resolve().parent


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--checkpoint", default=None, help="world model (default: pretrained/<task>)")
    p.add_argument(
        "--collect-episodes",
        type=int,
        default=0,
        help="train a fresh model on this many random real episodes instead",
    )
    p.add_argument("--collect-steps", type=int, default=500, help="steps per collected episode")
    p.add_argument("--train-minutes", type=float, default=5.0)
    p.add_argument("--algo", default="sac", help="registered algorithm (sac, ppo)")
    p.add_argument("--imagined-steps", type=int, default=20_000)
    p.add_argument("--num-envs", type=int, default=16, help="imagined robots per env runner")
    p.add_argument("--env-runners", type=int, default=0, help="remote env runners (0: in-process)")
    p.add_argument("--time-limit", type=int, default=100, help="imagined episode length")
    p.add_argument("--learning-starts", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=5000, help="imagined steps between evals")
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--eval-time-limit", type=int, default=1000, help="real episode length")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="RLlib config override, JSON value (e.g. --set train_batch_size_per_learner=128)",
    )
    p.add_argument("--baseline", default=None, help="result JSON of pipelines/real_sac.py")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch threads of the learner (default 2: 132 vs ~90 updates/s alone on 2 cores; "
        "give 1 to each of two runs side by side)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output folder (default runs/zero_shot/<task>)")
    p.add_argument("--json", default=None, help="also write the result JSON here")
    p.add_argument("--address", default=None, help="Ray address (default: a local Ray)")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def world_model(args, out: Path) -> tuple[str, int]:
    """(checkpoint, real steps behind it): given, shipped, or collected and trained here."""
    if args.collect_episodes > 0:
        data, run = out / "data", out / "model_run"
        common = ["--task", args.task, "--seed", str(args.seed)]
        quiet = ["--no-progress"] if args.no_progress else []
        subprocess.run(
            [
                sys.executable,
                str(HERE / "collect.py"),
                *common,
                "--out",
                str(data),
                "--episodes",
                str(args.collect_episodes),
                "--steps",
                str(args.collect_steps),
                "--process",
                "poisson",
                *quiet,
            ],
            check=True,
        )
        subprocess.run(
            [
                sys.executable,
                str(HERE / "train.py"),
                *common,
                "--data",
                str(data),
                "--out",
                str(run),
                "--minutes",
                str(args.train_minutes),
                *quiet,
            ],
            check=True,
        )
        return str(run / "model"), args.collect_episodes * args.collect_steps
    checkpoint = args.checkpoint or shipped_model(args.task)
    model = WorldModel.load(checkpoint)
    check_same_physics(model.task, args.task)
    return checkpoint, int(model.info.get("data", {}).get("real_steps", 0))


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        overrides = parse_overrides(args.set)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/zero_shot/{args.task}")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    # 1. the world model
    try:
        checkpoint, real_steps = world_model(args, out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checkpoint = str(Path(checkpoint).resolve()) if Path(checkpoint).exists() else checkpoint
    print(f"world model: {checkpoint} (trained on {real_steps:,} real steps)")

    # 2. SAC inside the model, judged in the real env as it goes
    run = ZeroShotRun(
        task=args.task,
        checkpoint=checkpoint,
        algo=args.algo,
        imagined_steps=args.imagined_steps,
        num_envs=args.num_envs,
        env_runners=args.env_runners,
        time_limit=args.time_limit,
        learning_starts=args.learning_starts,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        eval_time_limit=args.eval_time_limit,
        seed=args.seed,
        overrides=overrides,
    )
    torch.set_num_threads(args.threads)
    start_ray(args.address)
    result = run_zero_shot(
        run,
        checkpoint,
        out,
        progress=not args.no_progress,
        on_point=lambda p: print(
            f"  {p.env_steps:>8,} imagined steps: imagined return {p.train_return_mean:7.1f}, "
            f"real {p.real_return_mean:7.1f} ± {p.real_return_std:.1f}",
            flush=True,
        ),
    )
    ray.shutdown()

    # 3. results
    result.update(
        real_steps=real_steps,
        wall_s=time.perf_counter() - started,
        command=" ".join(["python", "pipelines/zero_shot.py", *(argv or sys.argv[1:])]),
    )
    label = f"zero-shot, imagined episodes of {args.time_limit} steps (x: imagined steps)"
    curves = {label: result["curve"]}
    if args.baseline:
        base = json.loads(Path(args.baseline).read_text())
        result["baseline_sac_real_return_mean"] = base["real_return_mean"]
        result["baseline_sac_real_return_std"] = base["real_return_std"]
        result["baseline_sac_env_steps"] = base["env_steps"]
        result["baseline_command"] = base["command"]
        curves["SAC in the real env (x: real steps)"] = base["curve"]
    plot_rl_curves(
        curves, out / "curve.png", f"{args.task}: zero-shot {args.algo.upper()} in MoSim"
    )
    write_result(result, out, args.json)
    print(
        f"{args.task}: real return {result['real_return_mean']:.1f} ± {result['real_return_std']:.1f} "
        f"after {result['imagined_steps']:,} imagined steps "
        f"and {real_steps:,} real steps ({result['wall_s']:.0f} s) -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
