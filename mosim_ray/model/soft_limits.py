"""Joint limits as MuJoCo enforces them: a soft constraint force through the inverse mass matrix.

For each limited hinge or slide joint past its range (less its margin), MuJoCo adds a constraint
with Jacobian row J = +-e_dof, reference acceleration aref = -b J qdot - k d(pos) (pos - margin)
(b, k from solref; the impedance d from solimp) and regulariser R = (1 - d) / d * dof_invweight0
(in the model's units of force: MoSim's known actuation fixes them; a learned one leaves the scale
of Minv free, so ``soft_limits`` needs ``actuation: known``),
and solves (J Minv J^T + R) f = aref - J a0 for a force f >= 0 that pushes the joint back; the
acceleration becomes a0 + Minv J^T f. Given MoSim's learned Minv and its unconstrained
acceleration a0, ``SoftLimits`` applies the same law (contacts and other constraints are left to
the learned parts).
"""

from __future__ import annotations

import torch
from torch import nn

from mosim_ray.tasks.spec import TaskSpec

_MINVAL = 1e-15  # MuJoCo's mjMINVAL
_MINIMP, _MAXIMP = 0.0001, 0.9999  # MuJoCo's clamp of solimp's impedances


class SoftLimits(nn.Module):
    """(q [B, nq], qdot [B, nv], a0 [B, nv], minv [B, nv, nv]) -> acceleration [B, nv]."""

    def __init__(self, spec: TaskSpec, force_unit: float = 1.0):
        """``force_unit``: the physical generalized force the model's unit of force stands for
        (its Minv is the physical one times this; ``actuation.force_unit``)."""
        super().__init__()
        limits = len(spec.joint_ranges)
        if not limits or len(spec.limit_softness) != limits or len(spec.dof_invweight0) != spec.nv:
            raise ValueError(
                f"task {spec.name!r}: its spec lists no soft joint limits (no limited hinge or "
                "slide joint, limits disabled in the MJCF, or a checkpoint written before specs "
                "carried them); soft_limits needs them"
            )
        q_idx, v_idx, low, high = zip(*spec.joint_ranges, strict=True)
        p = torch.tensor(spec.limit_softness, dtype=torch.float64)
        ref0, ref1, dmin, dmax, width, mid, power, margin = p.T
        invweight = torch.tensor(spec.dof_invweight0, dtype=torch.float64)[list(v_idx)]
        dmin, dmax = dmin.clamp(_MINIMP, _MAXIMP), dmax.clamp(_MINIMP, _MAXIMP)
        stiff = ref0 > 0
        # positive solref: (time constant, damping ratio); negative: (-stiffness, -damping)
        b = torch.where(stiff, 2 / (dmax * ref0), -ref1 / dmax)
        k = torch.where(stiff, 1 / (dmax * ref0 * ref1) ** 2, -ref0 / dmax**2)
        for name, v in [("q_idx", q_idx), ("v_idx", v_idx)]:
            self.register_buffer(name, torch.tensor(v), persistent=False)
        values = dict(low=low, high=high)
        values |= dict(b=b, k=k, dmin=dmin, dmax=dmax, width=width, mid=mid, power=power)
        values |= dict(margin=margin, invweight=invweight * force_unit)
        for name, v in values.items():
            self.register_buffer(name, torch.as_tensor(v, dtype=torch.float32), persistent=False)

    def impedance(self, pos: torch.Tensor) -> torch.Tensor:
        """MuJoCo's d(pos) in [dmin, dmax] from solimp, pos [B, L] (already less the margin)."""
        x = (pos.abs() / self.width.clamp_min(_MINVAL)).clamp(0, 1)
        a = 1 / self.mid ** (self.power - 1)
        c = 1 / (1 - self.mid) ** (self.power - 1)
        y = torch.where(x <= self.mid, a * x**self.power, 1 - c * (1 - x) ** self.power)
        d = self.dmin + y * (self.dmax - self.dmin)
        flat = (self.dmin == self.dmax) | (self.width <= _MINVAL)
        return torch.where(flat, 0.5 * (self.dmin + self.dmax), d)

    def forward(self, q, qdot, a0, minv):
        below, above = q[:, self.q_idx] - self.low, self.high - q[:, self.q_idx]
        lower = below < self.margin
        active = lower | (above < self.margin)
        if not bool(active.any()):
            return a0
        sign = torch.where(lower, 1.0, -1.0) * active  # [B, L]: J = sign * e_dof
        pos = torch.where(lower, below, above) - self.margin
        imp = self.impedance(pos)
        aref = -self.b * sign * qdot[:, self.v_idx] - self.k * imp * pos
        reg = ((1 - imp) / imp * self.invweight).clamp_min(_MINVAL)
        rows = minv[:, self.v_idx]  # [B, L, nv]: Minv's rows of the limited dofs
        a_mat = sign[:, :, None] * rows[:, :, self.v_idx] * sign[:, None, :]
        target = aref - sign * a0[:, self.v_idx]
        return a0 + ((sign * self._forces(a_mat, reg, target, active)).unsqueeze(-1) * rows).sum(1)

    def _forces(self, a_mat, reg, target, active) -> torch.Tensor:
        """f >= 0 [B, L] with (A + R) f - target >= 0 and zero where f > 0 (the limits' forces:
        a box-constrained quadratic problem), by principal pivoting from all active limits."""
        hessian = a_mat + torch.diag_embed(reg)
        on = active.clone()
        for _ in range(2 * len(self.low)):
            # limits not in the set: an identity row and a zero right-hand side (force 0)
            o = on.to(target.dtype)
            system = hessian * o[:, :, None] * o[:, None, :] + torch.diag_embed(1 - o)
            force = torch.linalg.solve(system, (target * o).unsqueeze(-1)).squeeze(-1)
            slack = (hessian @ force.unsqueeze(-1)).squeeze(-1) - target
            pulls = on & (force < 0)
            needed = active & ~on & (slack < -1e-6 * target.abs().amax(1, keepdim=True))
            if not bool((pulls | needed).any()):
                break
            on = (on & ~pulls) | needed
        return force.clamp_min(0)
