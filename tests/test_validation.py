"""The trainer's validation on held-out windows where the model cannot predict: real MuJoCo data."""

import math

import numpy as np
import torch

from mosim_ray.data import EpisodeCollector, RolloutDataset
from mosim_ray.data.shards import shard_name
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.train import StagedTrainer, TrainConfig, fit_normalizer


def _dataset(task, folder, episodes):
    EpisodeCollector(task, 100).write_shard(folder / shard_name(0), episodes, seed=0)
    return RolloutDataset.open(folder)


def test_a_window_every_model_fails_on_neither_stops_training_nor_hides(pendulum_xml, tmp_path):
    torch.set_num_threads(1)
    task = f"mjcf:{pendulum_xml}"
    train = _dataset(task, tmp_path / "train", [0, 1, 2])
    val = _dataset(task, tmp_path / "val", [100])
    torch.manual_seed(0)
    wm = WorldModel.create(ModelConfig(task=task, kind="mosim", correctors=0))
    fit_normalizer(wm, train, 8)
    cfg = TrainConfig(batch_size=32, horizon=8, max_updates=60, eval_every=20, eval_segments=16)
    trainer = StagedTrainer(wm, train, val, cfg, tmp_path / "out")
    # window 0 starts at a speed no model predicts finitely, and its truth never moves, so
    # predicting no motion would score 0 there
    nq = wm.spec.nq
    trainer.val_states[0, 0, nq:] = 1e15
    trainer.val_states[0, 1:] = trainer.val_states[0, :1]
    initial = {k: v.clone() for k, v in wm.dynamics.state_dict().items()}
    val = trainer.validate()
    assert math.isfinite(val) and trainer.val_capped >= 1 / 16
    # each window counts as its error or as no motion, whichever is smaller (window 0: 0)
    states, scale = trainer.val_states, wm.dynamics.norm.loss_scale
    with torch.no_grad():
        pred = wm.dynamics.rollout(states[:, 0], trainer.val_actions)
    model = ((pred - states[:, 1:]) / scale).pow(2).mean(dim=(1, 2))
    still = ((states[:, :1] - states[:, 1:]) / scale).pow(2).mean(dim=(1, 2))
    assert not torch.isfinite(model[0]) or model[0] > 1e6
    expected = torch.where(model <= still, model, still)
    np.testing.assert_allclose(val, float(expected.mean()), rtol=1e-5)
    assert trainer.val_capped == float((~(model <= still)).float().mean())
    trainer.run(progress=False)
    # training judged better weights and kept them: not the starting ones
    assert trainer.best_val < val
    assert all(row["val_capped"] > 0 for row in trainer.history)
    trained = wm.dynamics.state_dict()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)
