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


def test_mosim_fits_a_pendulum_and_beats_the_structure_free_ablation(pendulum_xml, tmp_path):
    """Little data (4 episodes, 800 transitions), the same 1,000 updates for both models, 3 seeds.

    Measured when written: 100-step MSE ratios ablation/MoSim of 1.6, 8.9 and 1.3; with 16
    episodes the two come closer (0.7, 12, 6.5). The structure earns its keep where data is scarce.
    """
    torch.set_num_threads(1)
    task = f"mjcf:{pendulum_xml}"
    train = _dataset(task, tmp_path / "train", [0, 1, 2, 3])
    val = _dataset(task, tmp_path / "val", [100, 101, 102, 103])
    test = _dataset(task, tmp_path / "test", list(range(200, 208)))
    seg = test.segments(100)
    states, actions = seg.get(seg.starts[::5])
    constant = float(((states[:, 1:] - states[:, :1]) ** 2).mean())
    errors = {"mosim": [], "structure_free": []}
    for seed in range(3):
        for kind in errors:
            wm = WorldModel.create(ModelConfig(task=task, kind=kind, correctors=0))
            fit_normalizer(wm, train, 8)
            cfg = TrainConfig(
                batch_size=64,
                horizon=8,
                max_updates=1000,
                minutes=10,
                eval_every=25,
                patience=100,
                seed=seed,
            )
            StagedTrainer(wm, train, val, cfg, tmp_path / f"{kind}{seed}").run(progress=False)
            pred = wm.rollout(states[:, 0], actions)
            errors[kind].append(float(((pred - states[:, 1:]) ** 2).mean()))
    mosim, free = np.array(errors["mosim"]), np.array(errors["structure_free"])
    assert mosim.max() < 0.01 * constant, (errors, constant)  # it fits the pendulum
    assert np.exp(np.log(free / mosim).mean()) > 1.0, errors  # and beats the ablation on average
