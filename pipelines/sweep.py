"""Tune sweep from a YAML file in tune_configs/: zero-shot, few-shot, on-policy or model runs.

    python pipelines/sweep.py --config tune_configs/zero_shot_horizon.yaml --smoke
    python pipelines/sweep.py --config tune_configs/few_shot_schedule.yaml --storage s3://bucket/sweeps
    python pipelines/sweep.py --config tune_configs/model.yaml --resume

The file's ``kind`` says what a trial is: zero_shot (a policy trained in the world model), few_shot
or on_policy (MoSimSAC to a real-step budget), both reporting the real-env return at every
evaluation; model (a world model trained for a wall-clock budget, reporting its held-out
prediction error). At the end: a table of trials (markdown and CSV), the best settings, and the
metric plotted against each swept parameter, under <storage>/<sweep name>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ray

from mosim_ray.config import ConfigError, load_sweep
from mosim_ray.rl.cli import start_ray
from mosim_ray.rl.sweep import check_space, local_folder, prepare, run_sweep


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config", required=True, help="sweep YAML (tune_configs/*.yaml)")
    p.add_argument("--smoke", action="store_true", help="apply the file's smoke overlay (minutes)")
    p.add_argument("--storage", default="runs/sweeps", help="folder or URI (s3://...) for results")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep")
    p.add_argument("--address", default=None, help="Ray address (default: a local Ray)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    name = None
    try:
        sweep = load_sweep(args.config, smoke=args.smoke)
        name = sweep.name + ("-smoke" if args.smoke else "")
        storage = args.storage if "://" in args.storage else str(Path(args.storage).resolve())
        check_space(sweep)
        sweep = prepare(sweep, local_folder(storage, name))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checkpoint = None
    if sweep.run_kind == "zero_shot":  # the other kinds name their model (or data) in the run
        checkpoint = sweep.run.checkpoint or f"pretrained/{sweep.run.task}"
        if Path(checkpoint).exists():
            checkpoint = str(Path(checkpoint).resolve())  # trials run in their own folders

    start_ray(args.address)
    try:
        summary = run_sweep(sweep, storage, name, checkpoint, resume=args.resume)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        ray.shutdown()
    print(summary["table"])
    if summary["best_config"] is None:
        print("error: no trial reported a finite result", file=sys.stderr)
        return 1
    best = summary["best_metrics"][sweep.metric]
    print(f"best: {json.dumps(summary['best_config'], default=str)} -> {sweep.metric} {best:.4g}")
    print(f"table, plot and summary: {summary['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
