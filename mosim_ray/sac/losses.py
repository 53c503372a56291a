"""SAC's losses for continuous actions, as RLlib 2.60 computes them, with a choice of critic loss.

``sac_losses`` is ``SACTorchLearner._compute_loss_for_module_continuous`` without its logging:
the same Bellman target, actor and temperature losses (a test compares the values). The critic
loss is RLlib's Huber (delta 1) or the squared error of the SAC paper and pytorch_sac.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from ray.rllib.algorithms.sac.sac_learner import QF_PREDS, QF_TWIN_PREDS
from ray.rllib.core.columns import Columns

CRITIC_LOSSES = ("huber", "mse")
"""``critic_loss`` values: "huber" (RLlib's, delta 1) or "mse" (mean squared TD error)."""


@dataclasses.dataclass(frozen=True)
class SACLosses:
    """The four losses of one SAC gradient step (scalars) and the Bellman target."""

    actor: torch.Tensor
    critic: torch.Tensor
    critic_twin: torch.Tensor | None
    alpha: torch.Tensor
    target: torch.Tensor
    """[B], detached: r + gamma^n (1 - terminated) (min target Q - alpha log pi)(s', a')."""


def check_target_bounds(bounds: Any) -> tuple[float, float] | None:
    if bounds is None:
        return None
    if len(bounds) != 2 or not float(bounds[0]) < float(bounds[1]):
        raise ValueError(f"critic_target_bounds must be [low, high] with low < high, got {bounds}")
    return float(bounds[0]), float(bounds[1])


def check_critic_loss(kind: str) -> str:
    if kind not in CRITIC_LOSSES:
        raise ValueError(f"unknown critic_loss {kind!r}; choose from {list(CRITIC_LOSSES)}")
    return kind


def critic_loss(
    pred: torch.Tensor, target: torch.Tensor, kind: str, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over the batch of ``huber_1(pred - target)`` or ``(pred - target)^2``.

    pred, target, weights: [B]. Huber with delta 1 is half the squared error for errors under 1,
    so its gradient there is half the MSE's.
    """
    if check_critic_loss(kind) == "mse":
        per_sample = F.mse_loss(pred, target, reduction="none")
    else:
        per_sample = F.huber_loss(pred, target, reduction="none", delta=1.0)
    return torch.mean(per_sample if weights is None else weights * per_sample)


def sac_losses(
    fwd_out: dict[str, torch.Tensor],
    batch: Any,
    *,
    log_alpha: torch.Tensor,
    target_entropy: float | torch.Tensor,
    gamma: float,
    twin_q: bool,
    kind: str = "huber",
    target_bounds: tuple[float, float] | None = None,
) -> SACLosses:
    """The losses from ``DefaultSACTorchRLModule.forward_train``'s output.

    fwd_out: QF_PREDS / QF_TWIN_PREDS [B] (Q of the replayed action), ``q_curr`` [B] (min Q of a
    fresh action, critics frozen), ``logp_resampled`` [B], ``q_target_next`` [B] and
    ``logp_next_resampled`` [B] (detached). batch: rewards, terminateds [B]; optional
    ``weights`` (importance weights, [B]) and ``n_step`` ([B]), as RLlib's episode buffers add.
    ``target_bounds``: the Bellman target clipped to (low, high), the values a soft Q can take
    given the task's rewards, so a critic bootstrapping on transitions that never happen cannot
    run away (None: RLlib's target as it is).
    """
    alpha = torch.exp(log_alpha)
    q_next = fwd_out["q_target_next"] - alpha.detach() * fwd_out["logp_next_resampled"]
    q_next = (1.0 - batch[Columns.TERMINATEDS].float()) * q_next
    discount = gamma ** batch["n_step"] if "n_step" in batch else gamma
    target = (batch[Columns.REWARDS] + discount * q_next).detach()
    if target_bounds is not None:
        target = target.clamp(*target_bounds)
    weights = batch.get("weights")
    critic = critic_loss(fwd_out[QF_PREDS], target, kind, weights)
    twin = critic_loss(fwd_out[QF_TWIN_PREDS], target, kind, weights) if twin_q else None
    actor = torch.mean(alpha.detach() * fwd_out["logp_resampled"] - fwd_out["q_curr"])
    alpha_loss = -torch.mean(log_alpha * (fwd_out["logp_resampled"].detach() + target_entropy))
    return SACLosses(actor, critic, twin, alpha_loss, target)
