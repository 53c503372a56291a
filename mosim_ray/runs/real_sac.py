"""The model-free baseline: RLlib SAC (same settings as in imagination) in the real environment.

    python pipelines/real_sac.py --task reacher-easy --env-steps 20000

Zero-shot's twin: the same loop and the same evaluation (``RealEvaluator``), so the two results
compare side by side. Writes result.json, curve.csv, curve.png and the policy checkpoint.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mosim_ray.runs.kind import Report, RunKind
from mosim_ray.runs.names import folder_name
from mosim_ray.sac.eval_settings import EvalSettings


@dataclass(frozen=True)
class RealSacConfig:
    """A policy trained in the real env."""

    task: str = "reacher-easy"
    """dm_control task"""
    algo: str = "sac"
    """registered algorithm (sac, ppo)"""
    env_steps: int = 20_000
    """real steps to train for"""
    num_envs: int = 1
    """real envs per env runner"""
    env_runners: int = 0
    """remote env runners (0: in the driver's process)"""
    time_limit: int = 1000
    """real training episode length in control steps"""
    learning_starts: int = 1000
    """real steps before the first policy update (SAC)"""
    eval: EvalSettings = field(default_factory=lambda: EvalSettings(every=5000))
    """real-env evaluation, every ``every`` real steps"""
    seed: int = 0
    threads: int = 2
    """torch threads of the learner (give 1 to each of two runs side by side on 2 cores)"""
    checkpoint_every: int = 0
    """real steps between saves of the whole run to <out>/checkpoint (policy, optimizers, replay
    buffer, counters, the curve); 0: no saves"""
    resume: bool = False
    """go on from <out>/checkpoint instead of starting over (with no save there, start over)"""
    overrides: dict[str, Any] = field(default_factory=dict)
    """RLlib config fields (train_batch_size_per_learner: 128, ...)"""

    def __post_init__(self) -> None:
        from mosim_ray.tasks import check_task_name

        check_task_name(self.task)
        if self.env_steps < 1 or self.num_envs < 1 or self.env_runners < 0:
            raise ValueError("env_steps and num_envs must be >= 1, env_runners >= 0")


def run(
    config: RealSacConfig, out: str | Path, *, report: Report | None = None, progress: bool = False
) -> dict[str, Any]:
    from mosim_ray.envs.rllib import REAL
    from mosim_ray.eval.plots import plot_rl_curves
    from mosim_ray.runs.policy_training import learn_in

    out = Path(out)
    started = time.perf_counter()
    env_config = {"task": config.task, "time_limit": config.time_limit}
    steps, label = config.env_steps, "real steps"
    trained = learn_in(config, REAL, env_config, steps, out, label, report, progress)
    result = {
        "task": config.task,
        "algo": config.algo,
        **trained,
        "real_steps": trained["env_steps"],
        "wall_s": time.perf_counter() - started,
        "settings": asdict(config),
    }
    plot_rl_curves({"SAC in the real env": result["curve"]}, out / "curve.png", config.task)
    return result


def point(p: dict[str, Any]) -> str:
    return (
        f"  {p['env_steps']:>8,} real steps: train return {p['train_return_mean']:7.1f}, "
        f"eval {p['real_return_mean']:7.1f} ± {p['real_return_std']:.1f}"
    )


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['task']}: real return {result['real_return_mean']:.1f} ± "
        f"{result['real_return_std']:.1f} over {result['eval_episodes']} episodes after "
        f"{result['env_steps']:,} real steps ({result['wall_s']:.0f} s)"
    )


def curve(result: dict[str, Any]) -> list[dict[str, float]]:
    """Real steps are the env steps (no starting data)."""
    return [
        {
            "real_steps": p["env_steps"],
            "return_mean": p["real_return_mean"],
            "return_std": p["real_return_std"],
        }
        for p in result["curve"]
    ]


KIND = RunKind(
    name="real_sac",
    config=RealSacConfig,
    run=run,
    doc=__doc__,
    default_out=lambda c: f"runs/real_sac/{folder_name(c.task)}",
    summary=summary,
    point=point,
    columns=("real_return_std", "env_steps"),
    curve=curve,
    curve_at_saves=True,
)
