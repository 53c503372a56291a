"""Actuation as MuJoCo states it: the generalized force of each unit of control, from the MJCF."""

from __future__ import annotations

import torch

from mosim_ray.tasks.spec import TaskSpec


def known_moments(spec: TaskSpec) -> torch.Tensor:
    """c B [nv, nu]: the generalized force of each unit of control, scaled so max |entry| is 1
    (``MoSimDynamics``' known actuation)."""
    if not spec.actuator_moments:
        raise ValueError(
            f"task {spec.name!r}: its spec lists no actuator moments (an actuator that is not a "
            "plain joint motor, or a checkpoint written before specs carried them); "
            "actuation: known needs them, use actuation: learned"
        )
    b = torch.zeros(spec.nv, spec.nu)
    for u, (dof, moment) in enumerate(spec.actuator_moments):
        b[dof, u] = moment
    return b / force_unit(spec)


def force_unit(spec: TaskSpec) -> float:
    """1 / c: the generalized force that MoSim's known actuation calls 1, max |moment| (so its
    learned Minv is the physical one times this)."""
    return max(1e-12, max(abs(m) for _, m in spec.actuator_moments))
