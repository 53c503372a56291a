"""The fast dynamics step against the plain one it replaced (``mosim_ray.model.reference``):
the same predictions bit for bit, on every shipped model, after weight updates, in float64, and
gradients equal to float rounding."""

import os

import numpy as np
import pytest
import torch
from torchdiffeq import odeint

from mosim_ray import WorldModel
from mosim_ray.data import EpisodeCollector
from mosim_ray.model import ModelConfig
from mosim_ray.model.integrators import rk4
from mosim_ray.model.reference import reference_rollout
from mosim_ray.model.world_model import PRETRAINED_DIR


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread, as an env runner has: small matmuls on a busy machine then take
    milliseconds, not seconds (a second OpenMP thread that is descheduled stalls every one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SHIPPED = sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "config.json").is_file())


def _real_inputs(task: str, batch: int, horizon: int, seed: int = 0):
    """States [batch, D] from real episodes and uniform random actions [batch, horizon, U]."""
    eps = EpisodeCollector(task, 40).collect([0, 1], seed=seed)
    states = np.concatenate([np.hstack([e["qpos"], e["qvel"]]) for e in eps])
    rng = np.random.default_rng(seed)
    s = states[rng.integers(len(states), size=batch)]
    low, high = eps[0]["action"].min(), eps[0]["action"].max()
    a = rng.uniform(low, high, (batch, horizon, eps[0]["action"].shape[1]))
    return torch.as_tensor(s, dtype=torch.float32), torch.as_tensor(a, dtype=torch.float32)


def _assert_same(fast: torch.Tensor, ref: torch.Tensor) -> None:
    """Bit for bit, NaN where NaN (a fresh model may diverge; it must diverge alike)."""
    torch.testing.assert_close(fast, ref, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_predict_as_the_reference_bit_for_bit(name):
    wm = WorldModel.load(f"pretrained/{name}")
    # 37 rows: vector kernels' tails are exercised too; 100 steps: errors would compound
    s, a = _real_inputs(wm.task, 37, 100)
    with torch.no_grad():
        ref = reference_rollout(wm.dynamics, s, a)
        assert torch.isfinite(ref).all()
        _assert_same(wm.dynamics.rollout(s, a), ref)
    with torch.inference_mode():  # the imagined env's call
        _assert_same(wm.dynamics.step(s, a[:, 0]), ref[:, 0])
    _assert_same(torch.as_tensor(wm.rollout(s.numpy(), a.numpy())), ref)


@pytest.mark.parametrize(
    "config",
    [
        {"task": "walker-walk"},  # 10 symplectic substeps
        {"task": "hopper-hop", "correctors": 0},
        {"task": "humanoid-walk"},  # quaternions
        {"task": "cheetah-run", "kind": "structure_free"},
        {"task": "cheetah-run", "method": "rk4", "substeps": 3},
        {"task": "reacher-easy", "size": "large"},  # 3 correctors
        {"task": "acrobot-swingup", "method": "euler", "substeps": 2},
        {"task": "cheetah-run", "actuation": "known"},
        {"task": "walker-walk", "soft_limits": True, "actuation": "known"},
        {"task": "reacher-easy", "actuation": "known", "soft_limits": True, "known_damping": True},
        {
            "task": "cheetah-run",
            "actuation": "known",
            "known_damping": True,
            "known_stiffness": True,
        },
        {"task": "hopper-hop", "actuation": "known", "soft_limits": True, "contact_features": True},
        {"task": "acrobot-swingup", "actuation": "known", "known_damping": True, "coriolis": True},
    ],
    ids=lambda c: "-".join(map(str, c.values())),
)
def test_fresh_models_of_every_kind_predict_as_the_reference(config):
    wm = WorldModel.create(ModelConfig(**config))
    s, a = _real_inputs(wm.task, 19, 6)
    if wm.spec.nq != wm.spec.nv:  # unit quaternions, as real states have
        s[:, 3:7] = torch.nn.functional.normalize(s[:, 3:7], dim=1)
    with torch.no_grad():
        _assert_same(wm.dynamics.rollout(s, a), reference_rollout(wm.dynamics, s, a))


def test_predictions_follow_weight_updates():
    """No stale copy of the weights anywhere: after ``load_state_dict`` (the model store's pull)
    and after an optimizer step, predictions are the reference's with the new weights."""
    wm = WorldModel.load("pretrained/reacher-easy")
    dyn = wm.dynamics
    s, a = _real_inputs(wm.task, 16, 5)
    with torch.no_grad():
        before = dyn.rollout(s, a)
    state = {
        k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v
        for k, v in dyn.state_dict().items()
    }
    dyn.load_state_dict(state)
    with torch.no_grad():
        after = dyn.rollout(s, a)
        _assert_same(after, reference_rollout(dyn, s, a))
    assert not torch.equal(after, before)
    opt = torch.optim.SGD(dyn.parameters(), lr=1e-2)
    dyn.loss(torch.cat([s[:, None], after + 0.1], 1), a, torch.ones(5) / 5).backward()
    opt.step()
    with torch.no_grad():
        assert not torch.equal(dyn.rollout(s, a), after)
    with torch.no_grad():
        _assert_same(dyn.rollout(s, a), reference_rollout(dyn, s, a))
    dyn.set_stage(1)  # correctors off: a buffer change is seen too
    with torch.no_grad():
        _assert_same(dyn.rollout(s, a), reference_rollout(dyn, s, a))


def test_float64_predicts_as_the_reference():
    wm = WorldModel.load("pretrained/cheetah-run")
    s, a = _real_inputs(wm.task, 8, 10)
    dyn = wm.dynamics.double()
    with torch.no_grad():
        _assert_same(
            dyn.rollout(s.double(), a.double()), reference_rollout(dyn, s.double(), a.double())
        )


def test_training_gradients_equal_the_reference_to_rounding():
    """The graph differs (features computed once, dq/dt = qdot without a copy), so autograd may
    sum contributions in another order: equal to float32 rounding, not bit for bit."""
    wm = WorldModel.load("pretrained/cheetah-run")
    dyn = wm.dynamics
    s, a = _real_inputs(wm.task, 32, 4)
    target = torch.as_tensor(np.random.default_rng(1).normal(0, 0.1, (32, 4, s.shape[1])))
    grads = []
    for rollout in (lambda: reference_rollout(dyn, s, a), lambda: dyn.rollout(s, a)):
        dyn.zero_grad()
        ((rollout() - s[:, None] - target.float()) ** 2).mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in dyn.parameters()]))
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6 * grads[0].abs().max())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dt, substeps", [(0.01, 1), (0.025, 10), (0.02, 3)])
def test_rk4_is_torchdiffeqs_rk4_bit_for_bit(dt, substeps, dtype):
    """On a damped oscillator (x'' = -4x - 0.3x'), whose solution it must also track."""

    def field(y):
        return torch.stack([y[:, 1], -4 * y[:, 0] - 0.3 * y[:, 1]], 1)

    y0 = torch.tensor([[1.0, 0.0], [0.3, -2.0]], dtype=dtype)
    t = torch.tensor([0.0, dt], dtype=dtype)
    ref = odeint(lambda t, y: field(y), y0, t, method="rk4", options={"step_size": dt / substeps})
    ours = rk4(field, y0, dt, substeps)
    assert torch.equal(ours, ref[-1])
    w = np.sqrt(4 - 0.15**2)  # analytic: e^{-0.15 t} (A cos wt + B sin wt)
    a, b = y0[:, 0].numpy(), (y0[:, 1].numpy() + 0.15 * y0[:, 0].numpy()) / w
    exact = np.exp(-0.15 * dt) * (a * np.cos(w * dt) + b * np.sin(w * dt))
    np.testing.assert_allclose(ours[:, 0].numpy(), exact, atol=1e-6)


