"""Joint limits as MuJoCo's soft constraint, through MoSim's Minv (``ModelConfig.soft_limits``)."""

from __future__ import annotations

import dataclasses
import json

import mujoco
import numpy as np
import pytest
import torch

from mosim_ray.model.config import ModelConfig
from mosim_ray.model.soft_limits import SoftLimits
from mosim_ray.model.world_model import WorldModel
from mosim_ray.tasks.registry import get_spec, make_simulator


@pytest.mark.parametrize("task", ["reacher-easy", "cheetah-run", "walker-walk"])
def test_given_the_true_minv_the_limit_forces_are_mujocos(task):
    """On states with one or several joints past their range (the root lifted: no contacts),
    MuJoCo's unconstrained acceleration and inverse mass matrix in, MuJoCo's acceleration out."""
    sim = make_simulator(task, seed=0)
    m, d, spec = sim.physics.model.ptr, sim.physics.data.ptr, sim.spec
    limits = SoftLimits(spec)
    rng = np.random.default_rng(0)
    checked, several = 0, 0
    for _ in range(40):
        mujoco.mj_resetData(m, d)
        for qi, _, low, high in spec.joint_ranges:  # past its range half the time
            past = rng.choice([low - rng.uniform(0, 0.1), high + rng.uniform(0, 0.1)])
            d.qpos[qi] = past if rng.random() < 0.5 else rng.uniform(low, high)
        d.qvel[:] = rng.normal(0, 3, m.nv)
        if task != "reacher-easy":
            d.qpos[1] = 3.0  # root height: off the ground
        d.ctrl[:] = rng.uniform(-1, 1, m.nu)
        mujoco.mj_forward(m, d)
        if d.ncon or not d.nefc:
            continue
        minv = np.zeros((m.nv, m.nv))
        mujoco.mj_solveM(m, d, minv, np.eye(m.nv))
        got = limits(
            *(torch.tensor(np.asarray(x)[None]) for x in (d.qpos, d.qvel, d.qacc_smooth, minv))
        )
        np.testing.assert_allclose(
            got[0].numpy(), d.qacc, rtol=1e-5, atol=1e-5 * np.abs(d.qacc).max()
        )
        checked, several = checked + 1, several + (d.nefc > 1)
    assert checked >= 10
    assert task == "reacher-easy" or several >= 5  # reacher has one limited joint


def test_spec_limit_softness_is_mujocos():
    ((ref0, ref1, *imp, margin),) = get_spec("reacher-easy").limit_softness
    model = make_simulator("reacher-easy", seed=0).physics.model
    assert ref0 == 2 * model.opt.timestep == 0.04  # solref's 0.02, raised as MuJoCo does
    assert ref1 == 1.0 and imp == [0.9, 0.95, 0.001, 0.5, 2.0] and margin == 0.0


def test_the_law_acts_past_the_range_only(tmp_path):
    """The same weights with and without soft limits: the same prediction inside the range; past
    it (the reacher's wrist at 2.85 rad turning outward) the wrist is pushed back; saved and
    loaded, the model predicts the same."""
    config = ModelConfig(task="reacher-easy", actuation="known")
    plain = WorldModel.create(config)
    soft = WorldModel.create(dataclasses.replace(config, soft_limits=True))
    soft.dynamics.load_state_dict(plain.dynamics.state_dict())
    inside = np.array([[0.3, 1.0, 0.5, -1.0]], np.float32)
    past = np.array([[0.0, 2.85, 0.0, 5.0]], np.float32)
    action = np.array([[[0.0, 1.0]]], np.float32)
    np.testing.assert_array_equal(soft.rollout(inside, action), plain.rollout(inside, action))
    assert soft.rollout(past, action)[0, 0, 3] < plain.rollout(past, action)[0, 0, 3] - 1e-3
    soft.save(tmp_path / "model")
    again = WorldModel.load(tmp_path / "model")
    assert again.spec.limit_softness == get_spec("reacher-easy").limit_softness
    np.testing.assert_array_equal(again.rollout(past, action), soft.rollout(past, action))


def test_gradients_pass_through_an_active_limit():
    wm = WorldModel.create(ModelConfig(task="reacher-easy", soft_limits=True, actuation="known"))
    states = torch.tensor([[[0.0, 2.85, 0.0, 5.0]] * 4], dtype=torch.float32)
    actions = torch.tensor([[[0.0, 1.0]] * 3], dtype=torch.float32)
    wm.dynamics.loss(states, actions, torch.full((3,), 1 / 3)).backward()
    grads = [p.grad for p in wm.dynamics.pos_encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_soft_limits_refused_where_they_cannot_work():
    with pytest.raises(ValueError, match="soft_limits needs them"):
        WorldModel.create(ModelConfig(task="acrobot-swingup", soft_limits=True, actuation="known"))
    with pytest.raises(ValueError, match="needs actuation: known"):
        ModelConfig(task="reacher-easy", soft_limits=True)
    with pytest.raises(ValueError, match="mosim options"):
        ModelConfig(task="reacher-easy", kind="structure_free", soft_limits=True)
    with pytest.raises(ValueError, match="use one of the two"):
        ModelConfig(task="reacher-easy", soft_limits=True, joint_limits=True, actuation="known")


def test_a_checkpoint_with_nine_softness_fields_loads_the_same(tmp_path):
    """Checkpoints of 2026-11-30 stored each limit's dof_invweight0 as a ninth softness field
    (the spec's ``dof_invweight0`` holds it); they load to the same spec and predictions."""
    wm = WorldModel.create(ModelConfig(task="reacher-easy", actuation="known", soft_limits=True))
    wm.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    invweight = config["spec"]["dof_invweight0"]
    config["spec"]["limit_softness"] = [
        e + [invweight[1]] for e in config["spec"]["limit_softness"]
    ]
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    old = WorldModel.load(tmp_path / "model")
    assert old.spec == wm.spec
    past = np.array([[0.0, 2.85, 0.0, 5.0]], np.float32)
    action = np.array([[[0.0, 1.0]]], np.float32)
    np.testing.assert_array_equal(old.rollout(past, action), wm.rollout(past, action))
