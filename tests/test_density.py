"""Density penalty: a zuko flow fitted to real (state, action) data tells in from out."""

import numpy as np
import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.envs import ImaginedVecEnv
from mosim_ray.model import WorldModel
from mosim_ray.model.density import (
    DensityConfig,
    DensityPenalty,
    PenaltyConfig,
    StateActionDensity,
)


@pytest.fixture(scope="module")
def reacher_density(tmp_path_factory):
    eps = EpisodeCollector("reacher-easy", 200).collect(list(range(12)), seed=0)
    s = np.concatenate([np.hstack([e["qpos"], e["qvel"]])[:-1] for e in eps])
    a = np.concatenate([e["action"][:-1] for e in eps])
    density = StateActionDensity(DensityConfig(task="reacher-easy"))
    stats = density.fit(s, a, steps=400, batch=256)
    path = density.save(tmp_path_factory.mktemp("density"))
    return density, s, a, stats, path


def test_flow_prefers_the_data_it_saw(reacher_density):
    density, s, a, stats, _ = reacher_density
    assert np.isfinite(stats["val_log_prob"]) and stats["val_log_prob"] > -20
    far = s.copy()
    far[:, 2:] = 40.0  # joint velocities far outside anything random actions reach
    inside = density.log_prob(s[:500], a[:500]).detach().numpy()
    outside = density.log_prob(far[:500], a[:500]).detach().numpy()
    assert np.median(inside) > np.median(outside) + 20


def test_penalty_is_small_inside_and_minus_scale_far_away(reacher_density):
    density, s, a, _, _ = reacher_density
    pen = DensityPenalty(density, PenaltyConfig(scale=2.0, c=-30, s=10, truncate_below=-100))
    inside = pen(s[:200], a[:200])
    assert np.median(inside) > -0.15 * 2.0  # sigmoid((log p + 30) / 10) with log p near -10
    far = s[:200].copy()
    far[:, 2:] = 1e3
    outside = pen(far, a[:200])
    assert np.all(outside < -1.9) and np.all(outside >= -2.0)
    assert pen.out_of_support().all()
    with pytest.raises(ValueError):
        DensityPenalty(density, PenaltyConfig(s=0))


def test_save_load_round_trip(reacher_density):
    density, s, a, _, path = reacher_density
    again = StateActionDensity.load(path)
    np.testing.assert_allclose(
        again.log_prob(s[:50], a[:50]).detach().numpy(),
        density.log_prob(s[:50], a[:50]).detach().numpy(),
        rtol=1e-5,
    )
    with pytest.raises(FileNotFoundError):
        StateActionDensity.load(path / "nope")


def test_imagined_env_adds_the_penalty_and_truncates_out_of_support(reacher_density):
    from mosim_ray.envs.rllib import make_env

    density, _, _, _, path = reacher_density
    wm = WorldModel.load("pretrained/reacher-easy")
    plain = ImaginedVecEnv(wm, num_envs=8, time_limit=50)
    penalized = make_env(
        "mosim-imagined",
        {
            "checkpoint": "pretrained/reacher-easy",
            "num_envs": 8,
            "time_limit": 50,
            "density": str(path),
            "penalty": {"scale": 5.0},
        },
    )
    plain.reset(seed=0)
    penalized.reset(seed=0)
    act = np.full((8, 2), 0.5, np.float32)
    r_plain = plain.step(act)[1]
    r_pen = penalized.step(act)[1]
    assert np.all(r_pen <= r_plain + 1e-6) and np.all(r_pen >= r_plain - 5.0)
    strict = make_env(
        "mosim-imagined",
        {
            "checkpoint": "pretrained/reacher-easy",
            "num_envs": 4,
            "density": str(path),
            "penalty": {"truncate_below": 1e9},
        },
    )
    strict.reset(seed=0)
    _, _, _, trunc, _ = strict.step(np.zeros((4, 2), np.float32))
    assert trunc.all() and strict.counters["out_of_support"] == 4


def test_a_refitted_flow_reaches_the_env_through_its_source(reacher_density):
    """What MoSimSAC's refits do, without Ray: the trainer refits on its episodes, the flow
    travels as (config, numpy state), the env picks up each newer version at its next sync."""
    from mosim_ray.envs.rllib import density_penalty, imagined_env_config
    from mosim_ray.model.density import density_from_state, density_to_state
    from mosim_ray.train import ContinualConfig, ModelTrainer
    from mosim_ray.train.model_trainer import episode_from_rows

    density, s, a, _, _ = reacher_density
    eps = EpisodeCollector("reacher-easy", 100).collect([0, 1, 2], seed=0)
    trainer = ModelTrainer(WorldModel.load("pretrained/reacher-easy"), None, ContinualConfig())
    trainer.add_episodes([episode_from_rows(e) for e in eps])
    config, state, report = trainer.fit_density(steps=50)
    assert report["transitions"] == 300 and np.isfinite(report["val_log_prob"])
    refit = density_from_state(config, state)
    same = density_from_state(*density_to_state(density))
    np.testing.assert_allclose(
        same.log_prob(s[:20], a[:20]).detach().numpy(),
        density.log_prob(s[:20], a[:20]).detach().numpy(),
        rtol=1e-5,
    )

    published = [(1, refit)]

    def source(version):
        newer = [p for p in published if p[0] > version]
        return (
            None
            if not newer
            else (
                newer[-1][0],
                density_penalty(imagined_env_config({"penalty": {"scale": 3.0}}), newer[-1][1]),
            )
        )

    env = ImaginedVecEnv(
        WorldModel.load("pretrained/reacher-easy"), num_envs=4, penalty_source=source, sync_every=2
    )
    env.reset(seed=0)
    assert env.penalty_version == 1 and env.penalty.config.scale == 3.0
    published.append((2, same))
    env.step(np.zeros((4, 2), np.float32))
    assert env.penalty_version == 1  # not yet: the env asks every sync_every steps only
    env.step(np.zeros((4, 2), np.float32))
    assert env.penalty_version == 2 and env.penalty.density is same
