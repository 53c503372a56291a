"""Coriolis and centrifugal forces from a mass matrix (``ModelConfig.coriolis``): the Lagrangian
formula equals MuJoCo's bias force minus gravity; the forward-mode derivatives equal finite
differences and train."""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
import pytest
import torch

from mosim_ray.model.coriolis import coriolis_of
from mosim_ray.tasks.registry import make_simulator


def coriolis_force(dmass: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
    """The Christoffel form, the reference ``coriolis_of`` is checked against: dmass [B, nq, nv, nv] (dM/dq_k for each k), qdot [B, nv] -> c(q, qdot) [B, nv]."""
    mdot = torch.einsum("bkij,bk->bij", dmass, qdot)
    kinetic = 0.5 * torch.einsum("bkij,bi,bj->bk", dmass, qdot, qdot)
    return (mdot @ qdot.unsqueeze(-1)).squeeze(-1) - kinetic


def mass_derivatives(mass: Callable[[torch.Tensor], torch.Tensor], q: torch.Tensor):
    """M(q) [B, nv, nv] and dM/dq_k [B, nq, nv, nv] of a batched mass function, by one
    forward-mode pass per coordinate."""
    basis = torch.eye(q.shape[1], dtype=q.dtype, device=q.device)
    m, tangents = None, []
    for k in range(q.shape[1]):
        m, dm = torch.func.jvp(mass, (q,), (basis[k].expand_as(q),))
        tangents.append(dm)
    return m, torch.stack(tangents, 1)


def _full_mass(model, data, q):
    data.qpos[:] = q
    mujoco.mj_forward(model, data)
    m = np.zeros((model.nv, model.nv))
    for i in range(model.nv):
        column, e = np.zeros(model.nv), np.zeros(model.nv)
        e[i] = 1.0
        mujoco.mj_mulM(model, data, column, e)
        m[:, i] = column
    return m


@pytest.mark.parametrize("task", ["acrobot-swingup", "cheetah-run", "hopper-hop"])
def test_the_formula_is_mujocos_bias_force_without_gravity(task):
    physics = make_simulator(task, seed=0).physics
    model, data = physics.model.ptr, physics.data.ptr
    rng = np.random.default_rng(0)
    q = model.qpos0 + rng.uniform(-0.7, 0.7, model.nq)
    qdot = rng.uniform(-3, 3, model.nv)
    eps = 1e-6
    dmass = np.stack(
        [
            (_full_mass(model, data, q + eps * e) - _full_mass(model, data, q - eps * e))
            / (2 * eps)
            for e in np.eye(model.nq)
        ]
    )
    data.qpos[:], data.qvel[:] = q, qdot
    mujoco.mj_forward(model, data)
    moving = data.qfrc_bias.copy()
    data.qvel[:] = 0
    mujoco.mj_forward(model, data)
    want = moving - data.qfrc_bias
    got = coriolis_force(torch.as_tensor(dmass[None]), torch.as_tensor(qdot[None]))[0].numpy()
    assert np.abs(want).max() > 0.1  # a real test: the motion matters
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())


def test_mass_derivatives_are_finite_differences_and_the_two_pass_form_agrees():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 9))

    def mass(q):
        a = net(q).view(-1, 3, 3)
        return a @ a.transpose(1, 2) + torch.eye(3)

    q = torch.randn(5, 3, dtype=torch.float64)
    net.double()
    m, dm = mass_derivatives(mass, q)
    torch.testing.assert_close(m, mass(q))
    eps = 1e-6
    for k in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[k] = eps
        fd = (mass(q + e) - mass(q - e)) / (2 * eps)
        torch.testing.assert_close(dm[:, k], fd, rtol=1e-6, atol=1e-8)
    # the two-pass form equals the Christoffel form, carries gradients, and is a plain value
    # under no_grad
    qdot = torch.randn(5, 3, dtype=torch.float64)
    fast = coriolis_of(mass, q, qdot)
    torch.testing.assert_close(fast, coriolis_force(dm, qdot))
    fast.pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    with torch.no_grad():
        plain = coriolis_of(mass, q, qdot)
    assert not plain.requires_grad
    torch.testing.assert_close(plain, fast.detach())


def test_a_model_with_coriolis_forces_trains_round_trips_and_is_quadratic_in_qdot(tmp_path):
    """The model's Coriolis force is the formula's on its own mass matrix: doubling qdot
    quadruples it; 40 updates on a real reacher rollout lower the loss; saved and loaded, it
    predicts the same; quaternion tasks are refused."""
    from test_actuation import learns_a_real_rollout

    from mosim_ray.model.config import ModelConfig
    from mosim_ray.model.world_model import WorldModel

    torch.manual_seed(0)
    config = ModelConfig(task="reacher-easy", actuation="known", coriolis=True)
    wm = WorldModel.create(config)
    s, a = learns_a_real_rollout(wm, horizon=3, updates=40)
    q, qdot = s[:5, :2], s[:5, 2:]
    with torch.no_grad():
        once = wm.dynamics.coriolis_force(q, qdot)
        twice = wm.dynamics.coriolis_force(q, 2 * qdot)
    assert once.abs().max() > 0
    torch.testing.assert_close(twice, 4 * once, rtol=1e-4, atol=1e-6)
    wm.save(tmp_path / "model")
    again = WorldModel.load(tmp_path / "model")
    x, u = s[:3].numpy(), a[None, :5].expand(3, -1, -1).numpy()
    np.testing.assert_array_equal(again.rollout(x, u), wm.rollout(x, u))
    with pytest.raises(ValueError, match="coriolis needs positions"):
        WorldModel.create(ModelConfig(task="humanoid-walk", coriolis=True))
