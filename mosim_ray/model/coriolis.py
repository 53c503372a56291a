"""Coriolis and centrifugal forces from a mass matrix, as Lagrangian mechanics gives them.

For a system whose generalized coordinates are its positions (hinge and slide joints: nq = nv),
M(q) qddot + c(q, qdot) + g(q) = tau with

    c = Mdot qdot - 1/2 d/dq (qdot^T M qdot),   Mdot = sum_k dM/dq_k qdot_k,

(the Christoffel symbols of M), MuJoCo's ``qfrc_bias`` minus its gravity. Quadratic in qdot
for every q, so a model that computes it from its learned mass matrix carries to velocities it
never saw, where a network of (q, qdot) extrapolates as it happens to.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def coriolis_of(
    mass: Callable[[torch.Tensor], torch.Tensor], q: torch.Tensor, qdot: torch.Tensor
) -> torch.Tensor:
    """c(q, qdot) [B, nv] of a batched mass function q [B, nq] -> M [B, nv, nv] (the module doc's
    formula; ``tests/test_coriolis.py`` checks it against the Christoffel form): Mdot qdot by one
    forward-mode pass along qdot, d/dq (1/2 qdot^T M qdot) by one reverse-mode pass, whatever nq.
    Differentiable where grad is enabled (training goes through both); a plain value under
    ``no_grad``."""
    if torch.is_grad_enabled():
        p = q if q.requires_grad else q.detach().requires_grad_(True)
        kinetic = 0.5 * torch.einsum("bi,bij,bj->", qdot, mass(p), qdot)
        (pull,) = torch.autograd.grad(kinetic, p, create_graph=True)
    else:  # predicting (no_grad or inference_mode): a gradient all the same, kept to itself
        with torch.inference_mode(False), torch.enable_grad():
            p, v = q.clone().requires_grad_(True), qdot.clone()
            kinetic = 0.5 * torch.einsum("bi,bij,bj->", v, mass(p), v)
            (pull,) = torch.autograd.grad(kinetic, p)
        pull = pull.detach()
    _, mdot = torch.func.jvp(mass, (q,), (qdot,))
    return (mdot @ qdot.unsqueeze(-1)).squeeze(-1) - pull
