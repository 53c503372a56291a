"""``TransitionReplayBuffer``: uniform replay over single transitions in numpy ring arrays.

It replaces RLlib's episode buffers in our SAC: sampling 256 transitions from
``PrioritizedEpisodeReplayBuffer`` builds 256 ``SingleAgentEpisode`` objects and runs the learner
connector over them, which costs several times the gradient step itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from ray.rllib.policy.sample_batch import SampleBatch

TRANSITION_BUFFER = "TransitionReplayBuffer"
"""The ``replay_buffer_config["type"]`` that selects this buffer."""


class TransitionReplayBuffer:
    """Uniform replay over single transitions kept in preallocated numpy ring arrays.

    Storage is allocated on the first ``add`` from the data's shapes and dtypes, so the buffer
    needs no spaces. A 1e6 capacity of 6-d float32 observations is ~50 MB.
    """

    def __init__(self, capacity: int = 1_000_000, seed: int | None = None) -> None:
        self.capacity = int(capacity)
        self._rng = np.random.default_rng(seed)
        self._data: dict[str, np.ndarray] | None = None
        self._next = 0
        self._size = 0
        self._added = 0

    def __len__(self) -> int:
        return self._size

    @staticmethod
    def transitions(episodes: Iterable[Any]) -> dict[str, np.ndarray] | None:
        """(obs, action, reward, next obs, terminated) arrays from RLlib episode chunks.

        ``get_observations()`` of a chunk of length T holds T + 1 observations (the chunk's
        last next observation included), so no transition is lost at chunk boundaries. Truncated
        chunks keep ``terminated = 0``: the target bootstraps from the last observation.
        """
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "nobs", "term")}
        for ep in episodes:
            t = len(ep)
            if t == 0:
                continue
            obs = np.asarray(ep.get_observations())
            cols["obs"].append(obs[:-1])
            cols["nobs"].append(obs[1:])
            cols["act"].append(np.asarray(ep.get_actions()))
            cols["rew"].append(np.asarray(ep.get_rewards(), dtype=np.float32))
            term = np.zeros(t, dtype=np.float32)
            if ep.is_terminated:
                term[-1] = 1.0
            cols["term"].append(term)
        if not cols["obs"]:
            return None
        return {k: np.concatenate(v) for k, v in cols.items()}

    def add(self, episodes: Iterable[Any]) -> int:
        """Stores every transition of ``episodes``; returns how many were added."""
        data = self.transitions(episodes)
        return 0 if data is None else self.add_arrays(data)

    def add_arrays(self, data: dict[str, np.ndarray]) -> int:
        """Stores transitions given as arrays keyed obs, act, rew, nobs, term ([n, ...] each)."""
        added = len(data["rew"])
        if added == 0:
            return 0
        if self._data is None:
            self._data = {
                k: np.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype) for k, v in data.items()
            }
        if added > self.capacity:
            data = {k: v[-self.capacity :] for k, v in data.items()}
        n = len(data["rew"])
        idx = (self._next + np.arange(n)) % self.capacity
        for k, v in data.items():
            self._data[k][idx] = v
        self._next = (self._next + n) % self.capacity
        self._size = min(self._size + n, self.capacity)
        self._added += added
        return added

    def sample(self, num_items: int) -> dict[str, np.ndarray]:
        """``num_items`` transitions drawn uniformly with replacement, keyed by RLlib columns."""
        if self._data is None or self._size == 0:
            raise ValueError("cannot sample from an empty TransitionReplayBuffer")
        i = self._rng.integers(0, self._size, size=num_items)
        d = self._data
        return {
            SampleBatch.OBS: d["obs"][i],
            SampleBatch.ACTIONS: d["act"][i],
            SampleBatch.REWARDS: d["rew"][i],
            SampleBatch.NEXT_OBS: d["nobs"][i],
            SampleBatch.TERMINATEDS: d["term"][i],
        }

    def get_metrics(self) -> dict[str, Any]:
        return {"num_transitions": self._size, "num_transitions_added_lifetime": self._added}

    def get_state(self) -> dict[str, Any]:
        data = None if self._data is None else {k: v[: self._size] for k, v in self._data.items()}
        return {"data": data, "next": self._next, "size": self._size, "added": self._added}

    def set_state(self, state: dict[str, Any]) -> None:
        self._data, self._next, self._size = None, state["next"], state["size"]
        self._added = state["added"]
        if state["data"] is not None:
            self._data = {
                k: np.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype)
                for k, v in state["data"].items()
            }
            for k, v in state["data"].items():
                self._data[k][: len(v)] = v
