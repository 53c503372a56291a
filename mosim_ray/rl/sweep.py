"""Tune sweeps over one kind of run (``SweepConfig.run_kind``), from ``tune_configs/*.yaml``:

* ``zero_shot``: each trial is one ``run_zero_shot`` (a policy trained in the world model);
* ``few_shot`` / ``on_policy``: each trial is one ``run_schedule`` (MoSimSAC to a real-step budget);
* ``model``: each trial trains a world model and is judged by its held-out prediction error
  (``mosim_ray.train.model_sweep.train_and_judge_model``).

Trials report at every evaluation (RL kinds: the real-env return; model: the prediction error a
few times during training and at the end), so ASHA can stop weak ones early.
``run_sweep`` runs a sweep on the Ray the caller started and writes its table, plot and summary.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import tempfile
from numbers import Number
from pathlib import Path
from typing import Any

from mosim_ray.config import SCHEDULES, ConfigError, SweepConfig, with_params

TINY_DATA = {"episodes": 3, "steps": 40, "seed": 0}
"""The dataset a run without data gets (smoke runs on a fresh clone): about a second to collect."""

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
    return {
        key: makers[kind](values) for key, spec in space.items() for kind, values in spec.items()
    }


# --- checks and paths, before any trial starts ----------------------------------------------------
def check_run(sweep: SweepConfig, run) -> None:
    """Raise ConfigError where ``run`` (the base run or one with search-space values) is invalid."""
    try:
        if sweep.run_kind in SCHEDULES:
            run.settings(sweep.run_kind)
        elif sweep.run_kind == "model":
            from mosim_ray.train.model_sweep import model_config

            model_config(run)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{sweep.name}: {e}") from e


def check_space(sweep: SweepConfig) -> None:
    """Every value of the search space (grid and choice values, range ends) makes a valid run, so a
    typo (``method: rk5``, ``mosim.brnach_length``) fails here rather than in every trial."""
    check_run(sweep, sweep.run)
    for key, spec in sweep.search_space.items():
        for value in next(iter(spec.values())):  # grid/choice values, range ends
            try:
                run = with_params(sweep.run, {key: value})
            except (TypeError, ValueError) as e:
                raise ConfigError(f"{sweep.name}: search_space[{key!r}] = {value!r}: {e}") from e
            check_run(sweep, run)
    if sweep.run_kind == "model" and "eval_horizon" not in sweep.search_space:
        from mosim_ray.train.model_sweep import metric_name

        h = sweep.run.eval_horizon
        known = {
            metric_name(sweep.run),
            f"mse_h{h}_finite",
            f"normalized_mse_h{h}",
            f"constant_mse_h{h}",
            "val_loss",
            "best_val_loss",
        }
        if sweep.metric not in known:
            raise ConfigError(
                f"{sweep.name}: model trials report {sorted(known)} (eval_horizon {h}), not "
                f"metric {sweep.metric!r}"
            )


def collect_tiny_data(task: str, folder: Path) -> str:
    """``TINY_DATA`` episodes of ``task`` under ``folder`` (kept: a second call reuses them)."""
    from mosim_ray.data import EpisodeCollector
    from mosim_ray.data.shards import shard_name

    path = folder / shard_name(0)
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        t = TINY_DATA
        EpisodeCollector(task, t["steps"]).write_shard(path, list(range(t["episodes"])), t["seed"])
    return str(folder.resolve())


def _existing(path: str, what: str, make: str) -> str:
    if not Path(path).exists():
        raise ConfigError(f"no {what} at {path}: make it with {make}")
    return str(Path(path).resolve())  # trials run in their own folders


def prepare(sweep: SweepConfig, folder: Path) -> SweepConfig:
    """The sweep with its run's paths made absolute and checked; a run that needs data and names
    none (the smoke overlays) gets a tiny dataset collected under ``folder/tiny-data``."""
    run, kind = sweep.run, sweep.run_kind
    if kind in SCHEDULES:
        mosim = dict(run.mosim)
        task = mosim.get("task", "reacher-easy")
        collect = (
            f"python pipelines/collect.py --task {task} --episodes 200 --steps 500 "
            f"--process poisson --out data/{task}"
        )
        if mosim.get("data"):
            mosim["data"] = _existing(mosim["data"], "data", collect)
        elif kind == "few_shot":
            mosim["data"] = collect_tiny_data(task, folder / "tiny-data" / task)
            print(
                f"run has no mosim.data: collected a tiny dataset in {mosim['data']} "
                f"(smoke runs only)"
            )
        if mosim.get("density"):
            mosim["density"] = _existing(
                mosim["density"],
                "density",
                f"python pipelines/fit_density.py --task {task} --data data/{task} "
                f"--out {mosim['density']}",
            )
        if mosim.get("checkpoint") and Path(mosim["checkpoint"]).exists():
            mosim["checkpoint"] = str(Path(mosim["checkpoint"]).resolve())
        run = dataclasses.replace(run, mosim=mosim)
    elif kind == "model":
        if run.data:
            collect = (
                f"python pipelines/collect.py --task {run.task} --episodes 200 "
                f"--steps 500 --process poisson --out {run.data}"
            )
            data = _existing(run.data, "data", collect)
        else:
            data = collect_tiny_data(run.task, folder / "tiny-data" / run.task)
            print(f"run has no data: collected a tiny dataset in {data} (smoke runs only)")
        run = dataclasses.replace(run, data=data)
    return dataclasses.replace(sweep, run=run)


# --- trials -------------------------------------------------------------------------------------
def _numbers(point: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of an evaluation point (Tune's reserved keys left out)."""
    return {
        k: (int(v) if isinstance(v, (bool, int)) else float(v))
        for k, v in point.items()
        if isinstance(v, Number) and k not in RESERVED
    }


