"""The body shared by the few-shot and on-policy run kinds: ``MoSimSAC`` to a real-step budget.

``run`` builds the algorithm, calls ``train()`` until the real-step budget is spent, then
flushes, evaluates, saves the policy and stops every actor it started, also when something
raises. ``trial_resources`` is the placement group one Tune trial of either kind reserves.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mosim_ray.config import ConfigError
from mosim_ray.runs.kind import Report
from mosim_ray.sac.critic_range import q_note
from mosim_ray.schedules.settings import MoSimSettings

CHECKPOINT = "checkpoint"
"""the folder of a run's last save, inside its output folder"""


@dataclass(frozen=True)
class ScheduleConfig(MoSimSettings):
    """A MoSimSAC run: the schedule's settings plus the run's budget and RLlib's side."""

    real_steps: int = 5000
    """real-step budget beyond the starting data"""
    collect_episodes: int = 0
    """with no ``data``: random (Poisson-switching) episodes collected into <out>/data first, as
    the starting data (counted as real steps behind the run like any starting data)"""
    collect_steps: int = 500
    """steps per collected episode"""
    checkpoint_every: int = 0
    """real steps between saves of the whole run to <out>/checkpoint (policy, replay buffers,
    model trainer, counts, RNG states); 0: no saves"""
    resume: bool = False
    """go on from <out>/checkpoint (see checkpoint_every) instead of starting over; with no save
    there, start over"""
    num_envs: int = 16
    """envs per env runner: imagined robots (few_shot) or real ones (on_policy)"""
    env_runners: int | None = None
    """RLlib env runners (default: from the cluster's resources, ``actors.placement``)"""
    learning_starts: int = 1000
    """env steps before the first policy update"""
    seed: int = 0
    threads: int = 1
    """torch threads of the driver's learner"""
    baseline: str | None = None
    """result JSON of pipelines/real_sac.py, plotted beside"""
    peer: str | None = None
    """result JSON of the same schedule with another model (the ensemble), reported beside"""
    overrides: dict[str, Any] = field(default_factory=dict)
    """RLlib config fields (training_intensity: 1280, actor_lr: 1e-4, ...)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.real_steps < 1 or self.num_envs < 1 or self.threads < 1:
            raise ConfigError("real_steps, num_envs and threads must be >= 1")

    def settings(self) -> MoSimSettings:
        return MoSimSettings(**{f.name: getattr(self, f.name) for f in fields(MoSimSettings)})


def algorithm_config(config: ScheduleConfig):
    """The RLlib config of a run: our SAC settings, the schedule, then the run's overrides."""
    import ray

    from mosim_ray.actors.placement import plan_placement
    from mosim_ray.sac.presets import apply_overrides
    from mosim_ray.schedules.config import MoSimSACConfig

    rllib = MoSimSACConfig().mosim(**asdict(config.settings()))
    rllib.env_runners(num_envs_per_env_runner=config.num_envs)
    runners = config.env_runners
    if runners is None:
        f = config.few_shot
        placement = plan_placement(
            ray.cluster_resources(), f.collectors or None, None, f.real_per_round
        )
        runners = placement.env_runners
    rllib.env_runners(num_env_runners=runners)
    rllib.training(num_steps_sampled_before_learning_starts=config.learning_starts)
    rllib.debugging(seed=config.seed)
    apply_overrides(rllib, dict(config.overrides))
    return rllib


