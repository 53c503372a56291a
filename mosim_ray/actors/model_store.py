"""``ModelStore``: a named actor holding the newest world-model weights under a growing version.

Env runners pull from it (``StorePuller``) only when the version they hold is older, so a model
update costs one transfer per runner, and a version never goes backwards anywhere. A *gated*
store holds what the trainer publishes until the driver releases it: the driver then decides when
consumers see a new model (after it has confirmed the update), whatever the trainer's timing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import ray

from mosim_ray.model import WorldModel


class WeightsStore:
    """Plain store: (version, model config, weights as numpy arrays), and, each under a version of
    its own, real reset states (states [M, D], contexts [M, C]) and the density penalty's flow
    (config, numpy state dict)."""

    def __init__(self, gated: bool = False):
        self.gated = gated
        self.staged: dict[int, tuple[dict[str, Any], dict[str, np.ndarray]]] = {}
        self.version = 0
        self.config: dict[str, Any] | None = None
        self.weights: dict[str, np.ndarray] | None = None
        self.resets_version = 0
        self.resets: tuple[np.ndarray, np.ndarray] | None = None
        self.density_version = 0
        self.density: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None

    def publish(self, config: dict[str, Any], weights: dict[str, np.ndarray], version: int) -> int:
        """Store weights under ``version``, which must be newer than the stored one (a gated
        store stages them until ``release``)."""
        if self.gated:
            self.staged[int(version)] = (config, weights)
            return int(version)
        return self._store(config, weights, version)

    def release(self, version: int) -> int:
        """Serve the newest staged weights up to ``version`` (older staged ones are dropped);
        returns the version served."""
        ready = [v for v in self.staged if v <= version]
        if ready:
            newest = max(ready)
            if newest > self.version:
                self._store(*self.staged[newest], newest)
            for v in ready:
                del self.staged[v]
        return self.version

    def _store(self, config: dict[str, Any], weights: dict[str, np.ndarray], version: int) -> int:
        if version <= self.version:
            raise ValueError(f"version must grow: got {version}, store holds {self.version}")
        if self.config is not None and config != self.config:
            raise ValueError("a model store holds one model architecture; got a different config")
        self.config, self.weights, self.version = config, weights, int(version)
        return self.version

    def get_version(self) -> int:
        return self.version

    def get_if_newer(
        self, version: int
    ) -> tuple[int, dict[str, Any], dict[str, np.ndarray]] | None:
        """(version, config, weights) when the store holds something newer than ``version``."""
        if self.weights is None or self.version <= version:
            return None
        return self.version, self.config, self.weights

    def publish_resets(self, states: np.ndarray, contexts: np.ndarray) -> int:
        """Real states imagined episodes should start from; returns their new version."""
        self.resets = (states, contexts)
        self.resets_version += 1
        return self.resets_version

    def get_resets_if_newer(self, version: int):
        """(version, states, contexts) when newer reset states than ``version`` are held."""
        if self.resets is None or self.resets_version <= version:
            return None
        return (self.resets_version, *self.resets)

    def publish_density(self, config: dict[str, Any], state: dict[str, np.ndarray]) -> int:
        """A refitted density flow (``DensityConfig`` fields, state dict); returns its version."""
        self.density = (config, state)
        self.density_version += 1
        return self.density_version

    def get_density_if_newer(self, version: int):
        """(version, config, state) when a newer density than ``version`` is held."""
        if self.density is None or self.density_version <= version:
            return None
        return (self.density_version, *self.density)


ModelStore = ray.remote(num_cpus=0, max_restarts=-1)(WeightsStore)


def model_store(name: str, namespace: str | None = None, gated: bool = False):
    """The named ``ModelStore`` actor, created if it does not exist yet, on the caller's node.

    Its weights and reset states live in memory: on a worker node that goes away, Ray would
    restart it empty elsewhere. Pinned to the driver's node, it lives exactly as long as the
    run that needs it (the multi-node test caught a store lost with a removed node).
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    return ModelStore.options(
        name=name, namespace=namespace, get_if_exists=True, scheduling_strategy=here
    ).remote(gated)


def to_numpy_weights(model: WorldModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(JSON-able model config, numpy state dict) of a world model, ready to publish."""
    state = {k: v.detach().cpu().numpy() for k, v in model.dynamics.state_dict().items()}
    return dataclasses.asdict(model.config), state


def publish(store, model: WorldModel, version: int) -> int:
    config, weights = to_numpy_weights(model)
    return ray.get(store.publish.remote(config, weights, version))