def test_world_model_hands_back_ordinary_tensors():
    """Predictions run under inference_mode; what the caller gets is an ordinary tensor that it
    may change in place and use in autograd."""
    wm = WorldModel.load("pretrained/reacher-easy")
    s, a = _real_inputs(wm.task, 4, 3)
    for out in (wm.rollout(s, a), wm.step(s, a[:, 0])):
        assert not out.is_inference()
        out[0] = 0.0
        x = torch.ones_like(out, requires_grad=True)
        (x * out).sum().backward()
        assert x.grad is not None


def test_compiled_training_step_falls_back_to_eager(monkeypatch):
    """Where torch.compile cannot compile (no C++ compiler, say), training steps eagerly."""
    import mosim_ray.model.compiled as compiled

    def broken(fn, **kw):
        def call(*args):
            raise torch._dynamo.exc.TorchDynamoException("no C++ compiler here")

        return call

    monkeypatch.setattr(compiled.torch, "compile", broken)
    wm = WorldModel.load("pretrained/reacher-easy")
    s, a = _real_inputs(wm.task, 8, 3)
    step = compiled.CompiledStep(wm.dynamics)
    with pytest.warns(RuntimeWarning, match="no C.. compiler here"):
        out = wm.dynamics.rollout(s, a, step)
    assert step.failed
    with torch.no_grad():
        _assert_same(out.detach(), wm.dynamics.rollout(s, a))


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("MOSIM_TEST_COMPILE") != "1",
    reason="compiles for about 45 s on a cold inductor cache; MOSIM_TEST_COMPILE=1 runs it",
)
def test_compiled_training_matches_eager_training():
    """ModelTrainer with ``compile=True``: the same losses to float rounding (inductor fuses
    and reorders the arithmetic), and weights that are inputs: the second update (new weights)
    runs the same compiled code."""
    from mosim_ray.data.reader import RolloutDataset
    from mosim_ray.train.model_trainer import ContinualConfig, ModelTrainer, episode_from_rows

    eps = EpisodeCollector("reacher-easy", 40).collect([0, 1], seed=0)
    data = RolloutDataset("reacher-easy", {}, [episode_from_rows(e) for e in eps])
    losses = {}
    for flag in (False, True):
        wm = WorldModel.load("pretrained/reacher-easy")
        cfg = ContinualConfig(batch_size=16, horizon=4, compile=flag)
        trainer = ModelTrainer(wm, data, cfg)
        losses[flag] = [trainer.train(1)["loss"] for _ in range(3)]
        assert trainer.step is None or not trainer.step.failed
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