def make_trainable(sweep: SweepConfig, checkpoint: str | None = None):
    """A function trainable running one trial of the sweep's kind, with the sweep's resources.
    ``checkpoint``: the world model of zero_shot trials (the other kinds name theirs in the run)."""
    from ray import tune

    base, kind = sweep.run, sweep.run_kind
    threads = max(1, int(sweep.cpus_per_trial))

    def zero_shot_trial(params: dict[str, Any]) -> None:
        import torch

        from mosim_ray.rl.zero_shot import run_zero_shot

        # a trial gets ``cpus_per_trial`` cores: more torch threads would fight the other trials
        torch.set_num_threads(threads)
        run = with_params(base, params)
        out = Path(tune.get_context().get_trial_dir())

        def report(point) -> None:
            tune.report(
                {
                    "real_return_mean": point.real_return_mean,
                    "real_return_std": point.real_return_std,
                    "imagined_return_mean": point.train_return_mean,
                    "imagined_steps": point.env_steps,
                }
            )

        result = run_zero_shot(run, checkpoint, out, progress=False, on_point=report)
        # not result.json: that name is Tune's own (one JSON line per report)
        (out / "zero_shot_result.json").write_text(json.dumps(result, indent=1))

    def schedule_trial(params: dict[str, Any]) -> None:
        import torch

        from mosim_ray.rl.schedules import run_schedule, schedule_config

        torch.set_num_threads(threads)  # the learner runs in the trial's own process
        run = with_params(base, params)
        out = Path(tune.get_context().get_trial_dir())
        if not run.mosim.get("work_dir"):
            # the model trainer's checkpoints stay with the trial, a fresh folder per attempt: a
            # retried trial starts its policy over, so its model must not resume a later state
            work = tempfile.mkdtemp(prefix="mosim_trainer-", dir=out)
            run = with_params(run, {"mosim.work_dir": work})
        config = schedule_config(run, kind)
        result = run_schedule(
            config,
            run.real_steps,
            out,
            progress=False,
            on_eval=lambda _algo, point: tune.report(_numbers(point)),
        )
        (out / "schedule_result.json").write_text(json.dumps(result, indent=1, default=str))

    def model_trial(params: dict[str, Any]) -> None:
        import torch

        from mosim_ray.train.model_sweep import train_and_judge_model

        torch.set_num_threads(threads)
        run = with_params(base, params)
        out = Path(tune.get_context().get_trial_dir())
        train_and_judge_model(run, out, report=lambda point: tune.report(_numbers(point)))

    trials = {
        "zero_shot": zero_shot_trial,
        "few_shot": schedule_trial,
        "on_policy": schedule_trial,
        "model": model_trial,
    }
    if kind not in trials:
        raise ConfigError(f"no trainable for run kind {kind!r}; known: {sorted(trials)}")
    if kind == "zero_shot" and checkpoint is None:
        raise ConfigError("zero_shot sweeps need the world model's checkpoint")
    if kind in SCHEDULES:  # the trial's actors are reserved with it (see schedule_resources)
        return tune.with_resources(trials[kind], lambda params: schedule_resources(sweep, params))
    resources = {"cpu": sweep.cpus_per_trial, "gpu": sweep.gpus_per_trial}
    return tune.with_resources(trials[kind], resources)


