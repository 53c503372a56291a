"""RLlib on the imagined env: one SAC and one PPO iteration, real-env evaluation, zero-shot
pipeline end to end (real local Ray, tiny budgets)."""

import math

import numpy as np
import pytest

from mosim_ray.model import ModelConfig, WorldModel

pytestmark = pytest.mark.ray

TINY = {
    "train_batch_size_per_learner": 32,
    "min_sample_timesteps_per_iteration": 64,
    "model_config": {"fcnet_hiddens": [32, 32], "fcnet_activation": "relu"},
}


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model"
    WorldModel.create(ModelConfig(task="reacher-easy", size="small", correctors=0)).save(path)
    return str(path)


def _imagined_config(algo, checkpoint, **extra):
    from mosim_ray.envs.rllib import IMAGINED, register_envs
    from mosim_ray.sac.presets import algorithm_config

    register_envs()
    env_config = {"checkpoint": checkpoint, "time_limit": 10}
    return algorithm_config(
        algo,
        IMAGINED,
        env_config,
        num_envs_per_env_runner=4,
        vectorize_mode="vector_entry_point",
        **extra,
    )


def test_one_sac_iteration_in_imagination(ray_local, tiny_checkpoint):
    config = _imagined_config("sac", tiny_checkpoint, learning_starts=32, **TINY)
    algo = config.build_algo()
    try:
        result = algo.train()
        result = algo.train()
        runners = result["env_runners"]
        assert runners["num_env_steps_sampled_lifetime"] >= 128
        assert math.isfinite(runners["episode_return_mean"])  # 10-step episodes ended
        assert result["learners"]["default_policy"]  # the learner updated
    finally:
        algo.stop()


def test_one_ppo_iteration_in_imagination(ray_local, tiny_checkpoint):
    config = _imagined_config(
        "ppo",
        tiny_checkpoint,
        train_batch_size_per_learner=80,
        minibatch_size=40,
        num_epochs=1,
        model_config={"fcnet_hiddens": [32, 32], "fcnet_activation": "tanh"},
    )
    algo = config.build_algo()
    try:
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 80
        assert math.isfinite(result["env_runners"]["episode_return_mean"])
    finally:
        algo.stop()


def test_real_evaluation_runs_whole_seeded_episodes(ray_local, tiny_checkpoint):
    from mosim_ray.sac.evaluation import RealEvaluator

    config = _imagined_config("sac", tiny_checkpoint, **TINY)
    algo = config.build_algo()
    evaluator = RealEvaluator(config, "reacher-easy", episodes=3, time_limit=40)
    try:
        first, second = evaluator(algo), evaluator(algo)
        assert first.lengths.tolist() == [40, 40, 40]
        assert np.isfinite(first.returns).all() and (first.returns >= 0).all()
        np.testing.assert_array_equal(first.returns, second.returns)  # same seeded episodes
    finally:
        evaluator.stop()
        algo.stop()


def _first_observations(evaluator) -> np.ndarray:
    episodes = evaluator.runner.sample(num_episodes=3, explore=False, force_reset=True)
    return np.stack([e.get_observations(0) for e in episodes[:3]])


def test_each_run_seed_is_judged_on_its_own_evaluation_starts(ray_local, tiny_checkpoint):
    from mosim_ray.sac.eval_settings import EVAL_SEED_BASE, EvalSettings
    from mosim_ray.sac.evaluation import RealEvaluator

    settings = EvalSettings(episodes=3, time_limit=5)
    assert (
        settings.starts_seed(0) == EVAL_SEED_BASE and settings.starts_seed(3) == EVAL_SEED_BASE + 3
    )
    assert EvalSettings(seed=7).starts_seed(3) == 7  # a run may name its own
    config = _imagined_config("sac", tiny_checkpoint, **TINY)
    starts = {}
    for run_seed in (0, 1):
        seed = settings.starts_seed(run_seed)
        evaluator = RealEvaluator(config, "reacher-hard", 3, 5, seed)
        try:
            starts[run_seed] = (_first_observations(evaluator), _first_observations(evaluator))
        finally:
            evaluator.stop()
    np.testing.assert_array_equal(*starts[0])  # one run: the same starts at every evaluation
    assert not np.allclose(starts[0][0], starts[1][0])  # another seed: other starts
