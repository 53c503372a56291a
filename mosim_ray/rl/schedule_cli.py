"""The command line shared by ``pipelines/few_shot.py`` and ``pipelines/on_policy.py``.

Settings come in three layers, later ones winning: the defaults of ``ScheduleRun`` and
``MoSimSettings``, a ``--config`` run file (YAML), then flags and ``--set mosim.key=value``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from mosim_ray.config import ConfigError, MoSimSettings, ScheduleRun, load_run, with_params


def parse_args(schedule: str, doc: str, argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default=None, help="dm_control task (default reacher-easy)")
    p.add_argument("--config", default=None, help=f"run file (YAML), e.g. configs/{schedule}.yaml")
    p.add_argument("--real-steps", type=int, default=None, help="real-step budget")
    p.add_argument(
        "--actors",
        type=int,
        default=None,
        help="real collectors (few_shot; default: from the cluster)",
    )
    p.add_argument(
        "--env-runners",
        type=int,
        default=None,
        help="RLlib env runners (default: from the cluster)",
    )
    p.add_argument("--num-envs", type=int, default=None, help="envs per env runner")
    p.add_argument(
        "--checkpoint", default=None, help="starting world model (default: the shipped one)"
    )
    p.add_argument(
        "--data",
        default=None,
        help="real shards behind the model (default data/<task> if it exists)",
    )
    p.add_argument("--eval-episodes", type=int, default=None)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any run field: mosim.branch_length=2, overrides.actor_lr=1e-4, seed=1",
    )
    p.add_argument(
        "--baseline", default=None, help="result JSON of pipelines/real_sac.py, plotted beside"
    )
    p.add_argument(
        "--ensemble", default=None, help="result JSON of the same schedule with the ensemble model"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads of the driver's learner")
    p.add_argument("--out", default=None, help=f"default runs/{schedule}/<task>")
    p.add_argument(
        "--json", default=None, help="also write the result here (benchmarks/results/...)"
    )
    p.add_argument(
        "--address", default=None, help="Ray cluster address (default: embedded local Ray)"
    )
    return p.parse_args(argv)


def build_run(schedule: str, args: argparse.Namespace) -> ScheduleRun:
    from mosim_ray.rl.loop import parse_overrides
    from mosim_ray.tasks import check_task_name

    run = load_run(args.config, schedule) if args.config else ScheduleRun()
    mosim = dict(run.mosim)
    flags = {
        "task": args.task,
        "collectors": args.actors,
        "eval_episodes": args.eval_episodes,
        "checkpoint": args.checkpoint and str(Path(args.checkpoint).resolve()),
        "data": args.data and str(Path(args.data).resolve()),
    }
    mosim.update({k: v for k, v in flags.items() if v is not None})
    task = mosim.get("task", MoSimSettings.task)
    check_task_name(task)
    if "data" not in mosim and Path(f"data/{task}").is_dir():
        mosim["data"] = str(Path(f"data/{task}").resolve())
    if schedule == "few_shot" and not mosim.get("data"):
        raise ValueError(
            f"few_shot starts from the model's real training data: --data DIR (make one with "
            f"python pipelines/collect.py --task {task} --episodes 200 --steps 500 "
            f"--process poisson --out data/{task})"
        )
    values = {"mosim": mosim}
    for key, flag in (
        ("real_steps", args.real_steps),
        ("env_runners", args.env_runners),
        ("num_envs", args.num_envs),
    ):
        if flag is not None:
            values[key] = flag
    run = dataclasses.replace(run, **values)
    run = with_params(run, parse_overrides(args.set))
    run.settings(schedule)  # every name and value checked before Ray starts
    return run


def main(schedule: str, doc: str, argv: list[str] | None = None) -> int:
    args = parse_args(schedule, doc, argv)
    try:
        run = build_run(schedule, args)
    except (ValueError, ConfigError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import ray
    import torch

    from mosim_ray.eval.plots import plot_schedule
    from mosim_ray.rl.cli import start_ray, write_result
    from mosim_ray.rl.schedules import run_schedule, schedule_config

    settings = run.settings(schedule)
    out = Path(args.out or f"runs/{schedule}/{settings.task}")
    torch.set_num_threads(args.threads)
    start_ray(args.address)
    started = time.perf_counter()
    config = schedule_config(run, schedule)

    def show(_, p: dict[str, Any]) -> None:
        print(
            f"  {p['real_steps']:,} real, {p['imagined_steps']:,} imagined, "
            f"{p['model_updates']} model updates (v{p['model_version']}), "
            f"{p['policy_updates']:,} policy updates: real return "
            f"{p['real_return_mean']:.1f} ± {p['real_return_std']:.1f}",
            flush=True,
        )

    try:
        result = run_schedule(config, run.real_steps, out, on_eval=show)
    finally:
        ray.shutdown()
    result["command"] = " ".join([f"python pipelines/{schedule}.py", *(argv or sys.argv[1:])])
    result["wall_s"] = time.perf_counter() - started
    result["run"] = dataclasses.asdict(run)
    baseline = None
    if args.baseline:
        baseline = json.loads(Path(args.baseline).read_text())
        result.update(
            baseline_sac_real_return_mean=baseline["real_return_mean"],
            baseline_sac_real_return_std=baseline["real_return_std"],
            baseline_sac_env_steps=baseline["env_steps"],
        )
    if args.ensemble:
        peer = json.loads(Path(args.ensemble).read_text())
        result.update(
            ensemble_real_return_mean=peer["real_return_mean"],
            ensemble_real_return_std=peer["real_return_std"],
        )
    plot_schedule(result, out / "curves.png", baseline)
    write_result(result, out, args.json)
    print(
        f"{settings.task} ({schedule}): real return {result['real_return_mean']:.1f} ± "
        f"{result['real_return_std']:.1f} after {result['real_steps']:,} real and "
        f"{result['imagined_steps']:,} imagined steps ({result['wall_s']:.0f} s) -> {out}"
    )
    return 0
