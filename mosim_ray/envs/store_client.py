"""The env side of the ``ModelStore``: pulls weights, reset states and density flows by name,
one small remote call per check and a transfer only when the store holds something newer."""

from __future__ import annotations

from typing import Any

import numpy as np
import ray
import torch

from mosim_ray.envs.imagined import ResetPool
from mosim_ray.model import ModelConfig, WorldModel


def model_from_store(config: dict[str, Any], weights: dict[str, np.ndarray]) -> WorldModel:
    model = WorldModel.create(ModelConfig(**config))
    model.dynamics.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return model


class StorePuller:
    """Weights source for ``ImaginedVecEnv``: one small remote call, a transfer only when newer."""

    def __init__(self, name: str, namespace: str | None = None):
        self.name, self.namespace = name, namespace
        self._store = None

    @property
    def store(self):
        if self._store is None:
            self._store = ray.get_actor(self.name, namespace=self.namespace)
        return self._store

    def fetch(self, version: int):
        return ray.get(self.store.get_if_newer.remote(version))

    def resets(self, version: int):
        """Reset-states source for ``ImaginedVecEnv``: (version, ResetPool) or None."""
        got = ray.get(self.store.get_resets_if_newer.remote(version))
        if got is None:
            return None
        return got[0], ResetPool(np.asarray(got[1]), np.asarray(got[2]))

    def density(self, version: int):
        """(version, StateActionDensity) when the store holds a newer flow, else None."""
        from mosim_ray.model.density import density_from_state

        got = ray.get(self.store.get_density_if_newer.remote(version))
        if got is None:
            return None
        return got[0], density_from_state(got[1], got[2])

    def __call__(self, version: int):
        got = self.fetch(version)
        if got is None:
            return None
        new_version, _, weights = got
        return new_version, {k: torch.tensor(v) for k, v in weights.items()}
