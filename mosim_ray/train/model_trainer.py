"""``ModelTrainer``: keeps a world model learning as real data arrives (few-shot, on-policy).

It owns the model, its optimizer state and the real dataset (episodes read from shards plus the
newest real episodes in memory). ``train(n)`` continues training, never from scratch; after each
call the weights go out under a version number that only grows (``publish``). With a checkpoint
folder, the trainer saves itself before it publishes and a new trainer on the same folder resumes
from there, so a restarted trainer never publishes a version that env runners have already seen
with other weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mosim_ray.data.reader import Episode, RolloutDataset
from mosim_ray.model.world_model import WorldModel
from mosim_ray.train.trainer import compiled_step

Publisher = Callable[[WorldModel, int], Any]


@dataclass(frozen=True)
class ContinualConfig:
    batch_size: int = 256
    lr: float = 3e-4
    horizon: int = 16
    """rollout length of the training loss (shorter episodes are skipped until long enough)"""
    grad_clip: float = 1.0
    normalize_loss: bool = True
    seed: int = 0
    device: str = "cpu"
    """"cpu", "cuda" (or "cuda:N"), or "auto": a GPU when this process sees one"""
    compile: bool = False
    """torch.compile the model's step for training (``TrainConfig.compile``): about a fifth less
    time per update after a compile of 10-60 s at the first one"""


def resolve_device(name: str) -> torch.device:
    """``name`` as a torch device; "auto" is CUDA when visible. An unusable one raises here, not
    at the first batch."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"unknown device {name!r}: use cpu, cuda, cuda:N or auto") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but this process sees no CUDA GPU")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: the trainer runs on cpu or cuda")
    return device


def episode_from_rows(rows: dict[str, np.ndarray]) -> Episode:
    """An ``Episode`` from ``run_episode``'s per-row arrays (T+1 rows)."""
    return Episode(
        id=int(rows["episode"][0]),
        states=np.hstack([rows["qpos"], rows["qvel"]]).astype(np.float32),
        actions=np.asarray(rows["action"][:-1], dtype=np.float32),
        rewards=np.asarray(rows["reward"][:-1], dtype=np.float32),
        observations=np.asarray(rows["observation"], dtype=np.float32),
        contexts=np.asarray(rows["context"], dtype=np.float32),
    )


