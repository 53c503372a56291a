"""Tune sweep over zero-shot runs, from a YAML file in tune_configs/.

    python pipelines/sweep.py --config tune_configs/zero_shot_horizon.yaml --smoke
    python pipelines/sweep.py --config tune_configs/zero_shot_horizon.yaml --storage s3://bucket/sweeps
    python pipelines/sweep.py --config tune_configs/zero_shot_horizon.yaml --resume

Each trial trains a policy in the world model and reports its real-env return at every
evaluation. At the end: a table of trials (markdown and CSV), the best settings, and the metric
plotted against each swept parameter, under <storage>/<sweep name>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ray
from ray import tune

from mosim_ray.config import ConfigError, load_sweep
from mosim_ray.rl.cli import start_ray
from mosim_ray.rl.sweep import make_trainable, plot_params, tune_space, write_table


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
    try:
        sweep = load_sweep(args.config, smoke=args.smoke)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = sweep.name + ("-smoke" if args.smoke else "")
    storage = args.storage if "://" in args.storage else str(Path(args.storage).resolve())
    checkpoint = sweep.run.checkpoint or f"pretrained/{sweep.run.task}"
    if Path(checkpoint).exists():
        checkpoint = str(Path(checkpoint).resolve())  # trials run in their own folders

    start_ray(args.address)
    trainable = make_trainable(sweep, checkpoint)
    scheduler = None
    if sweep.scheduler == "asha":
        scheduler = tune.schedulers.ASHAScheduler(
            time_attr="training_iteration", grace_period=sweep.grace_period
        )
    path = f"{storage}/{name}"
    if args.resume:
        if not tune.Tuner.can_restore(path):
            print(f"error: nothing to resume at {path}", file=sys.stderr)
            return 2
        tuner = tune.Tuner.restore(path, trainable=trainable, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space=tune_space(sweep.search_space),
            tune_config=tune.TuneConfig(
                metric=sweep.metric,
                mode=sweep.mode,
                num_samples=sweep.num_samples,
                scheduler=scheduler,
                max_concurrent_trials=sweep.max_concurrent or None,
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=storage,
                failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
                verbose=1,
            ),
        )
    grid = tuner.fit()

    keys = list(sweep.search_space)
    rows = []
    for r in grid:
        row = {
            "trial": Path(r.path).name if r.path else "?",
            "status": "error" if r.error else "ok",
        }
        row.update({k: r.config.get(k) for k in keys})
        row.update(
            {
                k: (r.metrics or {}).get(k)
                for k in (sweep.metric, "real_return_std", "imagined_steps")
            }
        )
        rows.append(row)
    out = Path(storage) / name if "://" not in storage else Path("runs/sweeps") / name
    out.mkdir(parents=True, exist_ok=True)
    print(write_table(rows, keys, sweep.metric, out / "trials"))
    plot_params(rows, keys, sweep.metric, out / "trials.png")
    finished = [r for r in rows if r.get(sweep.metric) is not None]
    if not finished:
        print("error: no trial reported a result", file=sys.stderr)
        return 1
    best = grid.get_best_result(metric=sweep.metric, mode=sweep.mode)
    summary = {"best_config": best.config, "best_metrics": {k: best.metrics.get(k) for k in
               (sweep.metric, "real_return_std", "imagined_steps")}, "trials": rows}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"best: {best.config} -> {sweep.metric} {best.metrics.get(sweep.metric):.2f}")
    print(f"table, plot and summary: {out}")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