def run(
    config: ScheduleConfig, out: str | Path, *, report: Report | None = None, progress: bool = False
) -> dict[str, Any]:
    """Train until ``real_steps`` real steps; returns ``MoSimSAC.summary()`` with the policy
    saved under ``out/policy``; ``report`` gets every evaluation point as it comes."""
    import torch

    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.eval.plots import plot_schedule
    from mosim_ray.runs.collect import random_data

    out = Path(out).resolve()  # actors (the trainer) write under it from their own folders
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    start_ray()
    if not config.data and config.collect_episodes:
        config = _with(
            config,
            data=random_data(
                config.task,
                config.collect_episodes,
                config.collect_steps,
                out / "data",
                config.seed,
            ),
        )
    resume = config.resume and (out / CHECKPOINT).is_dir()
    if not config.work_dir:
        work = out / "trainer_work"
        if not resume:  # a fresh start (a retried Tune trial too) takes no later model state
            shutil.rmtree(work, ignore_errors=True)
        config = _with(config, work_dir=str(work))
    report_point = None if report is None else (lambda _algo, point: report(point))
    result = train_schedule(
        algorithm_config(config),
        config.real_steps,
        out,
        report_point,
        progress,
        checkpoint_every=config.checkpoint_every,
        resume=resume,
    )
    result["wall_s"] = time.perf_counter() - started
    result["run"] = _fields(config)
    baseline = _peers(result, config)
    plot_schedule(result, out / "curves.png", baseline)
    return result


def _with(config: ScheduleConfig, **changes: Any) -> ScheduleConfig:
    return type(config)(**{**_fields(config), **changes})


def _fields(config: ScheduleConfig) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


def train_schedule(
    rllib,
    real_steps: int,
    out: Path,
    on_eval: Callable[[Any, dict[str, Any]], None] | None = None,
    progress: bool = False,
    checkpoint_every: int = 0,
    resume: bool = False,
) -> dict[str, Any]:
    """Build ``MoSimSAC`` from an RLlib config and train it until ``real_steps`` real steps;
    returns ``MoSimSAC.summary()`` with the policy saved under ``out/policy``.
    ``on_eval(algo, point)`` gets every evaluation point as it comes (tests inject faults there).
    Every ``checkpoint_every`` real steps the whole run is saved to ``out/checkpoint``;
    ``resume`` goes on from that save."""
    from tqdm.auto import tqdm

    from mosim_ray.schedules.run_state import prepare_resume, save_run

    if real_steps < 1:
        raise ValueError(f"real_steps must be >= 1, got {real_steps}")
    out.mkdir(parents=True, exist_ok=True)
    saved = out / CHECKPOINT
    if resume:
        prepare_resume(saved, rllib.settings.work_dir)
    algo = rllib.build_algo()
    if resume:
        algo.restore_from_path(str(saved.resolve()))
    every = checkpoint_every or 10**18
    next_save = (algo.counts.real_steps // every + 1) * every
    bar = tqdm(total=real_steps, unit="real step", disable=not progress, dynamic_ncols=True)
    try:
        seen = len(algo.curve)

        def report_new_points() -> None:
            nonlocal seen
            for point in algo.curve[seen:]:
                if on_eval is not None:
                    on_eval(algo, point)
            seen = len(algo.curve)

        while algo.counts.real_steps < real_steps:
            algo.train()
            c = algo.counts
            if c.real_steps >= next_save and c.real_steps < real_steps:
                save_run(algo, saved)
                next_save = (c.real_steps // every + 1) * every
            bar.update(min(c.real_steps, real_steps) - bar.n)
            bar.set_postfix_str(f"{c.imagined_steps:,} imagined, model v{algo.model_version}")
            report_new_points()
        algo.finish()  # evaluates last unless the count has its evaluation already
        report_new_points()
        result = algo.summary()
        algo.save_to_path(str((out / "policy").resolve()))
    finally:
        bar.close()
        algo.stop()
    return result


def _peers(result: dict[str, Any], config: ScheduleConfig) -> dict[str, Any] | None:
    """The real-env SAC baseline and the peer model's run, beside this run's result."""
    baseline = None
    if config.baseline:
        baseline = json.loads(Path(config.baseline).read_text())
        result["baseline_sac_real_return_mean"] = baseline["real_return_mean"]
        result["baseline_sac_real_return_std"] = baseline["real_return_std"]
        result["baseline_sac_env_steps"] = baseline["env_steps"]
    if config.peer:
        peer = json.loads(Path(config.peer).read_text())
        result["ensemble_real_return_mean"] = peer["real_return_mean"]
        result["ensemble_real_return_std"] = peer["real_return_std"]
    return baseline


def check(config: ScheduleConfig) -> None:
    """The starting world model (given or shipped) simulates the task's robot."""
    from mosim_ray.envs.world_models import resolve_world_model

    resolve_world_model(config.task, config.checkpoint)


def curve(result: dict[str, Any]) -> list[dict[str, float]]:
    """Real steps include the starting data (what the trainer held beyond the policy's); the
    critic's mean Q where the run recorded one (a diverged critic shows there)."""
    starting = result["trainer_real_steps"] - result["real_steps"]
    return [
        {
            "real_steps": starting + p["real_steps"],
            "return_mean": p["real_return_mean"],
            "return_std": p["real_return_std"],
            **_critic_fields(p),
        }
        for p in result["curve"]
    ]


def _critic_fields(p: dict[str, Any]) -> dict[str, Any]:
    """The critic's mean Q and the bounds beside it, once the policy has updated."""
    if not math.isfinite(p.get("q_mean", math.nan)):
        return {}
    return {k: p[k] for k in ("q_mean", "q_bounds") if k in p}


def point(p: dict[str, Any]) -> str:
    return (
        f"  {p['real_steps']:,} real, {p['imagined_steps']:,} imagined, "
        f"{p['model_updates']} model updates (v{p['model_version']}), "
        f"{p['policy_updates']:,} policy updates: real return "
        f"{p['real_return_mean']:.1f} ± {p['real_return_std']:.1f}" + critic_note(p)
    )


def critic_note(p: dict[str, Any]) -> str:
    """The critic's mean Q of an evaluation point (flagged when far outside what the rewards
    allow); empty before the first update."""
    q = p.get("q_mean", math.nan)
    return f"; {q_note(q, p.get('q_bounds'))}" if math.isfinite(q) else ""


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['task']} ({result['schedule']}): real return {result['real_return_mean']:.1f} ± "
        f"{result['real_return_std']:.1f} after {result['real_steps']:,} real and "
        f"{result['imagined_steps']:,} imagined steps ({result['wall_s']:.0f} s)"
    )