def schedule_resources(sweep: SweepConfig, params: dict[str, Any] | None = None):
    """The placement group of one few_shot / on_policy trial (called by Tune on the driver with
    the trial's sampled ``params``).

    Bundles: the trial's own process (its driver and learner, ``cpus_per_trial``), then one per
    RLlib env runner (``num_cpus_per_env_runner``, RLlib's own convention: MoSimSAC leaves the
    runners to the trial's placement group), then the model trainer's when MoSimSAC starts it
    inside the group (no scheduling strategy of its own), sized so that whatever fraction
    ``actors.placement`` gives it fits, and the collectors (which spread outside the group) still
    find their share of the CPUs left. Tune starts a trial only once its group fits.
    """
    import ray
    from ray import tune

    from mosim_ray.actors.placement import MIN_CPU, plan_placement

    run = with_params(sweep.run, params or {})
    s = run.settings(sweep.run_kind)
    resources = ray.cluster_resources()
    runners = run.env_runners
    if runners is None:  # as schedule_config decides it
        runners = plan_placement(
            resources, s.collectors or None, None, s.real_per_round
        ).env_runners
    p = plan_placement(resources, s.collectors or None, runners, s.real_per_round)
    head = {"CPU": float(sweep.cpus_per_trial)}
    if sweep.gpus_per_trial:
        head["GPU"] = float(sweep.gpus_per_trial)
    runner_cpus = float(run.overrides.get("num_cpus_per_env_runner", 1.0))
    bundles = [head] + [{"CPU": runner_cpus, **p.env_runner_resources}] * p.env_runners
    t = p.trainer_options
    if "scheduling_strategy" not in t:  # started inside the group: reserve its bundle
        left = float(resources.get("CPU", 1)) - sum(b["CPU"] for b in bundles)
        # the trainer and each collector share what is left (placement scales them alike)
        cpus = max(MIN_CPU, min(1.0, int(100 * left / (1 + p.collectors)) / 100))
        trainer = {"CPU": cpus, **({"GPU": float(t["num_gpus"])} if t.get("num_gpus") else {})}
        bundles.append({**trainer, **t.get("resources", {})})
    return tune.PlacementGroupFactory(bundles)


# --- results ------------------------------------------------------------------------------------
def result_columns(sweep: SweepConfig) -> list[str]:
    """Result columns of the trials table besides the metric, by run kind."""
    if sweep.run_kind == "model":
        h = getattr(sweep.run, "eval_horizon", 16)
        cols = [
            f"mse_h{h}",
            f"mse_h{h}_finite",
            f"finite_share_h{h}",
            "val_loss",
            "updates",
            "seconds",
        ]
    elif sweep.run_kind in SCHEDULES:
        cols = ["real_return_std", "real_steps", "imagined_steps", "model_version"]
    else:
        cols = ["real_return_std", "imagined_steps"]
    return [c for c in cols if c != sweep.metric]


