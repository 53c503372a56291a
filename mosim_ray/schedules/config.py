"""``MoSimSACConfig``: our fast SAC's config plus ``.mosim(...)``, the schedule's settings."""

from __future__ import annotations

from typing import Any

from mosim_ray.config import from_dict, overlay, to_dict
from mosim_ray.sac.algorithm import FastSACConfig, single_thread_torch
from mosim_ray.sac.presets import sac_defaults
from mosim_ray.schedules.settings import MoSimSettings


class MoSimSACConfig(FastSACConfig):
    """FastSACConfig with our SAC hyperparameters (``sac_defaults``) plus ``.mosim(...)``: the
    schedule and its ratios (``MoSimSettings``). The env follows from the schedule."""

    def __init__(self, algo_class: type | None = None) -> None:
        if algo_class is None:
            from mosim_ray.schedules.algorithm import MoSimSAC

            algo_class = MoSimSAC
        super().__init__(algo_class=algo_class)
        self.mosim_settings: dict[str, Any] = {}
        sac_defaults(self)
        self.api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        self.framework("torch")
        self.learners(num_learners=0)
        self.callbacks(on_environment_created=single_thread_torch)

    def mosim(self, **settings: Any) -> MoSimSACConfig:
        """Set schedule settings (``MoSimSettings`` fields; sections as dicts or dataclasses, or
        dotted keys as ``**{"on_policy.branch_length": 20}``). Checked now: unknown names and bad
        values raise before any actor starts."""
        if getattr(self, "_is_frozen", False):
            raise AttributeError("cannot change a frozen MoSimSACConfig; copy() it first")
        given = {
            k: to_dict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in settings.items()
        }
        merged = overlay(self.mosim_settings, given)
        from_dict(MoSimSettings, merged, "mosim")  # fails now, not in the middle of a run
        self.mosim_settings = merged
        return self

    @property
    def settings(self) -> MoSimSettings:
        return from_dict(MoSimSettings, self.mosim_settings, "mosim")
