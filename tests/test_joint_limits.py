"""Joint ranges from the MJCF as hard stops in the integrator (``ModelConfig.joint_limits``)."""

from __future__ import annotations

import numpy as np
import pytest

from mosim_ray.model.config import ModelConfig
from mosim_ray.model.world_model import WorldModel
from mosim_ray.tasks.registry import get_spec, make_simulator


def test_spec_joint_ranges_are_mujocos():
    sim = make_simulator("cheetah-run", seed=0)
    model = sim.physics.model
    spec = get_spec("cheetah-run")
    limited = [j for j in range(model.njnt) if model.jnt_limited[j] and model.jnt_type[j] in (2, 3)]
    assert len(spec.joint_ranges) == len(limited) == 6
    for (qi, vi, low, high), j in zip(spec.joint_ranges, limited, strict=True):
        assert (qi, vi) == (model.jnt_qposadr[j], model.jnt_dofadr[j])
        assert (low, high) == tuple(model.jnt_range[j])
    assert get_spec("reacher-easy").joint_ranges == ((1, 1, -2.792526803190927, 2.792526803190927),)


@pytest.mark.parametrize("kind", ["mosim", "structure_free"])
def test_a_joint_driven_into_its_limit_stops_there(kind, tmp_path):
    """The reacher's wrist at 2.7 rad turning outward at 20 rad/s with full torque outward: a
    fresh model (no learned constraint force) runs past 2.79 rad; with joint_limits it reaches
    the limit and goes no further, and the model saved and loaded predicts the same."""
    state = np.array([[0.0, 2.7, 0.0, 20.0]], np.float32)
    actions = np.tile(np.array([0.0, 1.0], np.float32), (1, 10, 1))
    free = WorldModel.create(ModelConfig(task="reacher-easy", kind=kind))
    limited = WorldModel.create(ModelConfig(task="reacher-easy", kind=kind, joint_limits=True))
    limited.dynamics.load_state_dict(free.dynamics.state_dict(), strict=False)  # + its stops
    past = free.rollout(state, actions)[0, :, 1]
    stopped = limited.rollout(state, actions)[0, :, 1]
    assert past.max() > 2.9
    assert stopped.max() == pytest.approx(2.792526803190927, abs=1e-6)  # reached the stop
    assert stopped.max() <= np.float32(2.792526803190927)
    limited.save(tmp_path / "model")
    again = WorldModel.load(tmp_path / "model")
    assert again.spec.joint_ranges == get_spec("reacher-easy").joint_ranges
    np.testing.assert_array_equal(again.rollout(state, actions), limited.rollout(state, actions))


def test_joint_limits_need_limited_joints():
    with pytest.raises(ValueError, match="lists no joint ranges"):
        WorldModel.create(ModelConfig(task="acrobot-swingup", joint_limits=True))


def test_the_stops_widen_to_the_data_never_inward():
    model = WorldModel.create(ModelConfig(task="reacher-easy", joint_limits=True))
    limit = 2.792526803190927
    states = np.zeros((3, 4), np.float32)
    states[:, 1] = [-2.5, 2.9, 0.0]  # past the upper range (MuJoCo's soft limit), inside the lower
    model.dynamics.limits.widen_to(states)
    low, high = model.dynamics.limits.low.item(), model.dynamics.limits.high.item()
    assert low == pytest.approx(-limit) and high == pytest.approx(2.9)
