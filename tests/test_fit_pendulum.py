"""MoSim on a system with known dynamics: a damped pendulum simulated by real MuJoCo."""

import numpy as np
import pytest
import torch

from mosim_ray.data import EpisodeCollector, RolloutDataset
from mosim_ray.data.shards import shard_name
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.train import StagedTrainer, TrainConfig, fit_normalizer

pytestmark = pytest.mark.slow


def _dataset(task, folder, episodes):
    EpisodeCollector(task, 200).write_shard(folder / shard_name(0), episodes, seed=0)
    return RolloutDataset.open(folder)


def test_mosim_fits_a_pendulum_from_little_data(pendulum_xml, tmp_path):
    """Little data (4 episodes, 800 transitions), 400 updates, 3 seeds.

    Which of MoSim and the structure-free ablation wins on so little data is seed- and
    CPU-dependent (one CI machine flipped it), so that comparison lives in the ablation benchmark;
    here only the fit itself is asserted, on the median seed, with a looser bound for the worst.
    """
    torch.set_num_threads(1)
    task = f"mjcf:{pendulum_xml}"
    train = _dataset(task, tmp_path / "train", [0, 1, 2, 3])
    val = _dataset(task, tmp_path / "val", [100, 101, 102, 103])
    test = _dataset(task, tmp_path / "test", list(range(200, 208)))
    seg = test.segments(100)
    states, actions = seg.get(seg.starts[::5])
    constant = float(((states[:, 1:] - states[:, :1]) ** 2).mean())
    errors = []
    for seed in range(3):
        wm = WorldModel.create(ModelConfig(task=task, kind="mosim", correctors=0))
        fit_normalizer(wm, train, 8)
        cfg = TrainConfig(
            batch_size=64,
            horizon=8,
            max_updates=400,
            minutes=10,
            eval_every=25,
            patience=100,
            seed=seed,
        )
        StagedTrainer(wm, train, val, cfg, tmp_path / f"mosim{seed}").run(progress=False)
        pred = wm.rollout(states[:, 0], actions)
        errors.append(float(((pred - states[:, 1:]) ** 2).mean()))
    errors = np.array(errors)
    assert np.median(errors) < 0.01 * constant, (errors, constant)
    # one seed sits near a knife edge: float rounding alone (a fused optimizer, another CPU)
    # moves it between 0.4% and 4% of the baseline; the bound is for a fit, not for that seed
    assert errors.max() < 0.1 * constant, (errors, constant)
