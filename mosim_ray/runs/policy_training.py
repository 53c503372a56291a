"""Train an RLlib algorithm for a number of env steps, judging it in the real env as it goes.

The one body of zero-shot (SAC in imagination) and of its twin, real-env SAC: same loop, same
evaluation, same result keys, so the two results compare and plot side by side.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mosim_ray.sac.eval_settings import EvalSettings
from mosim_ray.sac.evaluation import EvalResult, RealEvaluator


@dataclass
class CurvePoint:
    env_steps: int
    """Steps sampled in the training env (imagined or real) so far."""
    iteration: int
    wall_s: float
    train_return_mean: float
    """Mean return of recent episodes in the training env (NaN before the first one ends)."""
    real_return_mean: float
    real_return_std: float


def _env_steps_and_return(result: dict) -> tuple[int, float]:
    from ray.rllib.utils.metrics import (
        ENV_RUNNER_RESULTS,
        EPISODE_RETURN_MEAN,
        NUM_ENV_STEPS_SAMPLED_LIFETIME,
    )

    runners = result.get(ENV_RUNNER_RESULTS, {})
    steps = result.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, runners.get(NUM_ENV_STEPS_SAMPLED_LIFETIME))
    return int(steps or 0), float(runners.get(EPISODE_RETURN_MEAN, float("nan")))


def train_with_evaluation(
    algo,
    evaluator: RealEvaluator,
    env_steps: int,
    eval_every: int,
    progress: bool = True,
    label: str = "steps",
    on_point: Callable[[CurvePoint], None] | None = None,
) -> tuple[list[CurvePoint], EvalResult]:
    """Call ``algo.train()`` until ``env_steps`` training-env steps; evaluate in the real env
    before the first iteration, every ``eval_every`` steps, and at the end.

    Returns (curve, the final evaluation).
    """
    if env_steps < 1 or eval_every < 1:
        raise ValueError(f"env_steps and eval_every must be >= 1, got {env_steps}, {eval_every}")
    curve: list[CurvePoint] = []
    start = time.perf_counter()

    def point(steps: int, iteration: int, train_return: float) -> EvalResult:
        res = evaluator(algo)
        p = CurvePoint(
            steps, iteration, time.perf_counter() - start, train_return, res.mean, res.std
        )
        curve.append(p)
        if on_point is not None:
            on_point(p)
        return res

    last = point(0, 0, float("nan"))
    next_eval, steps, iteration = eval_every, 0, 0
    bar = tqdm(total=env_steps, desc=label, unit="step", disable=not progress, smoothing=0.1)
    while steps < env_steps:
        result = algo.train()
        iteration += 1
        new_steps, train_return = _env_steps_and_return(result)
        if train_return != train_return and curve:  # NaN: no episode ended this iteration
            train_return = curve[-1].train_return_mean
        bar.update(max(0, min(new_steps, env_steps) - steps))
        steps = new_steps
        if steps >= next_eval or steps >= env_steps:
            last = point(steps, iteration, train_return)
            next_eval = (steps // eval_every + 1) * eval_every
            bar.set_postfix(train=f"{train_return:.1f}", real=f"{last.mean:.1f}")
    bar.close()
    return curve, last


def train_policy(
    config,
    task: str,
    env_steps: int,
    evaluation: EvalSettings,
    out: Path,
    progress: bool = False,
    label: str = "steps",
    on_point: Callable[[CurvePoint], None] | None = None,
) -> dict[str, Any]:
    """Build the algorithm of an RLlib ``config``, train it with real-env evaluation, save the
    policy (``out/policy``) and the curve (``out/curve.csv``); always stops what it started.
    Returns the final evaluation and the curve."""
    out.mkdir(parents=True, exist_ok=True)
    algo = config.build_algo()
    evaluator = RealEvaluator(config, task, evaluation.episodes, evaluation.time_limit)
    try:
        curve, final = train_with_evaluation(
            algo, evaluator, env_steps, evaluation.every, progress, label, on_point
        )
        algo.save_to_path(str((out / "policy").resolve()))
    finally:
        algo.stop()
        evaluator.stop()
    write_curve(curve, out / "curve.csv")
    return {
        "real_return_mean": final.mean,
        "real_return_std": final.std,
        "real_returns": final.returns.tolist(),
        "eval_episodes": evaluation.episodes,
        "eval_time_limit": evaluation.time_limit,
        "env_steps": curve[-1].env_steps,
        "curve": [vars(p) for p in curve],
    }


def report_points(report: Callable[[dict[str, Any]], None] | None):
    """``on_point`` for ``train_policy`` that hands each curve point to a run kind's report."""
    return None if report is None else (lambda p: report(asdict(p)))


def write_curve(curve: list[CurvePoint], path: str | Path) -> None:
    rows = [asdict(p) for p in curve]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["env_steps"])
        writer.writeheader()
        writer.writerows(rows)
