"""The dynamics' step written plainly, as it was before the speed work: the oracle that tests
hold the fast code to (bit for bit) and the eager baseline that benchmarks time it against.

Same weights, same operations as ``ODEDynamics.step`` computed: submodule calls, every feature
recomputed where it is used, the mass matrix built densely, torchdiffeq for Runge-Kutta. Not
used for prediction or training.
"""

from __future__ import annotations

import torch
from torch import nn
from torchdiffeq import odeint

from mosim_ray.model.dynamics import MoSimDynamics, ODEDynamics, StructureFreeDynamics
from mosim_ray.model.nets import MLP, ResNet


def reference_step(dyn: ODEDynamics, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
    """state [B, D], action [B, U] -> next state [B, D], as ``dyn.step`` computes it."""
    if dyn.method == "dopri5":
        return dyn.step(state, action)  # unchanged: torchdiffeq's adaptive solver
    nq, layout = dyn.spec.nq, dyn.layout
    act = _prepare_action(dyn, action)
    if dyn.method == "symplectic":
        h = dyn.dt / dyn.substeps
        q, qdot = state[:, :nq], state[:, nq:]
        for _ in range(dyn.substeps):
            qdot = qdot + h * _acceleration(dyn, q, qdot, act)
            q = layout.normalize_quaternions(q + h * _qpos_derivative(layout, q, qdot))
        return torch.cat([q, qdot], dim=-1)

    def field(t, y):
        q, qdot = y[:, :nq], y[:, nq:]
        return torch.cat([_qpos_derivative(layout, q, qdot), _acceleration(dyn, q, qdot, act)], -1)

    t = torch.tensor([0.0, dyn.dt], dtype=state.dtype, device=state.device)
    fixed = {"step_size": dyn.dt / dyn.substeps}
    y = odeint(field, state, t, method=dyn.method, options=fixed)[-1]
    return torch.cat([layout.normalize_quaternions(y[:, :nq]), y[:, nq:]], dim=-1)


def reference_rollout(dyn: ODEDynamics, state0: torch.Tensor, actions: torch.Tensor):
    """state0 [B, D], actions [B, H, U] -> [B, H, D]."""
    out, s = [], state0
    for t in range(actions.shape[1]):
        s = reference_step(dyn, s, actions[:, t])
        out.append(s)
    return torch.stack(out, dim=1)


def _prepare_action(dyn, action):
    if isinstance(dyn, MoSimDynamics) and dyn.known_actuation:
        return dyn.prepare_action(action)  # a product with a fixed matrix: nothing to speed up
    a = dyn.norm.action(action)
    if isinstance(dyn, MoSimDynamics):
        return {"a": a, "tau": _mlp(dyn.action_encoder, a)}
    return {"a": a}


def _acceleration(dyn, q, qdot, act):
    if isinstance(dyn, StructureFreeDynamics):
        x = torch.cat([_state_features(dyn, q, qdot), act["a"]], dim=-1)
        return dyn.norm.acc_std * _resnet(dyn.net, x)
    x = _state_features(dyn, q, qdot)
    force = _resnet(dyn.state_encoder, x) + act["tau"]
    if dyn.known_actuation and dyn.known.has_passive:
        force = force + dyn.known.passive(q, qdot)
    if dyn.coriolis:
        force = force - dyn.coriolis_force(q, qdot)
    minv = _minv(dyn, q)
    acc = (minv @ force.unsqueeze(-1)).squeeze(-1)
    k = int(dyn.active_correctors)
    if k:
        xa = torch.cat([x, act["a"]], dim=-1)
        if dyn.contacts is not None:
            xa = torch.cat([xa, dyn.contacts(q, qdot)], dim=-1)
        acc = acc + dyn.norm.acc_std * sum(_resnet(c, xa) for c in dyn.correctors[:k])
    return dyn.known.finish(q, qdot, acc, minv) if dyn.known_actuation else acc


def _minv(dyn, q):
    n = dyn.spec.nv
    x = _q_features(dyn, q) if dyn.layout.q_feature_dim else q.new_zeros(len(q), 1)
    flat = _resnet(dyn.pos_encoder, x)
    rows, cols = torch.tril_indices(n, n, device=q.device)
    diag = rows == cols
    flat = torch.where(diag, nn.functional.softplus(flat + 0.5413) + dyn.EPS, flat)
    L = flat.new_zeros(len(q), n, n)
    L[:, rows, cols] = flat
    eye = torch.eye(n, dtype=flat.dtype, device=flat.device)
    s = dyn.known.minv_scale if dyn.known_actuation else dyn.norm.acc_std.sqrt()
    m = s[:, None] * (L @ L.transpose(1, 2) + dyn.EPS * eye) * s[None, :]
    return 0.5 * (m + m.transpose(1, 2))


def _layout_q_features(layout, q):
    w = q[:, layout.wrap]
    parts = [torch.sin(w), torch.cos(w), q[:, layout.plain]]
    if layout.n_quat:
        parts.append(q[:, layout.quat_idx.reshape(-1)])
    return torch.cat(parts, dim=-1)


def _state_features(dyn, q, qdot):
    norm = dyn.norm
    f = torch.cat([_layout_q_features(dyn.layout, q), qdot], dim=-1)
    return (f - norm.feat_mean) / norm.feat_std


def _q_features(dyn, q):
    n, norm = dyn.layout.q_feature_dim, dyn.norm
    return (_layout_q_features(dyn.layout, q) - norm.feat_mean[:n]) / norm.feat_std[:n]


def _qpos_derivative(layout, q, qdot):
    dq = torch.zeros_like(q)
    dq[:, layout.scalar_q] = qdot[:, layout.scalar_dof]
    if layout.n_quat:
        from mosim_ray.model.state import _quat_times_vector

        quat = q[:, layout.quat_idx]
        omega = qdot[:, layout.ang_idx]
        dq[:, layout.quat_idx] = 0.5 * _quat_times_vector(quat, omega)
    return dq


def _resnet(net: ResNet, x):
    h = net.act(net.inp(x))
    for b in net.blocks:
        h = h + b.fc2(b.act(b.fc1(b.act(h))))
    return net.out(net.act(h))


def _mlp(net: MLP, x):
    for mod in net.net:
        x = mod(x)
    return x
