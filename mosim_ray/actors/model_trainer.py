"""``ModelTrainerActor``: the ``ModelTrainer`` as a Ray actor that survives being killed.

Ray restarts a dead trainer with the same constructor arguments; the constructor resumes from the
checkpoint folder (model, optimizer, version, real episodes), so training goes on from the last
published version and the version seen by env runners never goes backwards.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import ray

from mosim_ray.actors.model_store import publish
from mosim_ray.data.reader import RolloutDataset
from mosim_ray.model import WorldModel
from mosim_ray.train.model_trainer import ContinualConfig, ModelTrainer


class _TrainerProcess(ModelTrainer):
    """Builds its model, data and publisher from JSON-able arguments (what a restart replays)."""

    def __init__(
        self,
        checkpoint: str,
        checkpoint_dir: str,
        data: str | None = None,
        config: dict[str, Any] | None = None,
        store_name: str | None = None,
        threads: int = 1,
    ):
        import torch

        torch.set_num_threads(threads)
        store = ray.get_actor(store_name) if store_name else None
        super().__init__(
            WorldModel.load(checkpoint),
            RolloutDataset.open(data) if data else None,
            ContinualConfig(**(config or {})),
            checkpoint_dir=checkpoint_dir,
            publish=(lambda model, version: publish(store, model, version)) if store else None,
        )

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def fresh_error(self, episodes: list, horizon: int) -> dict[str, float]:
        """The current model's error on real episodes it has not trained on, and its version
        (called before ``add_episodes`` of the same episodes)."""
        return {"model_version": self.version, "mse": self.prediction_error(episodes, horizon)}

    def timed_train(self, n_updates: int) -> dict[str, Any]:
        """``train`` with the seconds it took in this process (the driver may not wait for it)."""
        start = time.perf_counter()
        state = self.train(n_updates)
        return {**state, "train_seconds": time.perf_counter() - start}

    def snapshot(self, dest: str) -> str:
        """A copy of this trainer's checkpoint (model, optimizer, version, real episodes) in
        ``dest``: what a resumed run's trainer starts from (``restore_snapshot``)."""
        self.checkpoint()
        dest_path = Path(dest)
        if dest_path.exists():
            shutil.rmtree(dest_path)
        shutil.copytree(self.dir, dest_path)
        return str(dest_path)

    def state(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "updates": self.updates,
            "real_steps": self.num_steps,
            "episodes": sorted(self.episodes),
            "pid": os.getpid(),  # a restarted trainer is a new process, its CPU count anew
            "cpu_seconds": time.process_time(),  # this process's, all its threads
        }


ModelTrainerActor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)(_TrainerProcess)


def restore_snapshot(snapshot: str | Path, checkpoint_dir: str | Path) -> None:
    """Put a trainer snapshot where a new trainer resumes from (its ``checkpoint_dir``)."""
    checkpoint_dir = Path(checkpoint_dir)
    if checkpoint_dir.exists():
        shutil.rmtree(checkpoint_dir)
    shutil.copytree(snapshot, checkpoint_dir)