def _finite(v: Any) -> bool:
    return isinstance(v, Number) and math.isfinite(float(v))


def _sort_key(metric: str, mode: str):
    def key(row: dict[str, Any]) -> float:
        v = row.get(metric)
        if not isinstance(v, Number) or math.isnan(float(v)):
            return math.inf  # unfinished or broken trials last
        return -float(v) if mode == "max" else float(v)

    return key


def write_table(
    rows: list[dict[str, Any]],
    keys: list[str],
    metric: str,
    path_stem: Path,
    extra: list[str] | tuple[str, ...] = ("real_return_std", "imagined_steps"),
    mode: str = "max",
) -> str:
    """Markdown (returned and written) and CSV table of trials, best first (``mode``: whether
    the best metric is the largest or the smallest); ``extra``: result columns after the metric."""
    cols = ["trial", *keys, metric, *extra, "status"]
    rows = sorted(rows, key=_sort_key(metric, mode))
    with open(path_stem.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if v and (abs(v) < 0.01 or abs(v) >= 1e5) else f"{v:.2f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    md = "\n".join(lines) + "\n"
    path_stem.with_suffix(".md").write_text(md)
    return md


def plot_params(rows: list[dict[str, Any]], keys: list[str], metric: str, path: Path) -> None:
    """The metric against each swept parameter (one panel each)."""
    from mosim_ray.eval.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.2 * max(1, len(keys)), 3.6))
    axes = [axes] if not hasattr(axes, "__len__") else list(axes)
    for ax, key in zip(axes, keys):
        xs = [r.get(key) for r in rows if r.get(metric) is not None]
        ys = [r[metric] for r in rows if r.get(metric) is not None]
        if all(isinstance(x, (int, float)) for x in xs):
            ax.plot(xs, ys, "o")
        else:
            labels = sorted({str(x) for x in xs})
            ax.plot([labels.index(str(x)) for x in xs], ys, "o")
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def local_folder(storage: str, name: str) -> Path:
    """Where the table, plot and summary go: ``<storage>/<name>``, or runs/sweeps/<name> when
    ``storage`` is a URI."""
    return (Path(storage) if "://" not in storage else Path("runs/sweeps")) / name


def run_sweep(
    sweep: SweepConfig,
    storage: str,
    name: str,
    checkpoint: str | None = None,
    resume: bool = False,
    verbose: int = 1,
    callbacks: list | None = None,
) -> dict[str, Any]:
    """Run ``sweep`` (prepared: see ``prepare``) with Tune on the Ray already started; write
    ``trials.md``, ``trials.csv``, ``trials.png`` and, when a trial finished, ``summary.json``
    under ``local_folder(storage, name)``. Returns the summary (``best_config`` None when no trial
    reported a finite metric) with the markdown ``table`` and the ``out`` folder."""
    from ray import tune

    trainable = make_trainable(sweep, checkpoint)
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

    keys = list(sweep.search_space)
    extra = result_columns(sweep)
    rows = []
    for r in grid:
        row = {
            "trial": Path(r.path).name if r.path else "?",
            "status": "error" if r.error else "ok",
        }
        row.update({k: r.config.get(k) for k in keys})
        row.update({k: (r.metrics or {}).get(k) for k in (sweep.metric, *extra)})
        rows.append(row)
    out = local_folder(storage, name)
    out.mkdir(parents=True, exist_ok=True)
    table = write_table(rows, keys, sweep.metric, out / "trials", extra, sweep.mode)
    plot_params(rows, keys, sweep.metric, out / "trials.png")
    summary: dict[str, Any] = {"best_config": None, "best_metrics": None, "trials": rows}
    if any(_finite(r.get(sweep.metric)) for r in rows):
        best = grid.get_best_result(metric=sweep.metric, mode=sweep.mode)
        summary.update(
            best_config=best.config,
            best_metrics={k: best.metrics.get(k) for k in (sweep.metric, *extra)},
        )
        (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return {**summary, "table": table, "out": out}
