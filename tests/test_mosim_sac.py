"""MoSimSAC on a real local Ray, tiny budgets: the schedules' ratios hold exactly, and killed
collectors, env runners and trainers do not lose, double or corrupt anything."""

import math

import numpy as np
import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.shards import shard_name

pytestmark = pytest.mark.ray

DATA_STEPS = 3 * 40


@pytest.fixture
def small_data(tmp_path):
    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    return str(data)


def tiny(schedule, data, work, **mosim):
    """A tiny MoSimSAC config; ``mosim`` holds dotted settings (``"on_policy.branch_from"``)."""
    from mosim_ray.schedules.config import MoSimSACConfig

    settings = {
        "schedule": schedule,
        "task": "reacher-easy",
        "checkpoint": "pretrained/reacher-easy",
        "data": data,
        "few_shot": {
            "imagined_per_round": 256,
            "real_per_round": 40,
            "collectors": 2,
            "imagined_time_limit": 20,
        },
        "trainer": {"update_every": 50, "batch": 16, "horizon": 4},
        "eval": {"episodes": 2, "time_limit": 30, "every": 100},
        "on_policy": {
            "real_time_limit": 50,
            "branch_length": 2,
            "branch_batch": 16,
            "branches_per_real_step": 1.0,
        },
        "work_dir": str(work),
    }
    config = MoSimSACConfig().mosim(**settings).mosim(**mosim)
    config.env_runners(num_env_runners=1, num_envs_per_env_runner=4)
    config.training(
        train_batch_size_per_learner=32,
        training_intensity=32,  # one update per step: these tests check the wiring and the counts
        num_steps_sampled_before_learning_starts=64,
    )
    config.reporting(min_sample_timesteps_per_iteration=64)
    return config


def kill_env_runner(algo, ray):
    """Kill a remote env runner's process (a crash): Ray restarts it, RLlib brings it back."""
    manager = algo.env_runner_group._worker_manager
    actor = manager._actors[manager.healthy_actor_ids()[0]]
    ray.kill(actor, no_restart=False)


def test_few_shot_ratios_hold_exactly_through_killed_actors(ray_local, small_data, tmp_path):
    from mosim_ray.runs.schedule import train_schedule

    # the density flow is fitted at the start and refitted after every round
    config = tiny(
        "few_shot",
        small_data,
        tmp_path / "work",
        **{"penalty.refit_every": 1, "penalty.refit_steps": 20},
    )
    killed = []
    penalty_versions = []

    def kill_something(algo, point):
        penalty_versions.extend(
            algo.env_runner_group.foreach_env_runner(
                lambda r: r.env.unwrapped.penalty_version, local_env_runner=False
            )
        )
        # after round 1: the trainer (Ray restarts it from its checkpoint), a collector (Ray
        # restarts it and retries its next call) and an env runner (RLlib replaces it)
        if point["rounds"] == 1 and not killed:
            ray_local.kill(algo.model.trainer, no_restart=False)
            ray_local.kill(algo.schedule.collectors[0], no_restart=False)
            kill_env_runner(algo, ray_local)
            killed.append(point)

    result = train_schedule(config, 80, tmp_path / "out", on_eval=kill_something, progress=False)
    assert killed, "the faults were not injected"
    # no real episode lost or counted twice across the restarts
    assert result["rounds"] == 2 and result["real_steps"] == 80 and result["real_episodes"] == 4
    assert result["trainer_real_steps"] == DATA_STEPS + 80
    assert result["model_updates"] == result["imagined_steps"] // 50
    assert result["model_gradient_steps"] == result["model_updates"]
    for point in result["curve"][1:-1]:  # each round came after its imagined steps, never before
        assert point["imagined_steps"] >= 256 * point["rounds"]
        assert point["real_steps"] == 40 * point["rounds"]
    # the model version env runners step with never goes backwards, and it moved on
    seen = result["env_runner_version_min_per_iteration"]
    assert seen == sorted(seen) and seen[-1] > 1
    assert result["nonfinite_dropped"] == 0
    assert all(math.isfinite(p["real_return_mean"]) for p in result["curve"])
    assert len(result["fresh_data_error"]) == 2  # the model judged on each round before it learned
    assert (tmp_path / "out" / "policy").is_dir()
    assert result["density_fits"] == 3
    assert [f["transitions"] for f in result["density_fits_log"]] == [
        DATA_STEPS,
        DATA_STEPS + 40,
        DATA_STEPS + 80,
    ]
    assert penalty_versions and min(penalty_versions) >= 1  # env runners stepped with a penalty


