"""Zero-shot MoSim RL: a policy learns only inside the world model, then acts in real MuJoCo.

    python pipelines/zero_shot.py --task reacher-easy                 # shipped model, minutes
    python pipelines/zero_shot.py --task cheetah-run --collect-episodes 200 --train-minutes 15

Steps: (1) a world model: --checkpoint, the shipped one of the task's robot, or one trained here
on --collect-episodes random real episodes; (2) RLlib SAC (or --algo ppo) in --num-envs imagined
robots per env runner (``mosim-imagined``); (3) the policy in real episodes every --eval.every
imagined steps and at the end. Real steps used: only the model's random data.
Writes result.json, curve.csv, curve.png and the RLlib checkpoint of the policy (policy/).
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
class ZeroShotConfig:
    """A policy trained in imagination only, judged in the real env."""

    task: str = "reacher-easy"
    """dm_control task (cheetah-run), gym:<EnvId> or mjcf:<model.xml>"""
    checkpoint: str | None = None
    """world model (default: the shipped model of the task's robot, or one trained here when
    ``collect_episodes`` > 0)"""
    collect_episodes: int = 0
    """train a fresh model on this many random real episodes instead (collected into <out>/data)"""
    collect_steps: int = 500
    """steps per collected episode"""
    train_minutes: float = 5.0
    """wall-clock training budget of that fresh model"""
    algo: str = "sac"
    """registered algorithm (sac, ppo)"""
    imagined_steps: int = 20_000
    """imagined steps to train for"""
    num_envs: int = 16
    """imagined robots per env runner"""
    env_runners: int = 0
    """remote env runners (0: in the driver's process)"""
    time_limit: int = 100
    """imagined episode length in control steps"""
    learning_starts: int = 1000
    """imagined steps before the first policy update (SAC)"""
    eval: EvalSettings = field(default_factory=lambda: EvalSettings(every=5000))
    """real-env evaluation, every ``every`` imagined steps"""
    seed: int = 0
    threads: int = 2
    """torch threads of the learner (give 1 to each of two runs side by side on 2 cores)"""
    baseline: str | None = None
    """result JSON of pipelines/real_sac.py, plotted beside"""
    checkpoint_every: int = 0
    """imagined steps between saves of the whole run to <out>/checkpoint (policy, optimizers, replay
    buffer, counters, the curve); 0: no saves"""
    resume: bool = False
    """go on from <out>/checkpoint instead of starting over (with no save there, start over)"""
    overrides: dict[str, Any] = field(default_factory=dict)
    """RLlib config fields (train_batch_size_per_learner: 128, replay_buffer_config.capacity:
    10000)"""

    def __post_init__(self) -> None:
        from mosim_ray.tasks import check_task_name

        check_task_name(self.task)
        if self.imagined_steps < 1 or self.num_envs < 1 or self.env_runners < 0:
            raise ValueError("imagined_steps and num_envs must be >= 1, env_runners >= 0")
        if self.collect_episodes < 0 or self.train_minutes <= 0:
            raise ValueError("collect_episodes must be >= 0 and train_minutes > 0")


def world_model(config: ZeroShotConfig, out: Path, progress: bool) -> tuple[str, int]:
    """(checkpoint, real steps behind it): given, shipped, or collected and trained here."""
    from mosim_ray.envs.world_models import resolve_world_model
    from mosim_ray.model import WorldModel

    trained_here = out / "model_run"
    if config.collect_episodes > 0 and config.resume and (trained_here / "result.json").is_file():
        checkpoint = str((trained_here / "model").resolve())  # a resumed run keeps its model
    elif config.collect_episodes > 0:
        from mosim_ray.runs import train_model
        from mosim_ray.train.config import TrainConfig

        model_run = train_model.TrainModelConfig(
            task=config.task,
            collect_episodes=config.collect_episodes,
            collect_steps=config.collect_steps,
            training=TrainConfig(minutes=config.train_minutes, seed=config.seed),
        )
        from mosim_ray.runs.provenance import write_json

        trained = train_model.run(model_run, trained_here, progress=progress)
        write_json(trained, trained_here / "result.json")  # the model is whole: a resume keeps it
        checkpoint = str((trained_here / "model").resolve())
    else:
        checkpoint = resolve_world_model(config.task, config.checkpoint)
    model = WorldModel.load(checkpoint)
    return checkpoint, int(model.info.get("data", {}).get("real_steps", 0))


def run(
    config: ZeroShotConfig, out: str | Path, *, report: Report | None = None, progress: bool = False
) -> dict[str, Any]:
    """Train ``config.algo`` in ``mosim-imagined``; save the policy and curve under ``out``."""
    from mosim_ray.envs.rllib import IMAGINED
    from mosim_ray.runs.policy_training import learn_in

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    checkpoint, real_steps = world_model(config, out, progress)
    env_config = {"checkpoint": checkpoint, "task": config.task, "time_limit": config.time_limit}
    steps, label = config.imagined_steps, "imagined steps"
    trained = learn_in(config, IMAGINED, env_config, steps, out, label, report, progress)
    result = {
        "task": config.task,
        "algo": config.algo,
        "checkpoint": checkpoint,
        **{k: v for k, v in trained.items() if k != "env_steps"},
        "imagined_steps": trained["env_steps"],
        "imagined_time_limit": config.time_limit,
        "imagined_envs": config.num_envs * max(1, config.env_runners),
        "real_steps": real_steps,
        "overrides": config.overrides,
        "wall_s": time.perf_counter() - started,
        "settings": asdict(config),
    }
    plot(result, config, out)
    return result


def plot(result: dict[str, Any], config: ZeroShotConfig, out: Path) -> None:
    import json

    from mosim_ray.eval.plots import plot_rl_curves

    label = f"zero-shot, imagined episodes of {config.time_limit} steps (x: imagined steps)"
    curves = {label: result["curve"]}
    if config.baseline:
        base = json.loads(Path(config.baseline).read_text())
        result["baseline_sac_real_return_mean"] = base["real_return_mean"]
        result["baseline_sac_real_return_std"] = base["real_return_std"]
        result["baseline_sac_env_steps"] = base["env_steps"]
        curves["SAC in the real env (x: real steps)"] = base["curve"]
    title = f"{config.task}: zero-shot {config.algo.upper()} in MoSim"
    plot_rl_curves(curves, out / "curve.png", title)


def point(p: dict[str, Any]) -> str:
    return (
        f"  {p['env_steps']:>8,} imagined steps: imagined return {p['train_return_mean']:7.1f}, "
        f"real {p['real_return_mean']:7.1f} ± {p['real_return_std']:.1f}"
    )


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['task']}: real return {result['real_return_mean']:.1f} ± "
        f"{result['real_return_std']:.1f} after {result['imagined_steps']:,} imagined steps and "
        f"{result['real_steps']:,} real steps ({result['wall_s']:.0f} s)"
    )


def curve(result: dict[str, Any]) -> list[dict[str, float]]:
    """One point: the final policy, at the real steps behind the world model."""
    return [
        {
            "real_steps": result["real_steps"],
            "return_mean": result["real_return_mean"],
            "return_std": result["real_return_std"],
        }
    ]


def check(config: ZeroShotConfig) -> None:
    """The world model (given or shipped) simulates the task's robot."""
    from mosim_ray.envs.world_models import resolve_world_model

    if config.collect_episodes == 0:
        resolve_world_model(config.task, config.checkpoint)


KIND = RunKind(
    name="zero_shot",
    config=ZeroShotConfig,
    run=run,
    doc=__doc__,
    default_out=lambda c: f"runs/zero_shot/{folder_name(c.task)}",
    summary=summary,
    point=point,
    columns=("real_return_std", "env_steps"),  # in imagination: imagined steps
    check=check,
    curve=curve,
    inputs=(
        "checkpoint",
        "baseline",
    ),
)
