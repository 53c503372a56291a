"""Tune sweep from a YAML file in tune_configs/ over any run kind.

    python pipelines/sweep.py --config tune_configs/zero_shot_horizon.yaml --smoke
    python pipelines/sweep.py --config tune_configs/few_shot_schedule.yaml --storage s3://bucket/sweeps
    python pipelines/sweep.py --config tune_configs/model.yaml --resume

The file's ``kind`` says what a trial is (zero_shot, few_shot, on_policy, train, ...: any run
kind) and ``run`` its base settings (the same YAML a pipeline's --config takes, or a path to one).
At the end: a table of trials (markdown and CSV), the best settings, and the metric plotted
against each swept parameter, under <storage>/<sweep name>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from mosim_ray.config import ConfigError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config", required=True, help="sweep YAML (tune_configs/*.yaml)")
    p.add_argument("--smoke", action="store_true", help="apply the file's smoke overlay (minutes)")
    p.add_argument("--storage", default="runs/sweeps", help="folder or URI (s3://...) for results")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change the file by dotted key, YAML value: run.task=reacher-hard, num_samples=3",
    )
    p.add_argument("--address", default=None, help="Ray address (default: a local Ray)")
    args = p.parse_args(argv)
    import ray

    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.tune.run import prepare, run_sweep
    from mosim_ray.tune.sweep_config import load_sweep

    try:
        changes = dict(item.split("=", 1) for item in args.set if "=" in item)
        if len(changes) != len(args.set):
            raise ConfigError("--set wants KEY=VALUE")
        changes = {k: yaml.safe_load(v) for k, v in changes.items()}
        sweep = prepare(load_sweep(args.config, smoke=args.smoke, changes=changes))
        name = sweep.name + ("-smoke" if args.smoke else "")
        storage = args.storage if "://" in args.storage else str(Path(args.storage).resolve())
        started = start_ray(args.address)
        try:
            summary = run_sweep(sweep, storage, name, resume=args.resume)
        finally:
            if started:
                ray.shutdown()
    except (ConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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