def test_on_policy_ratios_hold_exactly_and_a_killed_env_runner_loses_nothing(
    ray_local, small_data, tmp_path
):
    from mosim_ray.runs.schedule import train_schedule

    config = tiny(
        "on_policy",
        small_data,
        tmp_path / "work",
        **{"penalty.refit_every": 2, "penalty.refit_steps": 20},
    )
    killed = []

    def kill_once(algo, point):
        if point["real_steps"] >= 100 and not killed:
            kill_env_runner(algo, ray_local)
            killed.append(point["real_steps"])

    result = train_schedule(config, 300, tmp_path / "out", on_eval=kill_once, progress=False)
    assert killed
    real = result["real_steps"]
    assert real >= 300
    assert result["model_updates"] == real // 50
    # every real step reached the trainer exactly once, as segments of the real episodes
    assert result["trainer_real_steps"] == DATA_STEPS + real
    # 1 branch of 2 imagined steps per real step, in whole batches of 16 branches
    assert result["imagined_steps"] == (real // 16) * 16 * 2
    # training_intensity 32 / batch 32: one update per real step once learning has started
    assert 0 < result["policy_updates"] <= real
    assert result["density_fits"] == 1 + result["model_updates"] // 2  # at the start, then every 2
    assert result["nonfinite_dropped"] == 0
    assert all(math.isfinite(p["real_return_mean"]) for p in result["curve"])
    # the critic's mean Q is recorded at each evaluation once the policy learns
    assert math.isnan(result["curve"][0]["q_mean"]) and math.isfinite(result["curve"][-1]["q_mean"])
    # beside it, the discounted returns reacher's rewards in [0, 1] allow
    gamma = config.gamma
    assert result["curve"][-1]["q_bounds"] == pytest.approx([0.0, 1.0 / (1.0 - gamma)])


def test_on_policy_branches_can_start_from_the_whole_dataset(ray_local, small_data, tmp_path):
    from mosim_ray.runs.schedule import train_schedule

    margin = {"on_policy.velocity_margin": 1.5}
    config = tiny(
        "on_policy", small_data, tmp_path / "work", **{"on_policy.branch_from": "dataset"}, **margin
    )
    pools, bounds = [], []

    def look(algo, point):
        states, _ = algo.schedule.branch_pool(algo)
        own = algo.schedule.segments.reset_pool()[0]
        pools.append((len(states), len(own), point["real_steps"]))
        # the bounds and the pool the last branches started from, both set when branches were
        # last due (the trainer's pool may have moved on since, by evaluation time)
        env = algo.schedule.branches.env
        if env.reset_pool is not None:
            bounds.append((env.velocity_bounds, env.reset_pool.states))

    result = train_schedule(config, 100, tmp_path / "out", on_eval=look, progress=False)
    assert result["imagined_steps"] > 0 and result["nonfinite_dropped"] == 0
    # branches stop where a joint moves faster than 1.5x its fastest in the pool they start from
    env_bounds, branch_states = bounds[-1]
    np.testing.assert_allclose(env_bounds, 1.5 * np.abs(branch_states[:, 2:]).max(axis=0))
    assert result["branches_stopped"] >= 0
    # after the first model update the pool is the trainer's: the 3 starting episodes' 123
    # states plus the policy's, where the policy's pool alone holds only its own
    last, policy_only, real = pools[-1]
    assert real >= 100 and policy_only > real
    assert last > DATA_STEPS + 3 and last > policy_only


def test_mosim_settings_are_checked_up_front():
    from mosim_ray.config import ConfigError
    from mosim_ray.schedules.config import MoSimSACConfig

    with pytest.raises(ConfigError, match="unknown settings \\['brnach_length'\\]"):
        MoSimSACConfig().mosim(on_policy={"brnach_length": 2})
    with pytest.raises(ConfigError, match="multiple of collectors"):
        MoSimSACConfig().mosim(few_shot={"real_per_round": 1000, "collectors": 3})
    with pytest.raises(ConfigError, match="schedule"):
        MoSimSACConfig().mosim(schedule="offline")
    with pytest.raises(ConfigError, match="device"):
        MoSimSACConfig().mosim(**{"trainer.device": "gpu"})
    with pytest.raises(ConfigError, match="task_reset_fraction"):
        MoSimSACConfig().mosim(few_shot={"task_reset_fraction": -0.1})
    with pytest.raises(ConfigError, match="refit_every"):
        MoSimSACConfig().mosim(penalty={"refit_every": -1})
    with pytest.raises(ConfigError, match="branch_from"):
        MoSimSACConfig().mosim(on_policy={"branch_from": "replay"})
    with pytest.raises(ConfigError, match="real_fraction"):
        MoSimSACConfig().mosim(on_policy={"real_fraction": 1.5})
    with pytest.raises(ConfigError, match="velocity_margin"):
        MoSimSACConfig().mosim(on_policy={"velocity_margin": 0.0})
    with pytest.raises(ConfigError, match="must be a number"):
        MoSimSACConfig().mosim(trainer={"lr": "fast"})


def test_tune_runs_mosim_sac_like_any_algorithm(ray_local, small_data, tmp_path):
    from ray import tune

    from mosim_ray.schedules.algorithm import MoSimSAC

    config = tiny("few_shot", small_data, tmp_path / "work", work_dir=None)
    # the trial's placement group holds 1 CPU for the driver and this for the env runner; the
    # trainer and collectors share what is left of the 2
    config.env_runners(num_cpus_per_env_runner=0.5)
    tuner = tune.Tuner(
        MoSimSAC,
        param_space=config,
        run_config=tune.RunConfig(
            storage_path=str(tmp_path / "tune"),
            stop={"mosim/real_steps": 40},
            checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=True),
            verbose=0,
        ),
    )
    result = tuner.fit()[0]
    assert result.error is None
    assert result.metrics["mosim"]["real_steps"] == 40
    assert np.isfinite(result.metrics["mosim"]["real_return_mean"])
    assert result.checkpoint is not None


