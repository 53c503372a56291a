"""Joint ranges as MuJoCo's model states them, used as hard stops in the integrator.

MuJoCo keeps a limited hinge or slide joint inside its range (a stiff constraint force); a learned
acceleration field has to learn that force from data, and where it does not, predictions drift
past the range (a reacher wrist at 3.1 rad against its 2.79 rad limit). With ``joint_limits`` on,
each integration step ends by clamping limited joints to their range and zeroing the velocity that
points further out: an inelastic stop.

MuJoCo's limits are soft, though: a joint pushed into its limit sits past the MJCF range (in
50,000 random-action steps of reacher-easy, 8.6% of states have the wrist past 2.79 rad, by up to
0.16 rad). So the stop is at the MJCF range widened to the training data's own extremes
(``widen_to``, called where the normalizer is fitted): never inside a state MuJoCo produced.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mosim_ray.tasks.spec import TaskSpec


class JointLimits(nn.Module):
    """(q [B, nq], qdot [B, nv]) -> the same with limited joints stopped at their range."""

    def __init__(self, spec: TaskSpec):
        super().__init__()
        if not spec.joint_ranges:
            raise ValueError(
                f"task {spec.name!r}: its spec lists no joint ranges (no limited hinge or slide "
                "joint, or a checkpoint written before specs carried them); joint_limits needs them"
            )
        q_idx, v_idx, low, high = zip(*spec.joint_ranges, strict=True)
        # the indices come from the spec (which the checkpoint stores); the stops, widened by
        # the data, are saved with the weights
        self.register_buffer("q_idx", torch.tensor(q_idx), persistent=False)
        self.register_buffer("v_idx", torch.tensor(v_idx), persistent=False)
        self.register_buffer("low", torch.tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.tensor(high, dtype=torch.float32))

    @torch.no_grad()
    def widen_to(self, states: np.ndarray | torch.Tensor) -> None:
        """Move the stops out to the extremes of ``states`` [N, nq+nv] where they lie beyond."""
        q = torch.as_tensor(states, dtype=torch.float32)[:, self.q_idx]
        self.low.copy_(torch.minimum(self.low, q.min(0).values))
        self.high.copy_(torch.maximum(self.high, q.max(0).values))

    def forward(self, q: torch.Tensor, qdot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        joint = q[:, self.q_idx]
        low, high = self.low.to(q.dtype), self.high.to(q.dtype)
        speed = qdot[:, self.v_idx]
        outward = ((joint <= low) & (speed < 0)) | ((joint >= high) & (speed > 0))
        q = q.index_copy(1, self.q_idx, torch.minimum(torch.maximum(joint, low), high))
        qdot = qdot.index_copy(1, self.v_idx, torch.where(outward, torch.zeros_like(speed), speed))
        return q, qdot
