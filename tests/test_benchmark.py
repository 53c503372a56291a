"""Prediction benchmark: metrics on hand-made arrays, and the pipeline end to end (tiny)."""

import json

import numpy as np
import pytest

from mosim_ray.eval.metrics import equivalent_horizon


def test_equivalent_horizon_on_known_arrays():
    per_step = np.array([1.0, 1.0, 4.0, 4.0])  # H-step errors: 1, 1, 2, 2.5
    assert equivalent_horizon(per_step, 2.0) == 3
    assert equivalent_horizon(per_step, 1.0) == 1
    assert equivalent_horizon(per_step, 3.0) is None
    assert equivalent_horizon(np.array([0.1, np.nan]), 5.0) == 2  # a NaN counts as reached
    with pytest.raises(ValueError):
        equivalent_horizon(np.array([]), 1.0)


def test_benchmark_pipeline_shipped_model_beats_constant(tmp_path):
    from test_pipelines import run

    out = tmp_path / "out"
    r = run(
        "pipelines/benchmark.py",
        *("--task", "reacher-easy", "--checkpoint", "pretrained/reacher-easy"),
        *("--test-sets", "random", "--episodes", "3", "--steps", "150", "--burn-in", "30"),
        *("--horizons", "3", "16", "100", "--segments", "32", "--threads", "1"),
        *("--data-dir", str(tmp_path / "data"), "--out", str(out)),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "result.json").read_text())["sets"]["random"]["models"]
    mosim = {e["horizon"]: e["mse"] for e in res["mosim"]["errors"]}
    constant = {e["horizon"]: e["mse"] for e in res["constant"]["errors"]}
    assert set(mosim) == {3, 16, 100}
    assert mosim[16] < 0.05 * constant[16]  # a trained model, by a wide margin
    assert res["mosim"]["equivalent_horizon"] is None or res["mosim"]["equivalent_horizon"] > 16
    assert (out / "error_vs_horizon_random.png").stat().st_size > 0
    assert "| mosim |" in (out / "table.md").read_text()


