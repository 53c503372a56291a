"""The base class of every dynamics model: one control step, open-loop rollouts, the loss.

Every model maps (state [B, D], action [B, U]) to the state one control step later, in raw MuJoCo
units, and trains with ``loss`` on segments (states [B, H+1, D], actions [B, H, U]).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mosim_ray.model.config import ModelConfig
from mosim_ray.model.state import Normalizer, StateLayout
from mosim_ray.tasks.spec import TaskSpec

Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(state [B, D], action [B, U]) -> next state [B, D]."""


class DynamicsModel(nn.Module):
    """Base class. Subclasses implement ``step``; ``loss`` defaults to the multi-step rollout MSE."""

    def __init__(self, spec: TaskSpec, config: ModelConfig):
        super().__init__()
        self.spec, self.config = spec, config
        self.layout = StateLayout(spec)
        self.norm = Normalizer(self.layout, spec.action_bounds)
        self.dt = spec.control_dt

    def step(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """state [B, D], action [B, U] -> next state [B, D]."""
        raise NotImplementedError

    def rollout(
        self, state0: torch.Tensor, actions: torch.Tensor, step: Step | None = None
    ) -> torch.Tensor:
        """state0 [B, D], actions [B, H, U] -> states after each action [B, H, D]. ``step``: what
        steps (default ``self.step``; e.g. a ``CompiledStep`` of it)."""
        step = step or self.step
        out, s = [], state0
        for t in range(actions.shape[1]):
            s = step(s, actions[:, t])
            out.append(s)
        return torch.stack(out, dim=1)

    def loss(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        weights: torch.Tensor,
        normalized: bool = True,
        step: Step | None = None,
    ) -> torch.Tensor:
        """Weighted mean over steps of the squared error of an open-loop rollout, each dimension
        divided by ``norm.loss_scale`` (``normalized=False``: raw units).

        states [B, H+1, D] (true, from s_0), actions [B, H, U], weights [H] summing to 1;
        ``step`` as ``rollout`` takes it.
        """
        pred = self.rollout(states[:, 0], actions, step)
        scale = self.norm.loss_scale if normalized else torch.ones_like(self.norm.loss_scale)
        err = ((pred - states[:, 1:]) / scale).pow(2).mean(dim=(0, 2))
        return (err * weights).sum()

    def stage_parameters(self, stage: int) -> list[nn.Parameter]:
        """Parameters trained in stage ``stage`` (1-based); all of them by default."""
        return list(self.parameters())

    @property
    def stages(self) -> int:
        return 1
