"""Train an RLlib algorithm for a number of env steps, judging it in the real env as it goes.

The one body of zero-shot (SAC in imagination) and of its twin, real-env SAC: same loop, same
evaluation, same result keys, so the two results compare and plot side by side.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import pickle
import shutil
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


@dataclass
class LoopState:
    """Where the loop stands: what a resumed run goes on from."""

    curve: list[CurvePoint]
    next_eval: int
    steps: int = 0
    iteration: int = 0
    wall_before: float = 0.0
    """seconds of the run before this process (a resumed run's curve keeps counting)"""


class RunSaves:
    """Saves of a whole run in ``folder`` (the algorithm with its replay buffer, the loop's state)
    every ``every`` env steps; ``load`` restores the last into a freshly built algorithm."""

    LOOP = "loop.pkl"
    PROGRESS = "progress.json"
    """the curve so far at a save, readable without RLlib"""

    def __init__(self, folder: Path, every: int):
        self.folder, self.every = Path(folder), int(every)

    def exists(self) -> bool:
        return (self.folder / self.LOOP).is_file()

    def due(self, steps: int, last_saved: int) -> bool:
        return self.every > 0 and steps // self.every > last_saved // self.every

    def save(self, algo, loop: LoopState, wall: float) -> None:
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        algo.save_to_path(str(tmp.resolve()))
        buffer = algo.local_replay_buffer
        extra = {
            "loop": dataclasses.replace(loop, wall_before=wall),
            "replay": buffer.get_state(),
            "replay_rng": buffer._rng.bit_generator.state,
            "update_credit": getattr(algo, "_update_credit", 0.0),
        }
        (tmp / self.LOOP).write_bytes(pickle.dumps(extra))
        progress = {"env_steps": loop.steps, "curve": [vars(p) for p in loop.curve]}
        (tmp / self.PROGRESS).write_text(json.dumps(progress))
        if self.folder.exists():
            shutil.rmtree(self.folder)
        tmp.replace(self.folder)

    def load(self, algo) -> LoopState:
        algo.restore_from_path(str(self.folder.resolve()))
        extra = pickle.loads((self.folder / self.LOOP).read_bytes())
        algo.local_replay_buffer.set_state(extra["replay"])
        algo.local_replay_buffer._rng.bit_generator.state = extra["replay_rng"]
        algo._update_credit = extra["update_credit"]
        return extra["loop"]


def train_with_evaluation(
    algo,
    evaluator: RealEvaluator,
    env_steps: int,
    eval_every: int,
    progress: bool = True,
    label: str = "steps",
    on_point: Callable[[CurvePoint], None] | None = None,
    saves: RunSaves | None = None,
) -> tuple[list[CurvePoint], EvalResult]:
    """Call ``algo.train()`` until ``env_steps`` training-env steps; evaluate in the real env
    before the first iteration, every ``eval_every`` steps, and at the end. With ``saves``, the
    run is saved on their schedule and goes on from their last save when there is one.
    ``on_point`` gets each evaluation after the save made at its step count, if any.

    Returns (curve, the final evaluation).
    """
    if env_steps < 1 or eval_every < 1:
        raise ValueError(f"env_steps and eval_every must be >= 1, got {env_steps}, {eval_every}")
    start = time.perf_counter()
    resumed = saves is not None and saves.exists()
    loop = saves.load(algo) if resumed else LoopState(curve=[], next_eval=eval_every)
    start -= loop.wall_before

    def point(steps: int, iteration: int, train_return: float) -> EvalResult:
        res = evaluator(algo)
        p = CurvePoint(
            steps, iteration, time.perf_counter() - start, train_return, res.mean, res.std
        )
        loop.curve.append(p)
        return res

    def report(since: int) -> None:  # called after the save that holds the points
        for p in loop.curve[since:] if on_point is not None else []:
            on_point(p)

    last = None
    if not resumed:
        last = point(loop.steps, loop.iteration, float("nan"))
        report(0)
    bar = tqdm(total=env_steps, desc=label, unit="step", disable=not progress, smoothing=0.1)
    bar.update(loop.steps)
    while loop.steps < env_steps:
        reported = len(loop.curve)
        result = algo.train()
        loop.iteration += 1
        new_steps, train_return = _env_steps_and_return(result)
        if train_return != train_return and loop.curve:  # NaN: no episode ended this iteration
            train_return = loop.curve[-1].train_return_mean
        bar.update(max(0, min(new_steps, env_steps) - loop.steps))
        before, loop.steps = loop.steps, new_steps
        if loop.steps >= loop.next_eval or loop.steps >= env_steps:
            last = point(loop.steps, loop.iteration, train_return)
            loop.next_eval = (loop.steps // eval_every + 1) * eval_every
            bar.set_postfix(train=f"{train_return:.1f}", real=f"{last.mean:.1f}")
        if saves is not None and loop.steps < env_steps and saves.due(loop.steps, before):
            saves.save(algo, loop, time.perf_counter() - start)
        report(reported)
    bar.close()
    if last is None:  # resumed at the very end: the last evaluation again
        last = point(loop.steps, loop.iteration, float("nan"))
        report(len(loop.curve) - 1)
    return loop.curve, last


def train_policy(
    config,
    task: str,
    env_steps: int,
    evaluation: EvalSettings,
    out: Path,
    progress: bool = False,
    label: str = "steps",
    on_point: Callable[[CurvePoint], None] | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
) -> dict[str, Any]:
    """Build the algorithm of an RLlib ``config``, train it with real-env evaluation, save the
    policy (``out/policy``) and the curve (``out/curve.csv``); always stops what it started.
    Every ``checkpoint_every`` env steps the run is saved to ``out/checkpoint``; ``resume`` goes
    on from there. Returns the final evaluation and the curve."""
    out.mkdir(parents=True, exist_ok=True)
    saves = RunSaves(out / "checkpoint", checkpoint_every)
    if not resume and saves.folder.exists():
        shutil.rmtree(saves.folder)  # a fresh start goes on from nothing
    algo = config.build_algo()
    eval_seed = evaluation.starts_seed(config.seed)
    evaluator = RealEvaluator(config, task, evaluation.episodes, evaluation.time_limit, eval_seed)
    try:
        curve, final = train_with_evaluation(
            algo, evaluator, env_steps, evaluation.every, progress, label, on_point, saves
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
        "eval_seed": eval_seed,
        "env_steps": curve[-1].env_steps,
        "curve": [vars(p) for p in curve],
    }


def learn_in(
    config,
    env: str,
    env_config: dict[str, Any],
    steps: int,
    out: Path,
    label: str,
    report=None,
    progress: bool = False,
) -> dict[str, Any]:
    """The body both zero-shot and real-env SAC run: ``config.algo`` (our preset, with the
    config's env runners, envs, seed, learning starts and RLlib overrides) in ``env`` for
    ``steps`` env steps, judged in the real env on ``config.eval``'s schedule, saved on
    ``config.checkpoint_every``'s. ``config`` is a ZeroShotConfig or RealSacConfig."""
    import torch

    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.envs.rllib import register_envs
    from mosim_ray.sac.presets import algorithm_config

    torch.set_num_threads(config.threads)
    start_ray()
    register_envs()
    rllib = algorithm_config(
        config.algo,
        env,
        env_config,
        num_env_runners=config.env_runners,
        num_envs_per_env_runner=config.num_envs,
        vectorize_mode="vector_entry_point",
        seed=config.seed,
        **({"learning_starts": config.learning_starts} if config.algo == "sac" else {}),
        **config.overrides,
    )
    return train_policy(
        rllib,
        config.task,
        steps,
        config.eval,
        out,
        progress=progress,
        label=label,
        on_point=report_points(report),
        checkpoint_every=config.checkpoint_every,
        resume=config.resume,
    )


def report_points(report: Callable[[dict[str, Any]], None] | None):
    """``on_point`` for ``train_policy`` that hands each curve point to a run kind's report."""
    return None if report is None else (lambda p: report(asdict(p)))


def write_curve(curve: list[CurvePoint], path: str | Path) -> None:
    rows = [asdict(p) for p in curve]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["env_steps"])
        writer.writeheader()
        writer.writerows(rows)
