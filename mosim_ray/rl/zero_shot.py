"""One zero-shot run: RLlib learns inside the world model, judged in the real env as it goes.

The body of ``pipelines/zero_shot.py`` and of each trial of a zero-shot Tune sweep. Needs a
running Ray (the caller owns ``ray.init``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mosim_ray.config import ZeroShotRun
from mosim_ray.rl.algorithms import algorithm_config
from mosim_ray.rl.envs import IMAGINED, register_envs
from mosim_ray.rl.loop import CurvePoint, train_and_judge


def run_zero_shot(
    run: ZeroShotRun,
    checkpoint: str,
    out: str | Path,
    progress: bool = True,
    on_point: Callable[[CurvePoint], None] | None = None,
) -> dict[str, Any]:
    """Train ``run.algo`` in ``mosim-imagined`` on the model at ``checkpoint``; save the policy
    and curve under ``out``; return the result (final real evaluation, curve, settings)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    register_envs()
    env_config = {"checkpoint": checkpoint, "task": run.task, "time_limit": run.time_limit}
    config = algorithm_config(
        run.algo,
        IMAGINED,
        env_config,
        num_env_runners=run.env_runners,
        num_envs_per_env_runner=run.num_envs,
        vectorize_mode="vector_entry_point",
        seed=run.seed,
        **({"learning_starts": run.learning_starts} if run.algo == "sac" else {}),
        **run.overrides,
    )
    curve, final = train_and_judge(
        config,
        run.task,
        run.imagined_steps,
        run.eval_every,
        run.eval_episodes,
        run.eval_time_limit,
        out,
        progress=progress,
        label="imagined steps",
        on_point=on_point,
    )
    return {
        "task": run.task,
        "algo": run.algo,
        "checkpoint": checkpoint,
        "real_return_mean": final.mean,
        "real_return_std": final.std,
        "real_returns": final.returns.tolist(),
        "eval_episodes": run.eval_episodes,
        "eval_time_limit": run.eval_time_limit,
        "imagined_steps": curve[-1].env_steps,
        "imagined_time_limit": run.time_limit,
        "imagined_envs": run.num_envs * max(1, run.env_runners),
        "overrides": run.overrides,
        "wall_s": time.perf_counter() - started,
        "curve": [vars(p) for p in curve],
    }
