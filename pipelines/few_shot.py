"""Few-shot MoSim RL: SAC in imagination, the model updated from a trickle of real policy data.

    python pipelines/few_shot.py --task reacher-easy --data data/reacher-easy --real-steps 5000

Starts from a zero-shot model (--checkpoint, default the shipped one) trained on --data. Every
--imagined-per-round imagined steps, --actors Ray tasks run the current policy for
--real-per-round real steps in parallel; every --model-update-every imagined steps the trainer
actor makes one model update and publishes it; imagined episodes reset from real states.
Writes result.json (every count, time by activity, curve), curve.png and the policy to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import ray
import torch

from mosim_ray.eval.plots import plot_rl_curves
from mosim_ray.model.world_model import shipped_model
from mosim_ray.rl.cli import start_ray, write_result
from mosim_ray.rl.few_shot import FewShotRun, run_few_shot
from mosim_ray.rl.loop import parse_overrides
from mosim_ray.tasks import check_task_name


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = FewShotRun()
    p.add_argument("--task", default=defaults.task)
    p.add_argument("--checkpoint", default=None, help="zero-shot model (default pretrained/<task>)")
    p.add_argument(
        "--data", default=None, help="real shards behind the model (default data/<task>)"
    )
    p.add_argument("--real-steps", type=int, default=defaults.real_steps)
    p.add_argument("--imagined-per-round", type=int, default=defaults.imagined_per_round)
    p.add_argument("--real-per-round", type=int, default=defaults.real_per_round)
    p.add_argument("--model-update-every", type=int, default=defaults.model_update_every)
    p.add_argument("--actors", type=int, default=defaults.collectors, help="real collectors")
    p.add_argument("--env-runners", type=int, default=defaults.env_runners)
    p.add_argument("--num-envs", type=int, default=defaults.num_envs)
    p.add_argument("--time-limit", type=int, default=defaults.time_limit)
    p.add_argument("--eval-episodes", type=int, default=defaults.eval_episodes)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--baseline", default=None, help="result JSON of pipelines/real_sac.py")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="default runs/few_shot/<task>")
    p.add_argument("--json", default=None)
    p.add_argument("--address", default=None)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_task_name(args.task)
        overrides = parse_overrides(args.set)
        data = args.data or f"data/{args.task}"
        if not Path(data).is_dir():
            raise ValueError(
                f"no real data at {data}: the trainer starts from the model's training data "
                f"(python pipelines/collect.py --task {args.task} --episodes 200 --steps 500 "
                f"--process poisson --out {data})"
            )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    shipped = None if args.checkpoint else shipped_model(args.task)
    run = FewShotRun(
        task=args.task,
        checkpoint=str(Path(args.checkpoint).resolve()) if args.checkpoint else shipped,
        data=str(Path(data).resolve()),
        real_steps=args.real_steps,
        imagined_per_round=args.imagined_per_round,
        real_per_round=args.real_per_round,
        model_update_every=args.model_update_every,
        collectors=args.actors,
        num_envs=args.num_envs,
        env_runners=args.env_runners,
        time_limit=args.time_limit,
        eval_episodes=args.eval_episodes,
        seed=args.seed,
        overrides=overrides,
    )
    out = Path(args.out or f"runs/few_shot/{args.task}")
    torch.set_num_threads(args.threads)
    start_ray(args.address)
    started = time.perf_counter()
    result = run_few_shot(
        run,
        out,
        on_round=lambda p: print(
            f"  round {p['rounds']}: {p['real_steps']:,} real, {p['imagined_steps']:,} imagined, "
            f"{p['model_updates']} model updates (v{p['model_version']}): real return "
            f"{p['real_return_mean']:.1f} ± {p['real_return_std']:.1f}",
            flush=True,
        ),
    )
    ray.shutdown()
    result["command"] = " ".join(["python", "pipelines/few_shot.py", *(argv or sys.argv[1:])])
    result["wall_s"] = time.perf_counter() - started
    curve = [{"env_steps": p["real_steps"], "real_return_mean": p["real_return_mean"],
              "real_return_std": p["real_return_std"], "train_return_mean": float("nan")}
             for p in result["curve"]]  # fmt: skip
    curves = {"few-shot (x: real steps)": curve}
    if args.baseline:
        base = json.loads(Path(args.baseline).read_text())
        result.update(baseline_sac_real_return_mean=base["real_return_mean"],
                      baseline_sac_env_steps=base["env_steps"])  # fmt: skip
        curves["SAC in the real env (x: real steps)"] = base["curve"]
    plot_rl_curves(curves, out / "curve.png", f"{args.task}: few-shot")
    write_result(result, out, args.json)
    print(f"{args.task}: real return {result['real_return_mean']:.1f} ± "
          f"{result['real_return_std']:.1f} after {result['real_steps']:,} real and "
          f"{result['imagined_steps']:,} imagined steps ({result['wall_s']:.0f} s) -> {out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
