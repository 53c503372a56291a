"""State layout and normalization: turning raw MuJoCo states into network inputs and back.

D = nq + nv, U = nu. Hinge joints that wrap enter networks as (sin, cos); horizontal root translation
is left out (the dynamics do not depend on it); quaternions of free and ball joints are integrated on
the unit sphere (dq/dt = q * (0, w) / 2 with w the local angular velocity, as MuJoCo defines it) and
re-normalized after every control step.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mosim_ray.tasks.spec import HINGE_WRAP, QUAT, TaskSpec


class StateLayout(nn.Module):
    """Index bookkeeping for one task's (qpos, qvel)."""

    def __init__(self, spec: TaskSpec):
        super().__init__()
        self.nq, self.nv, self.nu = spec.nq, spec.nv, spec.nu
        wrap, plain, quat_starts, scalar_q, scalar_dof, quat_dofs = [], [], [], [], [], []
        dof, i = 0, 0
        kinds = spec.qpos_kinds
        while i < spec.nq:
            if kinds[i] == QUAT:  # a block of 4 qpos entries driven by 3 angular velocities
                quat_starts.append(i)
                quat_dofs.append(dof)
                i, dof = i + 4, dof + 3
                continue
            scalar_q.append(i)
            scalar_dof.append(dof)
            if kinds[i] == HINGE_WRAP:
                wrap.append(i)
            elif i not in spec.translation_qpos:
                plain.append(i)
            i, dof = i + 1, dof + 1
        if dof != spec.nv:
            raise ValueError(
                f"{spec.name}: qpos kinds account for {dof} dofs, model has nv={spec.nv}"
            )
        self.n_quat = len(quat_starts)
        for name, idx in [
            ("wrap", wrap),
            ("plain", plain),
            ("scalar_q", scalar_q),
            ("scalar_dof", scalar_dof),
        ]:
            self.register_buffer(name, torch.tensor(idx, dtype=torch.long), persistent=False)
        # no quaternion: every qpos entry is one dof, in order, so dq/dt is qdot itself
        self._dq_is_qdot = scalar_q == list(range(self.nq)) == scalar_dof
        quat_idx = [list(range(s, s + 4)) for s in quat_starts]
        ang_idx = [list(range(d, d + 3)) for d in quat_dofs]
        self.register_buffer(
            "quat_idx", torch.tensor(quat_idx, dtype=torch.long).reshape(-1, 4), persistent=False
        )
        self.register_buffer(
            "ang_idx", torch.tensor(ang_idx, dtype=torch.long).reshape(-1, 3), persistent=False
        )
        self.q_feature_dim = 2 * len(wrap) + len(plain) + 4 * self.n_quat

    @property
    def state_feature_dim(self) -> int:
        return self.q_feature_dim + self.nv

    def q_features(self, q: torch.Tensor) -> torch.Tensor:
        """q: [B, nq] -> [B, q_feature_dim] (sin, cos of wrapping hinges; other entries; quats)."""
        w = q[:, self.wrap]
        parts = [torch.sin(w), torch.cos(w), q[:, self.plain]]
        if self.n_quat:
            parts.append(q[:, self.quat_idx.reshape(-1)])
        return torch.cat(parts, dim=-1)

    def qpos_derivative(self, q: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
        """dq/dt [B, nq] from q [B, nq] and qdot [B, nv]."""
        if self._dq_is_qdot:
            return qdot
        dq = torch.zeros_like(q)
        dq[:, self.scalar_q] = qdot[:, self.scalar_dof]
        if self.n_quat:
            quat = q[:, self.quat_idx]  # [B, K, 4] (w, x, y, z)
            omega = qdot[:, self.ang_idx]  # [B, K, 3], local frame
            dq[:, self.quat_idx] = 0.5 * _quat_times_vector(quat, omega)
        return dq

    def normalize_quaternions(self, q: torch.Tensor) -> torch.Tensor:
        if not self.n_quat:
            return q
        q = q.clone()
        quat = q[:, self.quat_idx]
        q[:, self.quat_idx] = quat / quat.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        return q


def _quat_times_vector(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Hamilton product q * (0, v). q: [..., 4], v: [..., 3] -> [..., 4]."""
    w, x, y, z = q.unbind(-1)
    a, b, c = v.unbind(-1)
    return torch.stack(
        [
            -x * a - y * b - z * c,
            w * a + y * c - z * b,
            w * b - x * c + z * a,
            w * c + x * b - y * a,
        ],
        dim=-1,
    )


class Normalizer(nn.Module):
    """Statistics of the training data, saved with the model (buffers).

    feat_mean/std [F]: state features; action_mid/half [U]: action range to [-1, 1];
    acc_std [nv]: per-step velocity change / dt; delta_std [D]: per-step state change;
    loss_scale [D]: per-dimension scale of the training loss. action_low/high [U]: the actuators'
    control range (from the task spec, not saved: the spec is), which ``action`` clamps to.
    """

    def __init__(self, layout: StateLayout, action_bounds: tuple[np.ndarray, np.ndarray]):
        super().__init__()
        d = layout.nq + layout.nv
        low, high = (torch.as_tensor(np.asarray(b), dtype=torch.float32) for b in action_bounds)
        if low.shape != (layout.nu,) or high.shape != (layout.nu,):
            raise ValueError(
                f"action bounds must have nu={layout.nu} entries each, got {tuple(low.shape)} "
                f"and {tuple(high.shape)}"
            )
        self.register_buffer("action_low", low, persistent=False)
        self.register_buffer("action_high", high, persistent=False)
        self.register_buffer("feat_mean", torch.zeros(layout.state_feature_dim))
        self.register_buffer("feat_std", torch.ones(layout.state_feature_dim))
        self.register_buffer("action_mid", torch.zeros(layout.nu))
        self.register_buffer("action_half", torch.ones(layout.nu))
        self.register_buffer("acc_std", torch.ones(layout.nv))
        self.register_buffer("delta_std", torch.ones(d))
        self.register_buffer("loss_scale", torch.ones(d))
        self.layout = layout

    @torch.no_grad()
    def fit(
        self,
        spec: TaskSpec,
        states: np.ndarray,
        actions: np.ndarray,
        next_states: np.ndarray,
        horizon: int = 16,
    ) -> None:
        """states, next_states: [N, D] one control step apart under actions [N, U]."""
        s = torch.as_tensor(states, dtype=torch.float32)
        s1 = torch.as_tensor(next_states, dtype=torch.float32)
        nq = spec.nq
        feats = torch.cat([self.layout.q_features(s[:, :nq]), s[:, nq:]], dim=-1)
        self.feat_mean.copy_(feats.mean(0))
        self.feat_std.copy_(feats.std(0).clamp_min(1e-3))
        low, high = spec.action_bounds
        self.action_mid.copy_(torch.as_tensor((low + high) / 2, dtype=torch.float32))
        self.action_half.copy_(torch.as_tensor((high - low) / 2, dtype=torch.float32))
        delta = s1 - s
        self.delta_std.copy_(delta.std(0).clamp_min(1e-6))
        self.acc_std.copy_((delta[:, nq:] / spec.control_dt).std(0).clamp_min(1e-3))
        scale = s.std(0)
        # Translation grows without bound over an episode; its spread over a training horizon
        # is the scale that matters for prediction.
        idx = list(spec.translation_qpos)
        if idx:
            scale[idx] = delta[:, idx].std(0) * horizon
        self.loss_scale.copy_(scale.clamp_min(1e-3))

    def state_features(self, q: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
        """Normalized features [B, F] of the state."""
        f = torch.cat([self.layout.q_features(q), qdot], dim=-1)
        return (f - self.feat_mean) / self.feat_std

    def q_features(self, q: torch.Tensor) -> torch.Tensor:
        """Normalized position features [B, Fq] (a prefix of the state features)."""
        n = self.layout.q_feature_dim
        return (self.layout.q_features(q) - self.feat_mean[:n]) / self.feat_std[:n]

    def action(self, a: torch.Tensor) -> torch.Tensor:
        """Network input [B, U] of actions a [B, U]: clamped to the control range, as MuJoCo
        clamps ``ctrl`` (an infinite bound clamps nothing), then scaled to about [-1, 1].

        Every model's action passes here, so an out-of-range action predicts what MuJoCo does with
        it; an in-range one is left bit for bit as it is.
        """
        a = torch.clamp(a, self.action_low, self.action_high)
        return (a - self.action_mid) / self.action_half

    def to_json(self) -> dict[str, list[float]]:
        return {k: v.tolist() for k, v in self.state_dict().items()}
