"""Real and imagined environments: spaces, VectorEnv contract, obs/reward equality, NaN guard."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from mosim_ray.envs import ImaginedVecEnv, RealEnv, ResetPool, task_functions
from mosim_ray.envs.real import make_real_env
from mosim_ray.envs.rllib import make_env
from mosim_ray.model import ModelConfig, WorldModel


def _real_states(task: str, n: int, seed: int = 0):
    """n (state, action, context) triples visited by a real env under random actions."""
    env = RealEnv(task, time_limit=50)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    states, actions, contexts, obs, rewards = [], [], [], [], []
    for _ in range(n):
        a = env.action_space.sample()
        o, r, _, trunc, _ = env.step(a)
        states.append(env.state()), actions.append(a), contexts.append(env.context())
        obs.append(o), rewards.append(r)
        if trunc:
            env.reset()
    return tuple(np.array(x) for x in (states, actions, contexts, obs, rewards))


@pytest.mark.parametrize("task", ["reacher-easy", "cheetah-run"])
def test_task_functions_equal_dm_control_on_real_states(task):
    states, actions, contexts, obs, rewards = _real_states(task, 120)
    fns = task_functions(task)
    got_obs, got_rew = fns(states, actions, contexts)
    np.testing.assert_array_equal(got_obs, obs)
    # vectorized rewards agree to rounding (tests/test_task_functions.py), not bit for bit
    np.testing.assert_allclose(got_rew, rewards, rtol=0, atol=1e-9)
    if task == "reacher-easy":
        assert fns.vectorized and rewards.sum() > 0  # the target was reached: the check bites


def test_real_env_spaces_seeding_and_time_limit():
    env = RealEnv("reacher-easy", time_limit=5)
    assert env.observation_space.shape == (6,) and env.action_space.shape == (2,)
    o1, _ = env.reset(seed=3)
    o2, _ = RealEnv("reacher-easy", time_limit=5).reset(seed=3)
    np.testing.assert_array_equal(o1, o2)
    for t in range(5):
        _, _, term, trunc, _ = env.step(np.zeros(2))
        assert not term and trunc == (t == 4)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match="time_limit"):
        RealEnv("reacher-easy", time_limit=0)
    with pytest.raises(ValueError, match="unknown env_config"):
        make_real_env({"task": "reacher-easy", "checkpoint": "x"})
    vec = make_real_env({"task": "reacher-easy", "num_envs": 3})
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    assert vec.reset(seed=0)[0].shape == (3, 6)


@pytest.fixture(scope="module")
def reacher_model():
    return WorldModel.load("pretrained/reacher-easy")


def test_imagined_spaces_match_the_real_twin(reacher_model):
    env = ImaginedVecEnv(reacher_model, num_envs=4)
    real = RealEnv("reacher-easy")
    assert env.single_observation_space == real.observation_space
    assert env.single_action_space == real.action_space
    assert env.observation_space.shape == (4, 6) and env.action_space.shape == (4, 2)


def test_imagined_step_is_the_model_step_with_real_task_functions(reacher_model):
    env = ImaginedVecEnv(reacher_model, num_envs=8, time_limit=50)
    env.reset(seed=0)
    s0, ctx = env._states.copy(), env._contexts.copy()
    actions = np.random.default_rng(0).uniform(-1, 1, (8, 2)).astype(np.float32)
    obs, rew, term, trunc, info = env.step(actions)
    s1 = reacher_model.step(torch.tensor(s0, dtype=torch.float32), torch.from_numpy(actions))
    exact_obs, exact_rew = task_functions("reacher-easy", exact=True)(s1.numpy(), actions, ctx)
    np.testing.assert_allclose(obs, exact_obs, atol=1e-6)
    np.testing.assert_array_equal(rew, exact_rew.astype(np.float32))
    assert obs.dtype == np.float32 and rew.dtype == np.float32 and not term.any()


def test_imagined_resets_from_the_task_observe_as_the_task_does(reacher_model):
    env = ImaginedVecEnv(reacher_model, num_envs=4)
    obs, _ = env.reset(seed=0)
    zero = np.zeros((4, 2))
    want, _ = task_functions("reacher-easy", exact=True)(env._states, zero, env._contexts)
    np.testing.assert_array_equal(obs, want)


def test_imagined_autoreset_next_step_and_truncation_at_horizon(reacher_model):
    env = ImaginedVecEnv(reacher_model, num_envs=3, time_limit=4)
    obs0, _ = env.reset(seed=1)
    for t in range(4):
        obs, rew, term, trunc, _ = env.step(np.zeros((3, 2)))
        assert trunc.all() == (t == 3) and not term.any()
    # NEXT_STEP: the next call resets every sub-env, ignoring the action, with reward 0
    obs, rew, term, trunc, _ = env.step(np.ones((3, 2)))
    assert (rew == 0).all() and not trunc.any()
    assert np.allclose(env._states[:, 2:], 0)  # reacher resets at rest
    assert env.counters["episodes"] == 3 and env.counters["imagined_steps"] == 12


def test_imagined_seeding_is_reproducible(reacher_model):
    def run(seed):
        env = ImaginedVecEnv(reacher_model, num_envs=4, time_limit=3)
        out = [env.reset(seed=seed)[0]]
        for _ in range(7):
            out.append(env.step(np.full((4, 2), 0.3))[0])
        return np.array(out)

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_resets_from_a_pool_of_real_states(reacher_model):
    states, _, contexts, _, _ = _real_states("reacher-easy", 20)
    pool = ResetPool(states, contexts)
    env = ImaginedVecEnv(reacher_model, num_envs=16, reset_pool=pool)
    env.reset(seed=0)
    assert all(any(np.array_equal(s, p) for p in states) for s in env._states)
    with pytest.raises(ValueError, match="contexts"):
        ResetPool(states, contexts[:3])


def test_task_reset_fraction_mixes_real_states_with_the_tasks_own_resets(reacher_model):
    states, _, contexts, _, _ = _real_states("reacher-easy", 20)
    pool = ResetPool(states, contexts)

    def share_from_pool(fraction):
        env = ImaginedVecEnv(
            reacher_model, num_envs=400, reset_pool=pool, task_reset_fraction=fraction
        )
        env.reset(seed=1)
        return np.mean([any(np.array_equal(s, p) for p in states) for s in env._states])

    assert share_from_pool(0.0) == 1.0
    assert share_from_pool(1.0) == 0.0
    assert 0.35 < share_from_pool(0.5) < 0.65  # 400 draws: a wider miss is a bug, not luck
    with pytest.raises(ValueError, match="task_reset_fraction"):
        ImaginedVecEnv(reacher_model, num_envs=2, reset_pool=pool, task_reset_fraction=1.5)


def test_task_contexts_keep_the_real_physics_and_draw_fresh_goals(reacher_model):
    states, _, contexts, _, _ = _real_states("reacher-easy", 20)
    pool = ResetPool(states, np.zeros_like(contexts))  # one goal only: the origin
    env = ImaginedVecEnv(reacher_model, num_envs=32, reset_pool=pool, task_contexts=True)
    env.reset(seed=2)
    assert all(any(np.array_equal(s, p) for p in states) for s in env._states)
    targets = env._contexts[:, :2]
    assert len(np.unique(targets.round(6), axis=0)) == 32 and np.abs(targets).max() > 0.01


def test_non_finite_or_runaway_predictions_never_reach_the_learner():
    wm = WorldModel.create(ModelConfig(task="reacher-easy", size="small", correctors=0))
    env = ImaginedVecEnv(wm, num_envs=4, time_limit=100, max_abs_velocity=50.0)
    obs, _ = env.reset(seed=0)
    with torch.no_grad():  # poison the real model: its predictions become NaN
        next(wm.dynamics.parameters()).fill_(float("nan"))
    obs, rew, term, trunc, info = env.step(np.zeros((4, 2)))
    assert np.isfinite(obs).all() and np.isfinite(rew).all()
    assert trunc.all() and info["diverged"].all() and env.counters["diverged"] == 4
    obs, rew, _, trunc, _ = env.step(np.zeros((4, 2)))  # the resets, still finite
    assert np.isfinite(obs).all() and not trunc.any()
    with pytest.raises(ValueError, match="non-finite action"):
        env.step(np.full((4, 2), np.nan))


def test_runaway_velocity_truncates(reacher_model):
    env = ImaginedVecEnv(reacher_model, num_envs=2, time_limit=100, max_abs_velocity=1e-6)
    env.reset(seed=0)
    _, _, _, trunc, info = env.step(np.ones((2, 2)))
    assert trunc.all() and info["diverged"].all()


def test_a_joint_faster_than_its_bound_stops_the_row(reacher_model):
    states, _, contexts, _, _ = _real_states("reacher-easy", 40)
    pool = ResetPool(states, contexts)
    np.testing.assert_array_equal(pool.velocity_bounds(2, 2.0), 2.0 * np.abs(states[:, 2:]).max(0))
    env = ImaginedVecEnv(reacher_model, num_envs=8, time_limit=100, reset_pool=pool)
    env.reset(seed=0)
    env.velocity_bounds = np.array([np.inf, np.inf])
    _, _, _, trunc, info = env.step(np.ones((8, 2)))
    assert not trunc.any() and "diverged" not in info
    before = env._obs.copy()
    env.velocity_bounds = np.array([np.inf, 1e-9])  # the wrist may not move at all
    obs, rew, _, trunc, info = env.step(np.ones((8, 2)))
    assert trunc.all() and info["diverged"].all() and env.counters["diverged"] == 8
    np.testing.assert_array_equal(obs, before)  # the last good observation, no reward
    assert (rew == 0).all()


def test_imagined_env_config_errors():
    with pytest.raises(ValueError, match="unknown settings \\['horizon'\\]"):
        make_env("mosim-imagined", {"checkpoint": "pretrained/reacher-easy", "horizon": 5})
    with pytest.raises(ValueError, match="needs 'checkpoint' or 'model_store'"):
        make_env("mosim-imagined", {"task": "reacher-easy"})
    with pytest.raises(ValueError, match="different robot"):
        make_env("mosim-imagined", {"task": "cheetah-run", "checkpoint": "pretrained/reacher-easy"})
    env = make_env("mosim-imagined", {"checkpoint": "pretrained/reacher-easy", "num_envs": 5})
    assert env.num_envs == 5


def test_a_reacher_easy_model_serves_reacher_hard(reacher_model):
    easy = ImaginedVecEnv(reacher_model, num_envs=2)
    hard = ImaginedVecEnv(reacher_model, num_envs=2, task="reacher-hard")
    assert hard.fns.radii < easy.fns.radii  # the small target: hard's own reward
    states, actions, contexts, obs, rewards = _real_states("reacher-hard", 60)
    got_obs, got_rew = hard.fns(states, actions, contexts)
    np.testing.assert_array_equal(got_obs, obs)
    # vectorized rewards agree to rounding (tests/test_task_functions.py), not bit for bit
    np.testing.assert_allclose(got_rew, rewards, rtol=0, atol=1e-9)
