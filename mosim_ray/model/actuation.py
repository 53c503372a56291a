"""Physics MuJoCo states in the MJCF, for MoSim: the actuation (the generalized force of each unit
of control), and on top of it the joint damping, the joint springs and the soft joint limits.

With the actuation known, MoSim's unit of force is ``force_unit(spec)`` newton-metres (or
newtons), so its learned Minv is the physical one times that: the scale it starts at, and the
units in which the damping and the limit law are stated.
"""

from __future__ import annotations

import torch
from torch import nn

from mosim_ray.model.config import ModelConfig
from mosim_ray.model.damping import implicit_damping
from mosim_ray.model.soft_limits import SoftLimits
from mosim_ray.tasks.spec import TaskSpec


def known_moments(spec: TaskSpec) -> torch.Tensor:
    """c B [nv, nu]: the generalized force of each unit of control, scaled so max |entry| is 1
    (``MoSimDynamics``' known actuation)."""
    if not spec.actuator_moments or len(spec.dof_invweight0) != spec.nv:
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
    """1 / c: the generalized force that MoSim's known actuation calls 1, max |moment|."""
    return max(1e-12, max(abs(m) for _, m in spec.actuator_moments))


class KnownPhysics(nn.Module):
    """MoSim's known parts: tau(a), Minv's starting scale, damping, springs and soft limits."""

    def __init__(self, spec: TaskSpec, config: ModelConfig, h: float | None):
        """``h``: the integrator's step where it is MuJoCo's semi-implicit Euler (damping is
        then implicit as in MuJoCo), else None (explicit)."""
        super().__init__()
        unit = force_unit(spec) if spec.actuator_moments else 1.0
        self.register_buffer("moments", known_moments(spec), persistent=False)
        invweight = torch.tensor(spec.dof_invweight0, dtype=torch.float32)
        self.register_buffer("minv_scale", (invweight * unit).sqrt(), persistent=False)
        damping = torch.tensor(spec.dof_damping or [0.0] * spec.nv, dtype=torch.float32)
        self.damped = config.known_damping and bool(spec.dof_damping)
        self.register_buffer("damping", damping / unit, persistent=False)
        self.implicit_h = h if self.damped and spec.implicit_damping else None
        self.sprung = config.known_stiffness and bool(spec.joint_stiffness)
        springs = spec.joint_stiffness or ((0, 0, 0.0, 0.0),)
        self.register_buffer("spring_q", torch.tensor([s[0] for s in springs]), persistent=False)
        self.register_buffer("spring_dof", torch.tensor([s[1] for s in springs]), persistent=False)
        stiffness = torch.tensor([s[2] for s in springs], dtype=torch.float32)
        self.register_buffer("stiffness", stiffness / unit, persistent=False)
        reference = torch.tensor([s[3] for s in springs], dtype=torch.float32)
        self.register_buffer("spring_reference", reference, persistent=False)
        self.limits = SoftLimits(spec, unit) if config.soft_limits else None

    def tau(self, action: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """Generalized force [B, nv] of actions [B, U], clamped to [low, high] as MuJoCo does."""
        return torch.clamp(action, low, high) @ self.moments.T

    @property
    def has_passive(self) -> bool:
        """Whether ``passive`` adds anything (known damping or springs)."""
        return self.damped or self.sprung

    def passive(self, q: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
        """The known passive force [B, nv]: damping (where ``damped``) and springs (where
        ``sprung``); callers add it only where ``has_passive``."""
        force = -self.damping * qdot if self.damped else torch.zeros_like(qdot)
        if self.sprung:
            stretch = q[:, self.spring_q] - self.spring_reference
            force = force.index_add(1, self.spring_dof, -self.stiffness * stretch)
        return force

    def finish(self, q, qdot, acc, minv) -> torch.Tensor:
        """The acceleration of every other force [B, nv] -> with the limits' push and the
        implicit damping step, in MuJoCo's order."""
        if self.limits is not None:
            acc = self.limits(q, qdot, acc, minv)
        if self.implicit_h is not None:
            acc = implicit_damping(acc, minv, self.damping, self.implicit_h)
        return acc