def test_preloaded_starting_transitions_are_the_stored_ones_in_module_actions(small_data):
    from mosim_ray.data import RolloutDataset
    from mosim_ray.schedules.on_policy import starting_transitions

    data = RolloutDataset.open(small_data)
    got = starting_transitions("reacher-easy", small_data)
    ep = data.episodes[0]
    n = ep.length
    assert len(got["rew"]) == sum(e.length for e in data.episodes)
    np.testing.assert_allclose(got["obs"][:n], ep.observations[:-1], atol=1e-6)
    np.testing.assert_allclose(got["nobs"][:n], ep.observations[1:], atol=1e-6)
    np.testing.assert_array_equal(got["rew"][:n], ep.rewards)
    assert got["act"].min() >= -1 and got["act"].max() <= 1 and not got["term"].any()
    hard = starting_transitions("reacher-hard", small_data)  # the same physics, its own reward
    assert hard["rew"].sum() <= got["rew"].sum()


def test_model_free_control_replays_real_transitions_under_fresh_goals(
    ray_local, small_data, tmp_path
):
    from mosim_ray.runs.schedule import train_schedule

    control = {
        "task": "reacher-hard",
        "task_contexts": True,
        "trainer.update_every": 10**9,
        "on_policy.branches_per_real_step": 0.0,
        "on_policy.real_fraction": 1.0,
        "on_policy.preload_real": True,
        "on_policy.relabel_fraction": 0.5,
        "eval.every": 1,  # after every iteration, the last one too: finish() must not repeat it
    }
    config = tiny("on_policy", small_data, tmp_path / "work", **control)
    seen = []

    def look(algo, point):
        seen.append(algo)

    result = train_schedule(config, 100, tmp_path / "out", on_eval=look, progress=False)
    assert result["imagined_steps"] == 0 and result["model_updates"] == 0
    assert result["policy_updates"] > 0
    # the starting data from the first update on, each real episode as it ends (50 steps; the
    # 4 envs' episodes in flight end with the run)
    assert result["real_steps"] >= 100
    assert len(seen[-1].schedule.relabelled) >= DATA_STEPS + 50
    steps = [p["real_steps"] for p in result["curve"]]
    assert len(steps) == len(set(steps)), steps  # one evaluation per real-step count


def test_a_runs_seconds_carry_over_a_resume_and_a_restarted_trainer():
    from mosim_ray.schedules.counts import RunClock, Seconds

    spent = Seconds(policy_updates=1.0, wall=2.0, evaluation=0.5)  # this process, before restoring
    spent.resume_from({"policy_updates": 10.0, "wall": 20.0, "evaluation": 3.0, "saving": 1.0})
    assert (spent.policy_updates, spent.wall, spent.evaluation) == (10.0, 22.0, 3.5)
    assert math.isnan(spent.trainer_cpu)  # a save from before its clock: unknown, not 0
    assert spent.density_fitting == 0.0
    clock, seconds = RunClock(), Seconds()
    clock.tick(seconds, (11, 5.0))
    clock.tick(seconds, (11, 7.0))
    clock.tick(seconds, (12, 9.5))  # Ray restarted the trainer: a new process, counting anew
    assert seconds.trainer_cpu == 16.5 and seconds.wall > 0 and seconds.driver_cpu >= 0