class ModelTrainer:
    """Continual training of ``model`` on ``data`` plus episodes added with ``add_episodes``."""

    STATE = "model_trainer.pt"
    EPISODES = "episodes"

    def __init__(
        self,
        model: WorldModel,
        data: RolloutDataset | None = None,
        config: ContinualConfig = ContinualConfig(),
        checkpoint_dir: str | Path | None = None,
        publish: Publisher | None = None,
    ):
        self.model, self.config, self.publish = model, config, publish
        self.device = resolve_device(config.device)
        model.dynamics.to(self.device)  # weights travel as CPU numpy arrays all the same
        self.step = compiled_step(model.dynamics) if config.compile else None
        self.dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.episodes: dict[int, Episode] = {e.id: e for e in (data.episodes if data else [])}
        self.rng = np.random.default_rng(config.seed)
        # fused: one kernel over all parameters (StagedTrainer's reason); a saved state of an
        # unfused Adam loads into it and goes on unfused
        self.opt = torch.optim.Adam(model.dynamics.parameters(), lr=config.lr, fused=True)
        self.version, self.updates, self.seconds = 0, 0, 0.0
        self._sampler = None
        self._saved: set[int] = set()  # ids of the episodes already in the checkpoint folder
        if self.dir is not None and (self.dir / self.STATE).is_file():
            self._restore()

    # --- data ------------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return sum(e.length for e in self.episodes.values())

    def add_episodes(self, episodes: list[dict[str, np.ndarray] | Episode]) -> int:
        """Add real episodes (``run_episode`` rows or ``Episode``); an id already held is ignored,
        so a re-sent episode is never counted twice. Returns how many were new."""
        new = 0
        for ep in episodes:
            ep = ep if isinstance(ep, Episode) else episode_from_rows(ep)
            if ep.id in self.episodes:
                continue
            self.episodes[ep.id] = ep
            new += 1
        if new:
            self._sampler = None
            self.checkpoint()  # a restarted trainer must not lose what it already took in
        return new

    def reset_states(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """States [M, D] and contexts [M, C] (float64) of the newest real episodes (by id), at most
        ``limit`` rows: where imagined episodes may start."""
        if not self.episodes:
            raise ValueError("ModelTrainer holds no real episodes to draw reset states from")
        states, contexts, n = [], [], 0
        for i in sorted(self.episodes, reverse=True):
            ep = self.episodes[i]
            states.append(ep.states[: limit - n])
            contexts.append(ep.contexts[: limit - n])
            n += len(states[-1])
            if n >= limit:
                break
        return (
            np.concatenate(states).astype(np.float64),
            np.concatenate(contexts).astype(np.float64),
        )

    def fit_density(self, steps: int = 1000, seed: int = 0) -> tuple[dict, dict, dict[str, Any]]:
        """The density penalty's flow refitted to every real transition held now (the model's
        training data): (config, numpy state dict, fit report), ready for the model store."""
        from mosim_ray.model.density import density_to_state, fit_to_episodes

        if not self.episodes:
            raise ValueError("ModelTrainer holds no real episodes to fit a density to")
        episodes = [self.episodes[i] for i in sorted(self.episodes)]
        t0 = time.perf_counter()
        density, report = fit_to_episodes(self.model.task, episodes, steps=steps, seed=seed)
        config, state = density_to_state(density)
        return config, state, {**report, "seconds": time.perf_counter() - t0}

    @torch.no_grad()
    def prediction_error(
        self, episodes: list[dict[str, np.ndarray] | Episode], horizon: int = 16
    ) -> float:
        """Raw-state MSE of the current model over ``horizon``-step windows of ``episodes``
        (fresh real data, before it is added): how well the model knows what it will learn."""
        windows_s, windows_a = [], []
        for ep in episodes:
            ep = ep if isinstance(ep, Episode) else episode_from_rows(ep)
            for start in range(0, ep.length - horizon + 1, horizon):
                windows_s.append(ep.states[start : start + horizon + 1])
                windows_a.append(ep.actions[start : start + horizon])
        if not windows_s:
            return float("nan")
        states = torch.as_tensor(np.stack(windows_s), dtype=torch.float32, device=self.device)
        actions = torch.as_tensor(np.stack(windows_a), dtype=torch.float32, device=self.device)
        self.model.dynamics.eval()
        pred = self.model.dynamics.rollout(states[:, 0], actions)
        return float(((pred - states[:, 1:]) ** 2).mean())

    def _segments(self):
        if self._sampler is None:
            data = RolloutDataset(self.model.task, {}, list(self.episodes.values()))
            self._sampler = data.segments(self.config.horizon)
        return self._sampler

    # --- training --------------------------------------------------------------------------------
    def train(self, n_updates: int) -> dict[str, Any]:
        """``n_updates`` gradient steps, then checkpoint and publish a new version."""
        if n_updates < 1:
            raise ValueError(f"n_updates must be >= 1, got {n_updates}")
        cfg, dyn = self.config, self.model.dynamics
        if not self.episodes:
            raise ValueError("ModelTrainer has no real episodes to train on yet")
        sampler = self._segments()
        weights = torch.full((cfg.horizon,), 1.0 / cfg.horizon, device=self.device)
        t0, losses = time.perf_counter(), []
        dyn.train()
        for _ in range(n_updates):
            states, actions = sampler.sample(cfg.batch_size, self.rng)
            states, actions = states.to(self.device), actions.to(self.device)
            loss = dyn.loss(states, actions, weights, normalized=cfg.normalize_loss, step=self.step)
            if not torch.isfinite(loss):
                continue  # a bad batch must not poison the weights env runners will pull
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(dyn.parameters(), cfg.grad_clip)
            self.opt.step()
            losses.append(float(loss.detach()))
            self.updates += 1
        dyn.eval()
        self.seconds += time.perf_counter() - t0
        self.version += 1
        self.checkpoint()
        if self.publish is not None:
            self.publish(self.model, self.version)
        return {
            "version": self.version,
            "updates": self.updates,
            "loss": float(np.mean(losses)) if losses else float("nan"),
            "skipped": n_updates - len(losses),
            "real_steps": self.num_steps,
        }

    def publish_now(self) -> int:
        """Checkpoint and publish the current weights as a new version (e.g. the starting model)."""
        self.version += 1
        self.checkpoint()
        if self.publish is not None:
            self.publish(self.model, self.version)
        return self.version

    # --- persistence -----------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Save the weights, the optimizer and every real episode not saved yet. Each episode is
        written once, to its own file, so a checkpoint costs the same at 100k real steps as at
        10k (the state lists the ids; it is written last, so it is never ahead of the files)."""
        if self.dir is None:
            return
        folder = self.dir / self.EPISODES
        folder.mkdir(parents=True, exist_ok=True)
        for i in sorted(set(self.episodes) - self._saved):
            tmp = folder / f"{i}.tmp.npz"
            np.savez(tmp, **{k: v for k, v in vars(self.episodes[i]).items() if k != "id"})
            tmp.replace(folder / f"{i}.npz")
            self._saved.add(i)
        self.model.save(self.dir / "model", version=self.version, updates=self.updates)
        state = {
            "opt": self.opt.state_dict(),
            "version": self.version,
            "updates": self.updates,
            "seconds": self.seconds,
            "rng": self.rng.bit_generator.state,
            "episode_ids": sorted(self.episodes),
            "config": asdict(self.config),
        }
        tmp = self.dir / (self.STATE + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.dir / self.STATE)  # weights first, state last: the state is never ahead

    def _restore(self) -> None:
        state = torch.load(self.dir / self.STATE, weights_only=False, map_location=self.device)
        saved = WorldModel.load(self.dir / "model")
        self.model.dynamics.load_state_dict(saved.dynamics.state_dict())
        self.opt.load_state_dict(state["opt"])
        self.version, self.updates = state["version"], state["updates"]
        self.seconds = state["seconds"]
        self.rng.bit_generator.state = state["rng"]
        if "episodes" in state:  # a state written with its episodes inside it
            self.episodes = {int(i): Episode(**e) for i, e in state["episodes"].items()}
        else:
            self.episodes = {i: self._load_episode(i) for i in state["episode_ids"]}
            self._saved = set(self.episodes)
        self._sampler = None

    def _load_episode(self, i: int) -> Episode:
        with np.load(self.dir / self.EPISODES / f"{i}.npz") as f:
            return Episode(id=i, **{k: f[k] for k in f.files})

    def summary(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "updates": self.updates,
                "episodes": len(self.episodes),
                "real_steps": self.num_steps,
                "seconds": round(self.seconds, 1),
            }
        )
