"""Running a MoSim schedule to a real-step budget: the loop behind ``pipelines/few_shot.py``,
``pipelines/on_policy.py`` and their Tune sweeps.

``run_schedule`` builds a :class:`MoSimSAC`, calls ``train()`` until the real-step budget is
spent, then flushes, evaluates, saves the policy and stops every actor it started, also when
something raises.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mosim_ray.config import ScheduleRun
from mosim_ray.rl.algorithms import _apply_overrides
from mosim_ray.rl.mosim_sac import MoSimSACConfig


def schedule_config(run: ScheduleRun, schedule: str) -> MoSimSACConfig:
    """The RLlib config of a run: our SAC settings, the schedule, then the run's overrides."""
    config = MoSimSACConfig().mosim(**{**run.mosim, "schedule": schedule})
    config.env_runners(num_envs_per_env_runner=run.num_envs)
    if run.env_runners is not None:
        config.env_runners(num_env_runners=run.env_runners)
    else:
        import ray

        from mosim_ray.actors.placement import plan_placement

        s = run.settings(schedule)
        placement = plan_placement(
            ray.cluster_resources(), s.collectors or None, None, s.real_per_round
        )
        config.env_runners(num_env_runners=placement.env_runners)
    config.training(num_steps_sampled_before_learning_starts=run.learning_starts)
    config.debugging(seed=run.seed)
    _apply_overrides(config, dict(run.overrides))
    return config


def run_schedule(
    config: MoSimSACConfig,
    real_steps: int,
    out: str | Path,
    on_eval: Callable[[Any, dict[str, Any]], None] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train until ``real_steps`` real steps; returns ``MoSimSAC.summary()`` with the policy saved
    under ``out/policy``. ``on_eval(algo, point)`` gets every evaluation point as it comes."""
    from tqdm.auto import tqdm

    if real_steps < 1:
        raise ValueError(f"real_steps must be >= 1, got {real_steps}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    algo = config.build_algo()
    bar = tqdm(total=real_steps, unit="real step", disable=not progress, dynamic_ncols=True)
    try:
        seen = 0
        while algo.counts["real_steps"] < real_steps:
            algo.train()
            c = algo.counts
            bar.update(min(c["real_steps"], real_steps) - bar.n)
            bar.set_postfix_str(f"{c['imagined_steps']:,} imagined, model v{algo.model_version}")
            for point in algo.curve[seen:]:
                if on_eval is not None:
                    on_eval(algo, point)
            seen = len(algo.curve)
        algo.finish()
        if on_eval is not None:
            on_eval(algo, algo.curve[-1])
        result = algo.summary()
        algo.save_to_path(str((out / "policy").resolve()))
    finally:
        bar.close()
        algo.stop()
    return result
