"""Running a sweep: one generic trainable for every run kind, through the registry.

Each trial is ``kind.run(config, trial_dir, report=tune.report)`` with the search-space values
set on the base run (a trial whose folder holds a save of its run, from ``checkpoint_every``,
resumes from it: a retried trial, or a trial of a sweep restored with ``--resume``); its torch threads are its ``cpus_per_trial``; its resources are the kind's
``trial_resources`` where the kind has actors of its own to place (the schedules), else its CPUs
and GPUs. ``run_sweep`` runs a checked sweep on the Ray the caller started and writes its table,
plot and summary.
"""

from __future__ import annotations

import dataclasses
import json
from numbers import Number
from pathlib import Path
from typing import Any

from mosim_ray.config import ConfigError, from_dict, to_dict
from mosim_ray.runs import get_kind
from mosim_ray.runs.kind import check_inputs
from mosim_ray.tune.sweep_config import SweepConfig, with_params
from mosim_ray.tune.tables import finite, local_folder, plot_params, write_table

RESERVED = {"done", "training_iteration", "trial_id", "timestamp", "time_total_s"}
"""Tune's own result keys: never reported by a trial."""


def tune_space(space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sweep file's search space as Tune domains (keys stay dotted run fields)."""
    from ray import tune

    makers = {
        "grid": lambda v: tune.grid_search(list(v)),
        "choice": lambda v: tune.choice(list(v)),
        "uniform": lambda v: tune.uniform(*v),
        "loguniform": lambda v: tune.loguniform(*v),
        "randint": lambda v: tune.randint(*v),
    }
    return {k: makers[kind](v) for k, spec in space.items() for kind, v in spec.items()}


def numbers(point: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a result point (Tune's reserved keys left out)."""
    return {
        k: (int(v) if isinstance(v, (bool, int)) else float(v))
        for k, v in point.items()
        if isinstance(v, Number) and k not in RESERVED
    }


def absolute_paths(run: Any) -> Any:
    """The run with every relative path that exists made absolute (trials run in their own
    folders)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, str) and node and Path(node).exists():
            return str(Path(node).resolve())
        return node

    return from_dict(type(run), walk(to_dict(run)))


def prepare(sweep: SweepConfig) -> SweepConfig:
    """The sweep with its inputs checked and its paths made absolute, before any trial."""
    kind = get_kind(sweep.run_kind)
    check_inputs(kind, sweep.run)
    return dataclasses.replace(sweep, run=absolute_paths(sweep.run))


def trial_config(base: Any, params: dict[str, Any], threads: int, out: Path | None = None) -> Any:
    """One trial's run: the base run with its search-space values, the trial's torch threads,
    and, when its folder holds a save of its run (``checkpoint_every``), resuming from it: a
    retried trial, or a trial of a sweep restored with ``--resume``, goes on where it stopped."""
    config = with_params(base, params)
    fields = to_dict(config)
    if "threads" in fields:
        config = with_params(config, {"threads": threads})
    if out is not None and "resume" in fields and (out / "checkpoint").is_dir():
        config = with_params(config, {"resume": True})
    return config


def make_trainable(sweep: SweepConfig):
    """The function trainable of the sweep's kind, with its resources."""
    from ray import tune

    kind, base = get_kind(sweep.run_kind), sweep.run
    threads = max(1, int(sweep.cpus_per_trial))

    def config_of(params: dict[str, Any]) -> Any:
        return trial_config(base, params, threads)

    def trial(params: dict[str, Any]) -> None:
        import torch

        torch.set_num_threads(threads)
        out = Path(tune.get_context().get_trial_dir())
        config = trial_config(base, params, threads, out)
        result = kind.run(config, out, report=lambda p: tune.report(numbers(p)))
        # not result.json: that name is Tune's own (one JSON line per report)
        (out / f"{kind.name}_result.json").write_text(json.dumps(result, indent=1, default=str))

    if kind.trial_resources is not None:
        cpus, gpus = sweep.cpus_per_trial, sweep.gpus_per_trial
        return tune.with_resources(
            trial, lambda params: kind.trial_resources(config_of(params), cpus, gpus)
        )
    return tune.with_resources(trial, {"cpu": sweep.cpus_per_trial, "gpu": sweep.gpus_per_trial})


def run_sweep(
    sweep: SweepConfig,
    storage: str,
    name: str,
    resume: bool = False,
    verbose: int = 1,
    callbacks: list | None = None,
) -> dict[str, Any]:
    """Run ``sweep`` with Tune on the Ray already started; write ``trials.md``, ``trials.csv``,
    ``trials.png`` and, when a trial finished, ``summary.json`` under
    ``local_folder(storage, name)``. Returns the summary (``best_config`` None when no trial
    reported a finite metric) with the markdown ``table`` and the ``out`` folder."""
    from ray import tune

    sweep = prepare(sweep)
    trainable = make_trainable(sweep)
    scheduler = None
    if sweep.scheduler == "asha":
        scheduler = tune.schedulers.ASHAScheduler(
            time_attr="training_iteration", grace_period=sweep.grace_period
        )
    path = f"{storage}/{name}"
    if resume:
        if not tune.Tuner.can_restore(path):
            raise ConfigError(f"nothing to resume at {path}")
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
                verbose=verbose,
                callbacks=callbacks,
            ),
        )
    grid = tuner.fit()
    return summarize(sweep, grid, local_folder(storage, name))


def summarize(sweep: SweepConfig, grid, out: Path) -> dict[str, Any]:
    keys = list(sweep.search_space)
    extra = [c for c in get_kind(sweep.run_kind).columns if c != sweep.metric]
    rows = []
    for r in grid:
        row = {
            "trial": Path(r.path).name if r.path else "?",
            "status": "error" if r.error else "ok",
        }
        row.update({k: r.config.get(k) for k in keys})
        row.update({k: (r.metrics or {}).get(k) for k in (sweep.metric, *extra)})
        rows.append(row)
    out.mkdir(parents=True, exist_ok=True)
    table = write_table(rows, keys, sweep.metric, out / "trials", extra, sweep.mode)
    plot_params(rows, keys, sweep.metric, out / "trials.png")
    summary: dict[str, Any] = {"best_config": None, "best_metrics": None, "trials": rows}
    if any(finite(r.get(sweep.metric)) for r in rows):
        best = grid.get_best_result(metric=sweep.metric, mode=sweep.mode)
        summary.update(
            best_config=best.config,
            best_metrics={k: best.metrics.get(k) for k in (sweep.metric, *extra)},
        )
        (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return {**summary, "table": table, "out": out}
