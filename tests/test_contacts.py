"""Contact features (``ModelConfig.contact_features``): the end-spheres' gaps to the floor and
velocities, by torch forward kinematics from the spec alone, equal MuJoCo's on random states."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from mosim_ray.model.contacts import ContactFeatures
from mosim_ray.tasks.registry import get_spec, make_simulator

FLOOR_TASKS = ["cheetah-run", "hopper-hop", "walker-walk", "gym:Hopper-v5"]


def mujoco_points(model, data, floor_z):
    """gaps [P] and (x, z) velocities [P, 2] of every capsule end-sphere and sphere touching the
    floor, from MuJoCo's own frames and Jacobians, in the order ``floor_contacts`` lists them."""
    gaps, velocities = [], []
    floor = next(g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE)
    for g in range(model.ngeom):
        touches = (model.geom_contype[g] & model.geom_conaffinity[floor]) or (
            model.geom_contype[floor] & model.geom_conaffinity[g]
        )
        if g == floor or not touches:
            continue
        centre, axis = data.geom_xpos[g], data.geom_xmat[g].reshape(3, 3)[:, 2]
        ends = [centre]
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE:
            half = model.geom_size[g][1] * axis
            ends = [centre - half, centre + half]
        for end in ends:
            jacp = np.zeros((3, model.nv))
            mujoco.mj_jac(model, data, jacp, None, end, model.geom_bodyid[g])
            gaps.append(end[2] - model.geom_size[g][0] - floor_z)
            velocities.append((jacp @ data.qvel)[[0, 2]])
    return np.array(gaps), np.array(velocities)


@pytest.mark.parametrize("task", FLOOR_TASKS)
def test_contact_points_are_mujocos(task):
    physics = make_simulator(task, seed=0).physics
    model = getattr(physics.model, "ptr", physics.model)
    data = getattr(physics.data, "ptr", physics.data)
    spec = get_spec(task)
    features = ContactFeatures(spec).double()  # the geometry stays float32: to 1e-6
    rng = np.random.default_rng(0)
    for _ in range(4):
        data.qpos[:] = model.qpos0 + rng.uniform(-0.8, 0.8, model.nq)
        data.qvel[:] = rng.uniform(-4, 4, model.nv)
        mujoco.mj_forward(model, data)
        want_gaps, want_velocities = mujoco_points(model, data, spec.floor_contacts[0])
        q = torch.as_tensor(data.qpos[None], dtype=torch.float64)
        qdot = torch.as_tensor(data.qvel[None], dtype=torch.float64)
        gaps, velocities = features.points_state(q, qdot)
        np.testing.assert_allclose(gaps[0].numpy(), want_gaps, atol=1e-6)
        np.testing.assert_allclose(velocities[0].numpy(), want_velocities, atol=1e-6)
    assert features(q.float(), qdot.float()).shape == (1, 4 * len(want_gaps))


def test_tasks_without_a_floor_have_no_contact_features():
    for task in ("reacher-easy", "acrobot-swingup", "humanoid-walk"):
        assert get_spec(task).floor_contacts == ()
    with pytest.raises(ValueError, match="contact_features needs them"):
        ContactFeatures(get_spec("reacher-easy"))


def test_a_model_with_contact_features_trains_and_round_trips(tmp_path):
    """The correctors take the features (the input grows by 4 per end-sphere); 40 updates on a
    real hopper rollout lower the loss; saved and loaded, it predicts the same."""
    from test_actuation import learns_a_real_rollout

    from mosim_ray.model.config import ModelConfig
    from mosim_ray.model.world_model import WorldModel

    torch.manual_seed(0)
    wm = WorldModel.create(ModelConfig(task="hopper-hop", contact_features=True))
    plain = WorldModel.create(ModelConfig(task="hopper-hop"))
    extra = wm.dynamics.correctors[0].inp.in_features - plain.dynamics.correctors[0].inp.in_features
    assert extra == 4 * len(wm.spec.floor_contacts[2]) == 48
    s, a = learns_a_real_rollout(wm, horizon=3, updates=40)
    wm.save(tmp_path / "model")
    again = WorldModel.load(tmp_path / "model")
    assert again.config.contact_features
    x, u = s[:3].numpy(), a[None, :5].expand(3, -1, -1).numpy()
    np.testing.assert_array_equal(again.rollout(x, u), wm.rollout(x, u))
