"""Joint damping as MuJoCo applies it: a force -B qdot, integrated implicitly by semi-implicit
Euler (``eulerdamp``): the velocity step uses (M + h B)^-1 in place of Minv, so a stiff damper on
a light link stays stable. Given Minv and the acceleration a = Minv f of all other forces,
(M + h B)^-1 f = (I + h Minv B)^-1 a.
"""

from __future__ import annotations

import torch


def implicit_damping(
    acc: torch.Tensor, minv: torch.Tensor, damping: torch.Tensor, h: float
) -> torch.Tensor:
    """acc [B, nv], minv [B, nv, nv], damping [nv] (diagonal B, in minv's units of force) ->
    (I + h minv B)^-1 acc [B, nv]."""
    eye = torch.eye(acc.shape[-1], dtype=acc.dtype, device=acc.device)
    system = eye + h * minv * damping  # minv B: column j scaled by damping j
    return torch.linalg.solve(system, acc.unsqueeze(-1)).squeeze(-1)