def trial_resources(config: ScheduleConfig, cpus: float, gpus: float):
    """The placement group of one Tune trial (called on the driver with the trial's config).

    Bundles: the trial's own process (its driver and learner, ``cpus``), then one per RLlib env
    runner (``num_cpus_per_env_runner``, RLlib's own convention: MoSimSAC leaves the runners to
    the trial's placement group), then the model trainer's when MoSimSAC starts it inside the
    group (no scheduling strategy of its own), sized so that whatever fraction
    ``actors.placement`` gives it fits, and the collectors (which spread outside the group)
    still find their share of the CPUs left. Tune starts a trial only once its group fits.
    """
    import ray
    from ray import tune

    from mosim_ray.actors.placement import MIN_CPU, plan_placement

    f = config.few_shot
    resources = ray.cluster_resources()
    runners = config.env_runners
    if runners is None:  # as algorithm_config decides it
        runners = plan_placement(
            resources, f.collectors or None, None, f.real_per_round
        ).env_runners
    p = plan_placement(resources, f.collectors or None, runners, f.real_per_round)
    head = {"CPU": float(cpus)}
    if gpus:
        head["GPU"] = float(gpus)
    runner_cpus = float(config.overrides.get("num_cpus_per_env_runner", 1.0))
    bundles = [head] + [{"CPU": runner_cpus, **p.env_runner_resources}] * p.env_runners
    t = p.trainer_options
    if "scheduling_strategy" not in t:  # started inside the group: reserve its bundle
        left = float(resources.get("CPU", 1)) - sum(b["CPU"] for b in bundles)
        # the trainer and each collector share what is left (placement scales them alike)
        share = max(MIN_CPU, min(1.0, int(100 * left / (1 + p.collectors)) / 100))
        trainer = {"CPU": share, **({"GPU": float(t["num_gpus"])} if t.get("num_gpus") else {})}
        bundles.append({**trainer, **t.get("resources", {})})
    return tune.PlacementGroupFactory(bundles)
