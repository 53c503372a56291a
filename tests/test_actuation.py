"""Actuation as MuJoCo states it (``ModelConfig.actuation: known``): tau = c B a from the MJCF."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest
import torch

from mosim_ray.model.config import ModelConfig
from mosim_ray.model.damping import implicit_damping
from mosim_ray.model.dynamics import build_dynamics
from mosim_ray.model.world_model import WorldModel
from mosim_ray.tasks.registry import get_spec, make_simulator


def test_spec_actuator_moments_are_mujocos():
    model = make_simulator("cheetah-run", seed=0).physics.model
    spec = get_spec("cheetah-run")
    assert len(spec.actuator_moments) == model.nu == 6
    for a, (dof, moment) in enumerate(spec.actuator_moments):
        assert dof == model.jnt_dofadr[model.actuator_trnid[a][0]]
        assert moment == model.actuator_gear[a][0] * model.actuator_gainprm[a][0]
    assert {dof for dof, _ in spec.actuator_moments}.isdisjoint({0, 1, 2})  # the free root


@pytest.mark.parametrize("task", ["cheetah-run", "reacher-easy", "acrobot-swingup"])
def test_known_tau_is_mujocos_actuator_force(task):
    """The model's tau, times 1 / c, is MuJoCo's ``qfrc_actuator`` for the same controls, in
    range and out of it (MuJoCo clamps ``ctrl``; so does the model)."""
    physics = make_simulator(task, seed=0).physics
    dyn = WorldModel.create(ModelConfig(task=task, actuation="known")).dynamics
    scale = max(abs(m) for _, m in dyn.spec.actuator_moments)
    rng = np.random.default_rng(0)
    for ctrl in (rng.uniform(-1, 1, physics.model.nu), rng.uniform(-3, 3, physics.model.nu)):
        physics.data.ctrl[:] = ctrl
        physics.forward()
        tau = dyn.prepare_action(torch.as_tensor(ctrl[None], dtype=torch.float32))["tau"]
        np.testing.assert_allclose(tau[0].numpy() * scale, physics.data.qfrc_actuator, rtol=1e-5)


@pytest.mark.parametrize("task", ["cheetah-run", "gym:HalfCheetah-v5"])
def test_known_passive_force_is_mujocos(task):
    """Springs and damping: the model's passive force, times 1 / c, is MuJoCo's
    ``qfrc_passive`` on random states (cheetah's legs are sprung: 240 N m/rad at the back thigh);
    without ``known_stiffness`` only the damping is there, as before."""
    physics = make_simulator(task, seed=0).physics
    # dm_control wraps the MuJoCo structs; the Gymnasium simulator hands them over as they are
    model = getattr(physics.model, "ptr", physics.model)
    data = getattr(physics.data, "ptr", physics.data)
    spec = get_spec(task)
    assert [(q, dof) for q, dof, _, _ in spec.joint_stiffness] == [
        (int(model.jnt_qposadr[j]), int(model.jnt_dofadr[j]))
        for j in range(model.njnt)
        if model.jnt_stiffness[j]
    ]
    config = dict(task=task, actuation="known", known_damping=True)
    known = WorldModel.create(ModelConfig(**config, known_stiffness=True)).dynamics.known
    damped_only = WorldModel.create(ModelConfig(**config)).dynamics.known
    scale = max(abs(m) for _, m in spec.actuator_moments)
    rng = np.random.default_rng(0)
    for _ in range(3):
        data.qpos[:] = rng.uniform(-0.6, 0.6, model.nq)
        data.qvel[:] = rng.uniform(-5, 5, model.nv)
        mujoco.mj_forward(model, data)
        q = torch.as_tensor(data.qpos[None], dtype=torch.float32)
        qdot = torch.as_tensor(data.qvel[None], dtype=torch.float32)
        assert known.has_passive and np.abs(data.qfrc_spring).max() > 10
        np.testing.assert_allclose(
            known.passive(q, qdot)[0].numpy() * scale, data.qfrc_passive, rtol=1e-5, atol=1e-4
        )
        np.testing.assert_allclose(
            damped_only.passive(q, qdot)[0].numpy() * scale, data.qfrc_damper, rtol=1e-5, atol=1e-4
        )
    assert not get_spec("reacher-easy").joint_stiffness  # no springs there


def learns_a_real_rollout(wm: WorldModel, horizon: int, updates: int):
    """Fit ``wm``'s normalizer to a 40-step real rollout of its task, then train it on 30 of its
    segments; asserts the loss halves. Returns the rollout's states [41, D] and actions [40, U]."""
    from mosim_ray.data import EpisodeCollector

    dyn = wm.dynamics
    ep = EpisodeCollector(wm.task, 40).collect([0], seed=0)[0]
    s = torch.as_tensor(np.hstack([ep["qpos"], ep["qvel"]]), dtype=torch.float32)
    a = torch.as_tensor(ep["action"][:-1], dtype=torch.float32)
    dyn.norm.fit(wm.spec, s[:-1].numpy(), a.numpy(), s[1:].numpy())
    states = torch.stack([s[i : i + horizon + 1] for i in range(30)])
    actions = torch.stack([a[i : i + horizon] for i in range(30)])
    weights = torch.full((horizon,), 1 / horizon)
    opt = torch.optim.Adam(dyn.parameters(), lr=1e-3)
    first = dyn.loss(states, actions, weights).item()
    for _ in range(updates):
        opt.zero_grad()
        dyn.loss(states, actions, weights).backward()
        opt.step()
    assert dyn.loss(states, actions, weights).item() < 0.5 * first
    return s, a


def test_known_actuation_has_no_action_encoder_and_trains():
    """No parameters for tau; the rest learns: 60 updates on a real rollout lower the loss."""
    torch.manual_seed(0)
    wm = WorldModel.create(ModelConfig(task="reacher-easy", actuation="known"))
    dyn = wm.dynamics
    assert not hasattr(dyn, "action_encoder")
    assert sum(1 for _ in dyn.stage_parameters(1)) == sum(
        1 for m in (dyn.pos_encoder, dyn.state_encoder) for _ in m.parameters()
    )
    learns_a_real_rollout(wm, horizon=4, updates=60)


@pytest.mark.parametrize("task", ["reacher-easy", "cheetah-run"])
def test_implicit_damping_is_mujocos_velocity_step(task):
    """MuJoCo's semi-implicit Euler with damping takes qvel' = qvel + h (M + h B)^-1 f; given its
    Minv and qacc = Minv f, ``implicit_damping`` gives the same step."""
    physics = make_simulator(task, seed=0).physics
    m, d = physics.model.ptr, physics.data.ptr
    spec = get_spec(task)
    assert spec.implicit_damping and len(spec.dof_damping) == spec.nv
    rng = np.random.default_rng(0)
    d.qvel[:] = rng.normal(0, 2, m.nv)
    d.ctrl[:] = rng.uniform(-1, 1, m.nu)
    mujoco.mj_forward(m, d)
    minv = np.zeros((m.nv, m.nv))
    mujoco.mj_solveM(m, d, minv, np.eye(m.nv))
    qvel, qacc, h = d.qvel.copy(), d.qacc.copy(), m.opt.timestep
    mujoco.mj_step(m, d)
    damping = torch.tensor(spec.dof_damping, dtype=torch.float64)
    acc = implicit_damping(torch.tensor(qacc[None]), torch.tensor(minv[None]), damping, h)
    np.testing.assert_allclose(qvel + h * acc[0].numpy(), d.qvel, rtol=1e-9, atol=1e-9)
    assert not np.allclose(qvel + h * qacc, d.qvel)  # the damping step matters here


def test_known_physics_starts_minv_at_mujocos_scale():
    """With the actuation known, a fresh Minv's diagonal is MuJoCo's dof_invweight0 in the
    model's units of force (max |gear|), about 20,740 * 0.05 for the reacher's wrist, within
    what a fresh network's L (near, not at, the identity) puts on it."""
    torch.manual_seed(0)
    dyn = WorldModel.create(ModelConfig(task="reacher-easy", actuation="known")).dynamics
    diag = torch.diagonal(dyn.minv(torch.zeros(1, 2)), dim1=1, dim2=2)[0]
    want = torch.tensor(get_spec("reacher-easy").dof_invweight0) * 0.05
    torch.testing.assert_close(diag, want.float(), rtol=0.5, atol=0)


def test_known_actuation_round_trips(tmp_path):
    wm = WorldModel.create(ModelConfig(task="cheetah-run", actuation="known"))
    state = np.zeros((2, wm.spec.state_dim), np.float32)
    actions = np.random.default_rng(0).uniform(-1, 1, (2, 5, wm.spec.nu)).astype(np.float32)
    wm.save(tmp_path / "model")
    again = WorldModel.load(tmp_path / "model")
    assert again.config.actuation == "known"
    np.testing.assert_array_equal(again.rollout(state, actions), wm.rollout(state, actions))


def test_known_actuation_refused_where_it_is_not_known():
    spec = dataclasses.replace(get_spec("reacher-easy"), actuator_moments=())
    with pytest.raises(ValueError, match="actuation: known needs them"):
        build_dynamics(spec, ModelConfig(task="reacher-easy", actuation="known"))
    with pytest.raises(ValueError, match="mosim options"):
        ModelConfig(task="reacher-easy", kind="structure_free", actuation="known")
    with pytest.raises(ValueError, match="known_damping needs actuation: known"):
        ModelConfig(task="reacher-easy", known_damping=True)
    with pytest.raises(ValueError, match="known_stiffness needs actuation: known"):
        ModelConfig(task="cheetah-run", known_stiffness=True)
    with pytest.raises(ValueError, match="unknown actuation"):
        ModelConfig(task="reacher-easy", actuation="exact")
