"""Actuation as MuJoCo states it (``ModelConfig.actuation: known``): tau = c B a from the MJCF."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mosim_ray.model.config import ModelConfig
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


def test_known_actuation_has_no_action_encoder_and_trains():
    """No parameters for tau; the rest learns: 60 updates on a real rollout lower the loss."""
    from mosim_ray.data import EpisodeCollector

    wm = WorldModel.create(ModelConfig(task="reacher-easy", actuation="known"))
    dyn = wm.dynamics
    assert not hasattr(dyn, "action_encoder")
    assert sum(1 for _ in dyn.stage_parameters(1)) == sum(
        1 for m in (dyn.pos_encoder, dyn.state_encoder) for _ in m.parameters()
    )
    ep = EpisodeCollector("reacher-easy", 40).collect([0], seed=0)[0]
    s = torch.as_tensor(np.hstack([ep["qpos"], ep["qvel"]]), dtype=torch.float32)
    a = torch.as_tensor(ep["action"][:-1], dtype=torch.float32)
    dyn.norm.fit(wm.spec, s[:-1].numpy(), a.numpy(), s[1:].numpy())
    states = torch.stack([s[i : i + 5] for i in range(30)])
    actions = torch.stack([a[i : i + 4] for i in range(30)])
    weights = torch.full((4,), 0.25)
    opt = torch.optim.Adam(dyn.parameters(), lr=1e-3)
    first = dyn.loss(states, actions, weights).item()
    for _ in range(60):
        opt.zero_grad()
        dyn.loss(states, actions, weights).backward()
        opt.step()
    assert dyn.loss(states, actions, weights).item() < 0.5 * first


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
    with pytest.raises(ValueError, match="mosim option"):
        ModelConfig(task="reacher-easy", kind="structure_free", actuation="known")
    with pytest.raises(ValueError, match="unknown actuation"):
        ModelConfig(task="reacher-easy", actuation="exact")
