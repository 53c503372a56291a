"""Train a MoSim world model (or a baseline) on real rollouts and judge it on held-out episodes.

    python pipelines/train.py --task reacher-easy --data data/reacher-easy --training.minutes 15 \
        --out runs/reacher-easy

Writes <out>/model (the best checkpoint by validation loss: WorldModel.load(<out>/model)),
train_log.csv, tb/, train_curve.png and result.json with the held-out errors. Training state is
saved at every evaluation: after a crash, the same command with --resume goes on from there.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mosim_ray.model.config import ModelConfig
from mosim_ray.runs.kind import Report, RunKind
from mosim_ray.runs.names import folder_name
from mosim_ray.train.config import STATE_FILE, TrainConfig


@dataclass(frozen=True)
class Architecture:
    """Which model and how it integrates (``ModelConfig`` less the task)."""

    kind: str = ModelConfig.kind
    """mosim | structure_free (ResNet acceleration, same integrator) | ensemble (MBPO-style MLPs)
    | constant (predicts that nothing moves)"""
    size: str = ModelConfig.size
    """small | medium | large (the paper's appendix)"""
    correctors: int | None = None
    """number of correctors (default: the size's)"""
    method: str = ModelConfig.method
    """ODE solver: auto (the simulator's own scheme), symplectic, rk4, euler or dopri5"""
    substeps: int | None = None
    """solver steps per control step (default: MuJoCo's substeps for auto and symplectic)"""
    joint_limits: bool = ModelConfig.joint_limits
    """stop limited joints at their MJCF range (widened to the data's extremes) after every step"""
    soft_limits: bool = ModelConfig.soft_limits
    """mosim: push limited joints back as MuJoCo's soft limit constraint does, through Minv"""
    known_damping: bool = ModelConfig.known_damping
    """mosim: the MJCF's joint damping as MuJoCo applies it (implicit where its Euler is)"""
    known_stiffness: bool = ModelConfig.known_stiffness
    """mosim: the MJCF's joint springs as MuJoCo applies them (cheetah's legs)"""
    contact_features: bool = ModelConfig.contact_features
    """mosim: the correctors also see each capsule end's gap to the floor and its velocity"""
    coriolis: bool = ModelConfig.coriolis
    """mosim: Coriolis and centrifugal forces from the learned mass matrix"""
    actuation: str = ModelConfig.actuation
    """mosim's tau(a): learned (an MLP of the action) | known (MuJoCo's gear * ctrl, from the MJCF)"""

    def model_config(self, task: str) -> ModelConfig:
        return ModelConfig(task=task, **asdict(self))


@dataclass(frozen=True)
class Judgement:
    """How the trained model is judged: open-loop rollouts on held-out episodes."""

    horizon: int = 16
    """the headline figure: raw-state MSE of rollouts of this many steps (``mse_h<H>``)"""
    horizons: tuple[int, ...] = (3, 16, 100)
    """horizons of the final test errors"""
    segments: int = 256
    """segments per horizon"""
    reports: int = 8
    """intermediate judgements, evenly over the time budget (for ASHA)"""
    val_share: float = 0.1
    """share of the episodes for validation (early stopping, best weights)"""
    test_share: float = 0.1
    """share of the episodes held out for the judgement (never trained or validated on)"""

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.segments < 1 or self.reports < 1:
            raise ValueError("judge horizon, segments and reports must be >= 1")
        if min(self.val_share, self.test_share) <= 0 or self.val_share + self.test_share >= 1:
            raise ValueError(
                f"judge val_share and test_share must be > 0 with a sum below 1, got "
                f"{self.val_share} and {self.test_share}"
            )


@dataclass(frozen=True)
class TrainModelConfig:
    """A world model trained on one folder of real rollouts."""

    task: str = "reacher-easy"
    """dm_control task or mjcf:<model.xml>"""
    data: str | None = None
    """folder of shards (pipelines/collect.py); None: collect ``collect_episodes`` here first"""
    collect_episodes: int = 0
    """with no ``data``: random (Poisson-switching) episodes collected into <out>/data first"""
    collect_steps: int = 500
    """steps per collected episode"""
    model: Architecture = field(default_factory=Architecture)
    training: TrainConfig = field(default_factory=TrainConfig)
    judge: Judgement = field(default_factory=Judgement)
    obs_noise: float = 0.0
    """Gaussian noise on training and validation states, as a share of each state dimension's
    std (the test episodes stay clean): the paper's noise-robustness setting"""
    skip_bad_shards: bool = False
    resume: bool = False
    """continue an interrupted run from <out>/trainer_state.pt; after a finished one, train on
    from the weights in <out>/model"""
    threads: int = 2
    """torch CPU threads (give 1 to each of two runs side by side on 2 cores)"""

    def __post_init__(self) -> None:
        self.model.model_config(self.task)  # an unknown kind, size or solver fails here
        if self.data is None and self.collect_episodes < 3:
            raise ValueError(
                "train needs --data DIR (pipelines/collect.py writes one), or "
                "--collect-episodes N (at least 3) to collect random data here first"
            )


def run(
    config: TrainModelConfig,
    out: str | Path,
    *,
    report: Report | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train under ``out`` and judge on held-out episodes; ``report`` gets each judgement."""
    import torch

    from mosim_ray.data import RolloutDataset
    from mosim_ray.eval.metrics import prediction_errors
    from mosim_ray.eval.plots import plot_training_curve
    from mosim_ray.model import WorldModel
    from mosim_ray.model.nets import count_parameters
    from mosim_ray.runs.collect import random_data
    from mosim_ray.train import fit_normalizer
    from mosim_ray.train.judged import JudgedTrainer, judge

    out = Path(out)
    torch.set_num_threads(config.threads)
    data_dir = config.data or random_data(
        config.task,
        config.collect_episodes,
        config.collect_steps,
        out / "data",
        config.training.seed,
    )
    data = RolloutDataset.open(data_dir, skip_bad=config.skip_bad_shards)
    if data.task != config.task:
        raise ValueError(f"{data_dir} holds {data.task!r} data, not {config.task!r}")
    j, seed = config.judge, config.training.seed
    train, val, test = data.split((1 - j.val_share - j.test_share, j.val_share, j.test_share), seed)
    longest = max((e.length for e in test.episodes), default=0)
    if longest < j.horizon:
        raise ValueError(
            f"{data_dir}: no held-out episode as long as judge.horizon {j.horizon} "
            f"({len(data.episodes)} episodes, test share {j.test_share}); collect more"
        )
    train = train.with_state_noise(config.obs_noise, seed=seed)
    val = val.with_state_noise(config.obs_noise, seed=seed + 1)
    torch.manual_seed(seed)  # before the model is built: same seed, same initial weights
    if config.resume and (out / "model").is_dir():
        model = WorldModel.load(out / "model", task=config.task)
    else:
        model = WorldModel.create(config.model.model_config(config.task))
        fit_normalizer(model, train, config.training.horizon)
    # what the model has seen of the real world: runs that use it count these as real steps
    model.info["data"] = {
        "path": str(data_dir),
        "episodes": len(data.episodes),
        "real_steps": data.num_steps,
        "train_steps": train.num_steps,
        "process": data.meta.get("process", {}).get("kind"),
        "obs_noise": config.obs_noise,
    }
    started = time.perf_counter()
    trainer = JudgedTrainer(
        model,
        train,
        val,
        config.training,
        out,
        judge=lambda: judge(model, test, j.horizon, j.segments, seed),
        report=report,
        every_s=config.training.minutes * 60 / j.reports,
    )
    summary = trainer.run(progress=progress, resume=config.resume)
    plot_training_curve(
        summary.pop("history", []), out / "train_curve.png", f"{config.task} ({model.config.kind})"
    )
    # the trainer leaves the best weights (by validation loss) in the model
    final = judge(model, test, j.horizon, j.segments, seed)
    horizons = tuple(h for h in j.horizons if h <= longest)
    errors = prediction_errors(model, test, horizons=horizons, segments=j.segments, seed=seed)
    result = {
        **final,
        **summary,
        "best_val_loss": trainer.best_val,
        "test_errors": [e.as_dict() for e in errors],
        "task": config.task,
        "kind": model.config.kind,
        "size": model.config.size,
        "parameters": count_parameters(model.dynamics),
        "data": str(data_dir),
        "real_steps": data.num_steps,
        "episodes": {
            "train": len(train.episodes),
            "val": len(val.episodes),
            "test": len(test.episodes),
        },
        "wall_s": time.perf_counter() - started,
        "settings": asdict(config),
    }
    if report is not None:
        report({**final, "final": True})
    return result


def point(p: dict[str, Any]) -> str:
    h = next(k for k in p if k.startswith("mse_h") and k[5:].isdigit())
    return f"  {p.get('updates', 0):>6} updates: held-out {h} {p[h]:.4g}"


def summary(result: dict[str, Any]) -> str:
    from mosim_ray.eval.metrics import HorizonError, format_errors

    errors = format_errors([HorizonError(**e) for e in result["test_errors"]])
    return (
        f"test episodes ({result['episodes']['test']}), open-loop prediction error:\n{errors}\n"
        f"{result['task']} {result['kind']}: {result['updates']} updates in "
        f"{result['seconds']:.0f} s, validation loss {result['val_loss']:.3e}"
    )


def figures(result: dict[str, Any]) -> dict[str, float]:
    """Held-out errors by name (``eval.metrics.error_figures``)."""
    from mosim_ray.eval.metrics import error_figures

    return error_figures(result["test_errors"])


def default_out(config: TrainModelConfig) -> str:
    return f"runs/train/{folder_name(config.task)}"


KIND = RunKind(
    name="train",
    config=TrainModelConfig,
    save=STATE_FILE,
    run=run,
    doc=__doc__,
    default_out=default_out,
    summary=summary,
    point=point,
    uses_ray=False,
    metric="mse_h16",
    figures=figures,
    mode="min",
    columns=("mse_h16_finite", "finite_share_h16", "val_loss", "updates", "seconds"),
    metrics=lambda c: {
        f"mse_h{c.judge.horizon}",
        f"mse_h{c.judge.horizon}_finite",
        f"normalized_mse_h{c.judge.horizon}",
        f"constant_mse_h{c.judge.horizon}",
        "val_loss",
        "best_val_loss",
    },
    inputs=("data",),
)
