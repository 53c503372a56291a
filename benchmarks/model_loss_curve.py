"""``model_step_speed.py``'s loss curve: the model trainer as it is against the same loop as it
was (the reference loss, Adam without ``fused``) from the same weights on the same batches, beside
the trainer on other batches (the noise a seed makes), on reacher-easy."""

from __future__ import annotations

import copy

import numpy as np
import torch

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.reader import RolloutDataset
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.reference import reference_rollout
from mosim_ray.train.model_trainer import ContinualConfig, ModelTrainer, episode_from_rows


def collect(task: str, episodes: int, steps: int = 100, seed: int = 0) -> list[dict]:
    return EpisodeCollector(task, steps).collect(list(range(episodes)), seed=seed)


def loss_curve(updates: int, compile: bool) -> dict:
    """reacher-easy from the same fresh weights: ModelTrainer.train as it is; the same loop as it
    was (reference loss, default Adam) on the same batches; ModelTrainer on other batches (seed
    1: the noise); with ``compile``, ModelTrainer with the compiled step on the same batches."""
    task = "reacher-easy"
    eps = collect(task, 24, seed=1)
    data = RolloutDataset(task, {}, [episode_from_rows(e) for e in eps])
    torch.manual_seed(0)
    wm = WorldModel.create(ModelConfig(task=task))
    s = np.concatenate([e.states[:-1] for e in data.episodes])
    s1 = np.concatenate([e.states[1:] for e in data.episodes])
    wm.dynamics.norm.fit(wm.spec, s, np.concatenate([e.actions for e in data.episodes]), s1)
    start = copy.deepcopy(wm.dynamics.state_dict())

    def kept(seed: int, compile: bool = False) -> list[float]:
        model = WorldModel(copy.deepcopy(wm.dynamics))
        model.dynamics.load_state_dict(start)
        trainer = ModelTrainer(model, data, ContinualConfig(seed=seed, compile=compile))
        return [trainer.train(1)["loss"] for _ in range(updates)]

    def before(seed: int) -> list[float]:
        """ModelTrainer.train as it was: reference rollout, Adam without ``fused``."""
        cfg = ContinualConfig(seed=seed)
        dyn = copy.deepcopy(wm.dynamics)
        dyn.load_state_dict(start)
        opt = torch.optim.Adam(dyn.parameters(), lr=cfg.lr)
        rng, sampler = np.random.default_rng(cfg.seed), data.segments(cfg.horizon)
        w = torch.full((cfg.horizon,), 1.0 / cfg.horizon)
        losses = []
        for _ in range(updates):
            states, actions = sampler.sample(cfg.batch_size, rng)
            dyn.train()
            pred = reference_rollout(dyn, states[:, 0], actions)
            loss = (
                ((pred - states[:, 1:]) / dyn.norm.loss_scale).pow(2).mean(dim=(0, 2)) * w
            ).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(dyn.parameters(), cfg.grad_clip)
            opt.step()
            dyn.eval()
            losses.append(float(loss.detach()))
        return losses

    old, new, other = before(0), kept(0), kept(1)
    old_a, new_a, other_a = map(np.array, (old, new, other))
    curves = {"before_seed0": old, "kept_seed0": new, "kept_seed1": other}
    if compile:
        curves["compiled_seed0"] = kept(0, compile=True)

    def rel(x, y):
        return np.abs(x - y) / np.abs(y)

    return {
        "task": task,
        "updates": updates,
        "episodes": len(eps),
        "losses": curves,
        "mean_rel_diff_to_before_seed0": {
            k: float(rel(np.array(v), old_a).mean()) for k, v in curves.items()
        },
        "max_rel_diff_to_before_seed0": {
            k: float(rel(np.array(v), old_a).max()) for k, v in curves.items()
        },
        "last50_mean": {k: float(np.mean(v[-50:])) for k, v in curves.items()},
    }
