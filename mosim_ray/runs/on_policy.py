"""On-policy MoSim RL: the policy acts in the real environment, the model is updated every 100
real steps, and SAC also learns from short imagined branches off real states (MoSimSAC).

    python pipelines/on_policy.py --task reacher-hard --real-steps 20000

The env runners (--env-runners x --num-envs real robots) collect real transitions; every
trainer.update_every (100) real steps the trainer actor updates the model on its replay of real
segments (with no --data, updates wait for the first real segment); on_policy.branches_per_real_step
branches of on_policy.branch_length imagined steps start from real states, and each policy batch
is on_policy.real_fraction real, the rest imagined. Writes result.json, curves.png and the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from mosim_ray.config import ConfigError
from mosim_ray.runs import schedule
from mosim_ray.runs.kind import RunKind
from mosim_ray.runs.names import folder_name


@dataclass(frozen=True)
class OnPolicyConfig(schedule.ScheduleConfig):
    """An on-policy MoSimSAC run."""

    schedule: str = "on_policy"
    """fixed: this kind runs the on-policy schedule"""
    num_envs: int = 1
    """real robots per env runner"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.schedule != "on_policy":
            raise ConfigError(
                "on_policy runs the on_policy schedule (pipelines/few_shot.py runs the other)"
            )


KIND = RunKind(
    name="on_policy",
    config=OnPolicyConfig,
    run=schedule.run,
    doc=__doc__,
    default_out=lambda c: f"runs/on_policy/{folder_name(c.task)}",
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
