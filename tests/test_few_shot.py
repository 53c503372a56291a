"""Few-shot schedule on a real local Ray, tiny budget: the ratios hold exactly."""

import math

import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.shards import shard_name

pytestmark = pytest.mark.ray


def test_few_shot_counts_hold_exactly_even_when_the_trainer_is_killed(ray_local, tmp_path):
    from mosim_ray.rl.few_shot import FewShotRun, run_few_shot

    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    run = FewShotRun(
        task="reacher-easy", checkpoint="pretrained/reacher-easy", data=str(data),
        real_steps=80, imagined_per_round=256, real_per_round=40, model_update_every=50,
        collectors=2, num_envs=4, time_limit=20, learning_starts=64, eval_episodes=2,
        eval_time_limit=30, model_batch=16, model_horizon=4,
        overrides={"train_batch_size_per_learner": 32, "min_sample_timesteps_per_iteration": 64},
    )  # fmt: skip
    rounds = []

    def kill_trainer_after_first_round(point):
        rounds.append(point)
        if point["rounds"] == 1:  # Ray restarts it; it resumes from its checkpoint
            ray_local.kill(ray_local.get_actor("few-shot-out-0-trainer"), no_restart=False)

    result = run_few_shot(run, tmp_path / "out", on_round=kill_trainer_after_first_round)
    # no real episode lost or counted twice across the restart
    assert result["rounds"] == 2 and result["real_steps"] == 80 and result["real_episodes"] == 4
    assert result["trainer_real_steps"] == 3 * 40 + 80  # the trainer holds every one, once
    assert result["model_updates"] == result["imagined_steps"] // 50
    for point in rounds:  # each round came after its share of imagined steps, never before
        assert point["imagined_steps"] >= 256 * point["rounds"]
        assert point["real_steps"] == 40 * point["rounds"]
    versions = [p["model_version"] for p in result["curve"]]
    assert versions == sorted(versions) and versions[-1] > 1  # the model learned and moved on
    assert all(math.isfinite(p["real_return_mean"]) for p in result["curve"])
    assert (tmp_path / "out" / "policy").is_dir()
