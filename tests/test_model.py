import json

import numpy as np
import pytest
import torch

from mosim_ray import WorldModel
from mosim_ray.data import EpisodeCollector
from mosim_ray.model import CheckpointError, ModelConfig
from mosim_ray.model.nets import count_parameters


def _data(task, episodes=2, steps=60):
    eps = EpisodeCollector(task, steps).collect(list(range(episodes)), seed=0)
    s = [np.hstack([e["qpos"], e["qvel"]]) for e in eps]
    states = np.concatenate([x[:-1] for x in s])
    nxt = np.concatenate([x[1:] for x in s])
    actions = np.concatenate([e["action"][:-1] for e in eps])
    return states, actions, nxt


def _model(task, **kw):
    wm = WorldModel.create(ModelConfig(task=task, **kw))
    s, a, s1 = _data(task)
    wm.dynamics.norm.fit(wm.spec, s, a, s1)
    return wm, s, a


@pytest.mark.parametrize("task", ["acrobot-swingup", "cheetah-run", "humanoid-walk"])
def test_minv_is_symmetric_positive_definite(task):
    wm, s, _ = _model(task)
    q = torch.as_tensor(s[:, : wm.spec.nq], dtype=torch.float32)
    q = q + 3 * torch.randn_like(q)  # far outside the data too
    m = wm.dynamics.minv(q).double()
    torch.testing.assert_close(m, m.transpose(1, 2))
    assert torch.linalg.eigvalsh(m).min() > 0


def test_stage_gradients_reach_trained_parameters_only():
    wm, s, a = _model("cheetah-run", size="small", correctors=2)
    dyn = wm.dynamics
    states = torch.as_tensor(np.stack([s[i : i + 5] for i in range(8)]), dtype=torch.float32)
    actions = torch.as_tensor(np.stack([a[i : i + 4] for i in range(8)]), dtype=torch.float32)
    for stage in (1, 2, 3):
        dyn.set_stage(stage)
        trained = {id(p) for p in dyn.stage_parameters(stage)}
        for p in dyn.parameters():
            p.requires_grad_(id(p) in trained)
            p.grad = None
        dyn.loss(states, actions, torch.full((4,), 0.25)).backward()
        for name, p in dyn.named_parameters():
            if id(p) in trained:
                assert p.grad is not None and p.grad.abs().sum() > 0, (
                    f"stage {stage}: no gradient to {name}"
                )
            else:
                assert p.grad is None, f"stage {stage}: gradient reached frozen {name}"
    # stages do not overlap and cover everything
    groups = [set(map(id, dyn.stage_parameters(k))) for k in (1, 2, 3)]
    assert sum(map(len, groups)) == len(set().union(*groups)) == len(list(dyn.parameters()))


def test_checkpoint_round_trip_is_bit_exact(tmp_path):
    wm, s, a = _model("reacher-easy")
    acts = np.random.default_rng(0).uniform(-1, 1, (5, 20, 2)).astype(np.float32)
    before = wm.rollout(s[:5].astype(np.float32), acts)
    wm.save(tmp_path / "ck", note="test")
    loaded = WorldModel.load(tmp_path / "ck")
    assert loaded.task == "reacher-easy" and loaded.info["note"] == "test"
    np.testing.assert_array_equal(loaded.rollout(s[:5].astype(np.float32), acts), before)
    cfg = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert cfg["dims"] == {"nq": 2, "nv": 2, "nu": 2} and "acc_std" in cfg["normalization"]


