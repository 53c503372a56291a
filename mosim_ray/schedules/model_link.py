"""``ModelLink``: the driver's side of the world model, a trainer actor and a gated store.

The trainer (``ModelTrainerActor``) holds the model, its optimizer and the real data; it
publishes each new version to the store *staged*, and the store serves it to env runners and
branches only once the driver releases it (``confirm``). So what the imagined steps run on is
decided by the driver's sequence of calls, whatever the trainer's timing, while the trainer
trains beside the learner. Calls to the trainer queue in the order they are made: episodes sent
after an update starts reach the model after that update.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import ray

from mosim_ray.actors.model_store import model_store
from mosim_ray.actors.model_trainer import ModelTrainerActor
from mosim_ray.envs.world_models import resolve_world_model
from mosim_ray.schedules.settings import MoSimSettings


def trainer_config(s: MoSimSettings, seed: int) -> dict[str, Any]:
    """The ``ContinualConfig`` fields of a run's trainer, as its actor takes them (JSON-able)."""
    t = s.trainer
    return {
        "batch_size": t.batch,
        "horizon": t.horizon,
        "lr": t.lr,
        "seed": seed,
        "device": t.device,
        "compile": t.compile,
    }


class ModelLink:
    """The trainer and store of one MoSimSAC run (actor names from ``names``)."""

    def __init__(
        self, s: MoSimSettings, names: dict[str, str], trainer_options: dict, seed: int, work: Path
    ):
        self.store = model_store(names["store"], gated=True)
        config = trainer_config(s, seed)
        data = str(Path(s.data).resolve()) if s.data else None
        self.trainer = ModelTrainerActor.options(name=names["trainer"], **trainer_options).remote(
            resolve_world_model(s.task, s.checkpoint),
            str(work / "trainer"),
            data,
            config,
            names["store"],
        )
        self.horizon = s.trainer.horizon
        self.version = 0
        """the newest version released to the env runners and branches"""
        self._training = None
        self._fresh: list[tuple[Any, int]] = []
        self.fresh_errors: list[dict[str, float]] = []

    def start(self) -> int:
        """The starting model as the first released version."""
        self.version = ray.get(self.trainer.publish_now.remote())
        ray.get(self.store.release.remote(self.version))
        return self.version

    def update(self, gradient_steps: int) -> None:
        """Start a model update (confirm the one in flight first)."""
        self.confirm()
        self._training = self.trainer.timed_train.remote(gradient_steps)

    def confirm(self) -> tuple[float, float] | None:
        """Wait for the update in flight and release its weights; returns (seconds waited,
        seconds the trainer trained), or None with nothing in flight."""
        if self._training is None:
            return None
        start = time.perf_counter()
        state = ray.get(self._training)
        self._training = None
        waited = time.perf_counter() - start
        self.version = int(state["version"])
        ray.get(self.store.release.remote(self.version))
        return waited, float(state["train_seconds"])

    def ingest(self, episodes: list, real_steps: int):
        """Fresh real episodes (or segments) to the trainer, after the current model's error on
        them (no training has seen them yet). Returns the call's reference (how many were new to
        the trainer), None for none."""
        if not episodes:
            return None
        error = self.trainer.fresh_error.remote(episodes, self.horizon)
        self._fresh.append((error, real_steps))
        return self.trainer.add_episodes.remote(episodes)

    def fresh_data_errors(self) -> list[dict[str, float]]:
        """Every fresh-data error so far: the model's version, its MSE, the real steps then."""
        for ref, steps in self._fresh:
            got = ray.get(ref)
            if np.isfinite(got["mse"]):
                self.fresh_errors.append({**got, "real_steps": steps})
        self._fresh = []
        return self.fresh_errors

    def reset_states(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """The trainer's newest ``limit`` real states and their contexts."""
        return ray.get(self.trainer.reset_states.remote(limit))

    def publish_resets(self, limit: int) -> None:
        """The trainer's newest real states become where imagined episodes start."""
        states, contexts = self.reset_states(limit)
        ray.get(self.store.publish_resets.remote(states, contexts))

    def refit_density(self, steps: int, seed: int) -> tuple[int, dict[str, Any]]:
        """The penalty's flow refitted to all the trainer's real data and published; returns
        (density version, fit report)."""
        config, state, report = ray.get(self.trainer.fit_density.remote(steps, seed))
        return ray.get(self.store.publish_density.remote(config, state)), report

    def state(self) -> dict[str, Any]:
        """The trainer's version, updates, real steps and episode ids, once every call made
        before this one is done."""
        return ray.get(self.trainer.state.remote())

    def snapshot(self, dest: Path) -> None:
        """The trainer's checkpoint copied to ``dest`` (after every call made before this)."""
        ray.get(self.trainer.snapshot.remote(str(dest)))

    def node(self) -> str:
        return ray.get(self.trainer.node_id.remote())

    def kill(self) -> None:
        for actor in (self.trainer, self.store):
            ray.kill(actor, no_restart=True)
