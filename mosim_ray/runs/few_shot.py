"""Few-shot MoSim RL: SAC learns in imagination; the model keeps learning from a trickle of real
data collected with the current policy (the paper's schedule, as the RLlib algorithm MoSimSAC).

    python pipelines/few_shot.py --task reacher-hard --data data/reacher-easy --real-steps 10000

Starts from a zero-shot model (--checkpoint, default the shipped one) and its real training data
(--data). Every trainer.update_every (100) imagined steps the trainer actor makes a model update;
every few_shot.imagined_per_round (5,000) imagined steps, collector actors run the current
policy for few_shot.real_per_round (1,000) real steps in parallel, the trainer ingests them and
imagined episodes reset from them. Writes result.json (every count, time by activity, curves),
curves.png and the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from mosim_ray.config import ConfigError
from mosim_ray.runs import schedule
from mosim_ray.runs.kind import RunKind
from mosim_ray.runs.names import folder_name


@dataclass(frozen=True)
class FewShotConfig(schedule.ScheduleConfig):
    """A few-shot MoSimSAC run."""

    schedule: str = "few_shot"
    """fixed: this kind runs the few-shot schedule"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.schedule != "few_shot":
            raise ConfigError(
                "few_shot runs the few_shot schedule (pipelines/on_policy.py runs the other)"
            )
        if not self.data and not self.collect_episodes:
            raise ConfigError(
                f"few_shot starts from the model's real training data: --data DIR (make one with "
                f"python pipelines/collect.py --task {self.task} --episodes 200 --steps 500 "
                f"--process.kind poisson --out data/{self.task}), or --collect-episodes N"
            )


KIND = RunKind(
    name="few_shot",
    config=FewShotConfig,
    run=schedule.run,
    doc=__doc__,
    default_out=lambda c: f"runs/few_shot/{folder_name(c.task)}",
    summary=schedule.summary,
    point=schedule.point,
    columns=("real_return_std", "real_steps", "imagined_steps", "model_version"),
    trial_resources=schedule.trial_resources,
    check=schedule.check,
    curve=schedule.curve,
    curve_at_saves=True,
    inputs=(
        "checkpoint",
        "data",
        "penalty.density",
        "baseline",
        "peer",
    ),
)