def test_rollout_types_and_shapes():
    wm, s, _ = _model("reacher-easy")
    acts = np.zeros((3, 7, 2))
    out = wm.rollout(s[:3], acts)  # float64 numpy in, float64 numpy out
    assert isinstance(out, np.ndarray) and out.shape == (3, 7, 4) and out.dtype == np.float64
    t = wm.rollout(torch.as_tensor(s[:3], dtype=torch.float32), torch.zeros(3, 7, 2))
    assert isinstance(t, torch.Tensor) and t.shape == (3, 7, 4)
    np.testing.assert_allclose(t.numpy(), out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wm.step(s[:3], acts[:, 0]), out[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"state must be \[B, 4\]"):
        wm.rollout(s[:3, :3], acts)
    with pytest.raises(ValueError, match="actions must be"):
        wm.rollout(s[:3], np.zeros((3, 7, 5)))


def test_quaternions_follow_the_analytic_rotation_and_stay_unit():
    """With zero acceleration a free body spins at constant local angular velocity w:
    q(t) = q0 * (cos(|w|t/2), sin(|w|t/2) w/|w|). The integrator must track it, unit norm."""
    wm, s, _ = _model("humanoid-walk", kind="structure_free")
    torch.nn.init.zeros_(wm.dynamics.net.out.weight)
    torch.nn.init.zeros_(wm.dynamics.net.out.bias)
    state = s[:1].copy()
    w = np.array([0.7, -1.3, 2.1])
    state[0, 28 + 3 : 28 + 6] = w
    out = wm.rollout(state, np.zeros((1, 100, 21)))
    quat = out[0, :, 3:7]
    np.testing.assert_allclose(np.linalg.norm(quat, axis=1), 1.0, atol=1e-6)
    t = wm.spec.control_dt * 100
    ang = np.linalg.norm(w) * t / 2
    r = np.concatenate([[np.cos(ang)], np.sin(ang) * w / np.linalg.norm(w)])
    q0 = state[0, 3:7]
    expect = np.array(
        [
            q0[0] * r[0] - q0[1] * r[1] - q0[2] * r[2] - q0[3] * r[3],
            q0[0] * r[1] + q0[1] * r[0] + q0[2] * r[3] - q0[3] * r[2],
            q0[0] * r[2] - q0[1] * r[3] + q0[2] * r[0] + q0[3] * r[1],
            q0[0] * r[3] + q0[1] * r[2] - q0[2] * r[1] + q0[3] * r[0],
        ]
    )
    np.testing.assert_allclose(quat[-1], expect, atol=1e-4)


def test_bad_checkpoints_fail_clearly(tmp_path):
    wm, _, _ = _model("acrobot-swingup")
    ck = wm.save(tmp_path / "ck")
    with pytest.raises(CheckpointError, match="model of 'acrobot-swingup', not 'cheetah-run'"):
        WorldModel.load(ck, task="cheetah-run")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        WorldModel.load(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no shipped model"):
        WorldModel.load("pretrained/no-such-task")
    raw = bytearray((ck / "weights.pt").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (ck / "weights.pt").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt weights"):
        WorldModel.load(ck)
    cfg = json.loads((ck / "config.json").read_text())
    cfg["format_version"] = 99
    (ck / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="format 99"):
        WorldModel.load(ck)
    (ck / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt config"):
        WorldModel.load(ck)


def test_dopri5_step_cap_falls_back_instead_of_hanging():
    wm, s, a = _model("cheetah-run", method="dopri5", rtol=1e-12, atol=1e-12, max_solver_steps=2)
    out = wm.rollout(s[:4], a[:4, None].repeat(3, axis=1))
    assert np.isfinite(out).all() and wm.dynamics.solver_fallbacks > 0


def test_sizes_and_baseline_parameter_counts():
    counts = {
        size: count_parameters(WorldModel.create(ModelConfig("cheetah-run", size=size)).dynamics)
        for size in ("small", "medium", "large")
    }
    assert counts["small"] < counts["medium"] < counts["large"]
    free = count_parameters(
        WorldModel.create(ModelConfig("cheetah-run", kind="structure_free")).dynamics
    )
    assert 0.8 < free / counts["small"] <= 1.0
    with pytest.raises(ValueError, match="unknown model kind"):
        ModelConfig("cheetah-run", kind="transformer")


def test_rollout_loss_normalized_and_raw():
    wm, s, a = _model("cheetah-run")
    dyn = wm.dynamics
    states = torch.as_tensor(np.stack([s[i : i + 4] for i in range(6)]), dtype=torch.float32)
    actions = torch.as_tensor(np.stack([a[i : i + 3] for i in range(6)]), dtype=torch.float32)
    w = torch.tensor([0.2, 0.3, 0.5])
    with torch.no_grad():
        pred = dyn.rollout(states[:, 0], actions)
        sq = (pred - states[:, 1:]) ** 2
        raw = (sq.mean(dim=(0, 2)) * w).sum()
        norm = ((sq / dyn.norm.loss_scale**2).mean(dim=(0, 2)) * w).sum()
        torch.testing.assert_close(dyn.loss(states, actions, w, normalized=False), raw)
        torch.testing.assert_close(dyn.loss(states, actions, w), norm)


def test_ensemble_member_rollouts_spread_and_mean():
    import torch

    from mosim_ray.model import ModelConfig, WorldModel

    wm = WorldModel.create(ModelConfig(task="reacher-easy", kind="ensemble"))
    s, a = torch.randn(3, 4), torch.rand(3, 5, 2) * 2 - 1
    paths = wm.dynamics.member_rollouts(s, a)
    assert paths.shape == (5, 3, 5, 4)
    assert torch.allclose(paths[:, :, 0].mean(0), wm.dynamics.step(s, a[:, 0]), atol=1e-5)
    assert paths[:, :, -1].std(0).mean() > 0  # independent members disagree


# --- inputs as MuJoCo takes them ---------------------------------------------------------------
def _shipped_inputs(wm, b=4, h=12, seed=0):
    rng = np.random.default_rng(seed)
    low, high = wm.spec.action_bounds
    s = rng.normal(0, 0.3, (b, wm.spec.state_dim)).astype(np.float32)
    a = rng.uniform(low, high, (b, h, wm.spec.nu)).astype(np.float32)
    a[0, 0], a[1, 1] = low, high  # the bounds themselves are in range
    return s, a


def test_in_range_actions_predict_as_without_the_clamp():
    wm = WorldModel.load("pretrained/reacher-easy")
    free = WorldModel.load("pretrained/reacher-easy")
    free.dynamics.norm.action_low.fill_(-np.inf)  # infinite bounds: no clamp at all
    free.dynamics.norm.action_high.fill_(np.inf)
    s, a = _shipped_inputs(wm)
    np.testing.assert_array_equal(wm.rollout(s, a), free.rollout(s, a))
    np.testing.assert_array_equal(wm.step(s, a[:, 0]), free.step(s, a[:, 0]))
    with torch.no_grad():  # the call the imagined env makes
        st, at = torch.as_tensor(s), torch.as_tensor(a[:, 0])
        torch.testing.assert_close(
            wm.dynamics.step(st, at), free.dynamics.step(st, at), rtol=0, atol=0
        )


@pytest.mark.parametrize("kind", ["shipped", "ensemble"])
def test_out_of_range_actions_predict_as_at_the_bound(kind):
    if kind == "shipped":
        wm = WorldModel.load("pretrained/reacher-easy")
    else:
        wm = WorldModel.create(ModelConfig(task="reacher-easy", kind="ensemble"))
    s, a = _shipped_inputs(wm)
    low, high = wm.spec.action_bounds
    huge, at_bound = a.copy(), a.copy()
    huge[:, ::2, 0], at_bound[:, ::2, 0] = 1e6, high[0]
    huge[:, 1::3, 1], at_bound[:, 1::3, 1] = -1e6, low[1]
    np.testing.assert_array_equal(wm.rollout(s, huge), wm.rollout(s, at_bound))
    np.testing.assert_array_equal(wm.step(s, huge[:, 0]), wm.step(s, at_bound[:, 0]))
    assert not np.array_equal(wm.step(s, at_bound[:, 0]), wm.step(s, 0 * at_bound[:, 0]))
    with torch.no_grad():
        st = torch.as_tensor(s)
        torch.testing.assert_close(
            wm.dynamics.step(st, torch.as_tensor(huge[:, 0])),
            wm.dynamics.step(st, torch.as_tensor(at_bound[:, 0])),
            rtol=0,
            atol=0,
        )
    if kind == "ensemble":
        paths = wm.dynamics.member_rollouts(torch.as_tensor(s), torch.as_tensor(huge))
        ref = wm.dynamics.member_rollouts(torch.as_tensor(s), torch.as_tensor(at_bound))
        torch.testing.assert_close(paths, ref, rtol=0, atol=0)


def test_non_finite_inputs_raise_naming_the_input():
    wm = WorldModel.load("pretrained/reacher-easy")
    s, a = _shipped_inputs(wm)
    bad_a = a.copy()
    bad_a[0, 3, 1], bad_a[2, 0, 0] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"actions has 2 non-finite entries .* out of 96"):
        wm.rollout(s, bad_a)
    bad_s = s.copy()
    bad_s[1, 2] = -np.inf
    with pytest.raises(ValueError, match=r"state0 has 1 non-finite entries"):
        wm.rollout(bad_s, a)
    with pytest.raises(ValueError, match=r"state has 1 non-finite entries"):
        wm.step(torch.as_tensor(bad_s), torch.as_tensor(a[:, 0]))
    with pytest.raises(ValueError, match=r"action has 1 non-finite entries"):
        wm.step(s, bad_a[:, 3])


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "mosim", "actuation": "known", "known_damping": True, "soft_limits": True},
        {"kind": "structure_free"},
        {"kind": "mosim", "method": "rk4"},
    ],
)
def test_physics_steps_span_one_mujoco_step(kw):
    """hopper's control step is 4 MuJoCo steps: with MuJoCo's scheme, 4 physics steps of the held
    action are the control step bit for bit; with rk4 over the whole control step, 4 shorter rk4
    steps of the same field land close to it (a finer grid, not the same one)."""
    wm, s, a = _model("hopper-hop", **kw)
    twin = wm.physics_steps()
    assert twin.spec.control_dt == pytest.approx(wm.spec.control_dt / 4)
    assert wm.spec.control_dt == pytest.approx(0.02)  # the original is untouched
    s0, a0 = s[:16].astype(np.float32), a[:16].astype(np.float32)
    one = wm.step(s0, a0)
    four = s0
    for _ in range(4):
        four = twin.step(four, a0)
    if kw.get("method") == "rk4":
        assert 0 < np.abs(one - four).max() < 1e-3 * (1 + np.abs(one - s0).max())
    else:
        np.testing.assert_array_equal(one, four)


def test_an_ensemble_has_no_physics_step_reading():
    wm, _, _ = _model("hopper-hop", kind="ensemble")
    with pytest.raises(ValueError, match="no physics-step reading"):
        wm.physics_steps()
    constant = WorldModel.create(ModelConfig(task="hopper-hop", kind="constant"))
    assert constant.physics_steps() is constant