def test_benchmark_needs_a_policy_for_the_policy_set(tmp_path):
    from test_pipelines import run

    r = run(
        "pipelines/benchmark.py",
        "--task",
        "reacher-easy",
        "--checkpoint",
        "pretrained/reacher-easy",
        "--test-sets",
        "policy",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 2 and "--policy" in r.stderr


def test_lyapunov_sign_tells_chaos_from_damping(pendulum_xml):
    """MuJoCo's pendulum is not chaotic (exponent <= 0) and Benettin's method says so; real
    acrobot is chaotic (positive exponent)."""
    from mosim_ray.eval.lyapunov import lyapunov_real
    from mosim_ray.tasks import make_simulator

    sim = make_simulator("acrobot-swingup")
    rng = np.random.default_rng(0)
    states = np.zeros((3, 4))
    states[:, :2] = rng.uniform(-3, 3, (3, 2))
    lam = lyapunov_real(sim, states, np.zeros((3, 0)), np.zeros((3, 300, 1)))
    assert lam.mean() > 0.2, lam
    pendulum = make_simulator(f"mjcf:{pendulum_xml}")
    lam = lyapunov_real(pendulum, np.array([[1.0, 0.0]]), np.zeros((1, 0)), np.zeros((1, 300, 1)))
    assert lam[0] < 0, lam


def test_a_failed_rollout_counts_in_every_figure_never_dropped():
    """A model whose predictions are not finite: its errors are infinite, never the error of
    what is left; the failure share says how many failed."""
    import tempfile
    from pathlib import Path

    import torch

    from mosim_ray.data import EpisodeCollector, RolloutDataset
    from mosim_ray.data.shards import shard_name
    from mosim_ray.eval.metrics import prediction_errors
    from mosim_ray.model import WorldModel

    folder = Path(tempfile.mkdtemp())
    EpisodeCollector("reacher-easy", 40).write_shard(folder / shard_name(0), [0, 1], seed=0)
    data = RolloutDataset.open(folder)
    good = WorldModel.load("pretrained/reacher-easy")
    (ok,) = prediction_errors(good, data, horizons=(8,), segments=16)
    assert ok.finite_share == 1.0 and ok.mse == ok.mse_finite and np.isfinite(ok.step_mse)
    broken = WorldModel.load("pretrained/reacher-easy")
    with torch.no_grad():
        for p in broken.dynamics.parameters():
            p.fill_(float("nan"))
    (bad,) = prediction_errors(broken, data, horizons=(8,), segments=16)
    assert bad.finite_share == 0.0 and bad.failure_share == 1.0
    assert bad.mse == float("inf") and bad.step_mse == float("inf")
    assert np.isnan(bad.mse_finite)  # nothing finite to average


def test_test_sets_default_to_random_and_the_policy_set_when_a_policy_is_given():
    from mosim_ray.runs.benchmark import BenchmarkConfig

    assert BenchmarkConfig().sets == ("random",)  # a new user's default run needs no policy
    assert BenchmarkConfig(policy="runs/p").sets == ("random", "policy")
    assert BenchmarkConfig(test_sets=("policy",), policy="runs/p").sets == ("policy",)
    with pytest.raises(ValueError, match="needs --policy"):
        BenchmarkConfig(test_sets=("policy",))


def _saved_sac_module(folder, seed: int) -> str:
    """A real (untrained) SAC RLModule for reacher-easy's 6 observations and 2 actions, saved as
    RLlib saves one."""
    import gymnasium as gym
    import torch
    from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import (
        DefaultSACTorchRLModule,
    )
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from mosim_ray.sac.critic import ConcatQSACCatalog

    torch.manual_seed(seed)
    spec = RLModuleSpec(
        module_class=DefaultSACTorchRLModule,
        catalog_class=ConcatQSACCatalog,
        observation_space=gym.spaces.Box(-np.inf, np.inf, (6,), np.float32),
        action_space=gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
        model_config={"fcnet_hiddens": [8], "twin_q": True},
    )
    spec.build().save_to_path(str(folder))
    return str(folder)


def test_a_policy_test_set_is_built_once_and_reused_only_for_its_policy(tmp_path):
    from dataclasses import replace

    from mosim_ray.runs.benchmark import BenchmarkConfig, test_set

    first = _saved_sac_module(tmp_path / "first", seed=0)
    config = BenchmarkConfig(
        test_sets=("policy",), policy=first, episodes=2, steps=40, burn_in=5, horizons=(3,)
    )
    data = test_set(config, "policy", tmp_path / "sets" / "policy")
    assert len(data.episodes) == 2 and len(data.episodes[0].actions) == 35
    actions = np.concatenate([ep.actions for ep in data.episodes])
    assert np.isfinite(actions).all() and actions.std() > 0  # the policy's, with its noise
    again = test_set(config, "policy", tmp_path / "sets" / "policy")  # reused as it was
    np.testing.assert_array_equal(again.episodes[0].states, data.episodes[0].states)
    other = _saved_sac_module(tmp_path / "other", seed=1)
    with pytest.raises(ValueError, match="made by another policy"):
        test_set(replace(config, policy=other), "policy", tmp_path / "sets" / "policy")


def test_the_pushed_set_starts_its_longest_segments_outside_the_training_range(tmp_path):
    """Each episode's velocities are tripled after the burn-in: its first kept row is the state
    the same episode reached unpushed, three times as fast; a set built with other settings is
    refused, not silently reused."""
    from dataclasses import replace

    from mosim_ray.data.processes import ProcessConfig, make_process
    from mosim_ray.data.rollout import run_episode
    from mosim_ray.runs.benchmark import TEST_SEED, BenchmarkConfig, data_folder, test_set
    from mosim_ray.tasks import make_simulator

    config = BenchmarkConfig(test_sets=("pushed",), segments=3, burn_in=20, horizons=(2, 8))
    folder = tmp_path / data_folder("pushed", "poisson", config.push_factor)
    assert folder.name == "pushed_x3"
    data = test_set(config, "pushed", folder)
    assert len(data.episodes) == 3 and {len(ep.actions) for ep in data.episodes} == {8}
    sim = make_simulator("reacher-easy")
    low, high = sim.spec.action_bounds
    nq, speeds = sim.spec.nq, []
    for i, episode in enumerate(data.episodes):
        process = make_process(ProcessConfig(kind="poisson"), low, high)
        plain = run_episode(sim, process, 28, TEST_SEED, i)
        before = np.concatenate([plain["qpos"][20], plain["qvel"][20]])
        pushed = episode.states[0]
        np.testing.assert_allclose(pushed[:nq], before[:nq], rtol=1e-6)
        np.testing.assert_allclose(pushed[nq:], 3 * before[nq:], rtol=1e-5, atol=1e-6)
        speeds.append(np.abs(before[nq:]).max())
    assert max(speeds) > 0.1  # a real push, not only of resting arms
    with pytest.raises(ValueError, match="holds 3 episodes"):
        test_set(replace(config, segments=4), "pushed", folder)


def test_a_physics_step_test_set_steps_mujoco_once_per_row(tmp_path):
    """``step_unit: physics``: each recorded step is one MuJoCo step with its own action (4 rows
    per hopper control step), refused for tasks and sets it has no meaning for."""
    from mosim_ray.runs.benchmark import BenchmarkConfig, data_folder, test_set
    from mosim_ray.tasks import make_simulator

    config = BenchmarkConfig(
        task="hopper-hop", step_unit="physics", random_actions="uniform", episodes=2, steps=40,
        burn_in=8, horizons=(2, 16),
    )  # fmt: skip
    folder = tmp_path / data_folder("random", "uniform", 3.0, "physics")
    assert folder.name == "uniform_physics"
    data = test_set(config, "random", folder)
    assert data.meta["control_dt"] == pytest.approx(0.005)
    episode = data.episodes[0]
    assert len(np.unique(episode.actions[:8], axis=0)) == 8  # a fresh action every physics step
    one = {}
    for physics_steps in (True, False):  # the rows are stored in float32
        sim = make_simulator("hopper-hop", physics_steps=physics_steps)
        sim.set_state(episode.states[0], episode.contexts[0])
        sim.step(episode.actions[0])
        one[physics_steps] = np.abs(sim.state() - episode.states[1]).max()
    assert one[True] < 1e-4 < one[False]
    with pytest.raises(ValueError, match="suite tasks"):
        BenchmarkConfig(task="gym:Hopper-v5", step_unit="physics")
    with pytest.raises(ValueError, match="control step"):
        BenchmarkConfig(task="hopper-hop", step_unit="physics", policy="runs/p")
    with pytest.raises(ValueError, match="step_unit must be"):
        BenchmarkConfig(step_unit="seconds")
