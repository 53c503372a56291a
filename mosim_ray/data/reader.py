"""Read a folder of rollout shards: validation, split by episode, and segment sampling.

Shapes: ``D = nq + nv`` (state), ``U = nu`` (action), ``H`` the horizon, ``W`` the warm-up steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch

from mosim_ray.data.errors import MixedShardsError, ShardError
from mosim_ray.data.shards import SHARD_GLOB, metadata_columns, read_shard_metadata, schema_of

__all__ = ["Episode", "MixedShardsError", "RolloutDataset", "SegmentSampler", "ShardError"]

# Metadata fields that must agree between shards of one dataset.
_MUST_MATCH = ("task", "nq", "nv", "nu", "control_dt", "context_dim")


@dataclass
class Episode:
    """One real episode of T steps: states [T+1, D], actions [T, U], rewards [T], obs [T+1, O]."""

    id: int
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    observations: np.ndarray
    contexts: np.ndarray

    @property
    def length(self) -> int:
        return len(self.actions)


@dataclass
class RolloutDataset:
    """Episodes of one task, read from shards."""

    task: str
    meta: dict[str, Any]
    episodes: list[Episode]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(file, reason) of shards left out with ``skip_bad=True``."""

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, skip_bad: bool = False) -> RolloutDataset:
        """Read every ``shard-*.parquet`` under ``path`` (a folder or one file).

        A corrupt or truncated shard raises ``ShardError`` naming it, or with ``skip_bad=True`` is
        left out with a warning (listed in ``skipped``). Shards of different tasks or schemas never
        mix: that always raises.
        """
        path = Path(path)
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(path.glob(SHARD_GLOB))
        else:
            raise FileNotFoundError(f"no such dataset folder or shard: {path}")
        if not files:
            raise ShardError(f"{path}: no shards ({SHARD_GLOB}) found")
        episodes: dict[int, Episode] = {}
        skipped: list[tuple[str, str]] = []
        first: tuple[Path, dict] | None = None
        for f in files:
            try:
                meta = read_shard_metadata(f)
                if first is not None:
                    _check_same_dataset(first, (f, meta))
                new = _read_episodes(f, meta)
            except ShardError as e:
                if not skip_bad or isinstance(e, MixedShardsError):
                    raise
                warnings.warn(f"skipping bad shard: {e}", stacklevel=2)
                skipped.append((str(f), str(e)))
                continue
            first = first or (f, meta)
            for ep in new:
                if ep.id in episodes:
                    raise ShardError(
                        f"{f}: episode {ep.id} appears twice (in this or another shard)"
                    )
                episodes[ep.id] = ep
        if first is None:
            raise ShardError(f"{path}: no readable shard among {len(files)}")
        return cls(first[1]["task"], first[1], [episodes[k] for k in sorted(episodes)], skipped)

    # --- views -----------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return sum(ep.length for ep in self.episodes)

    def subset(self, ids: list[int] | np.ndarray) -> RolloutDataset:
        keep = set(int(i) for i in ids)
        return RolloutDataset(self.task, self.meta, [e for e in self.episodes if e.id in keep])

    def split(
        self, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> tuple[RolloutDataset, RolloutDataset, RolloutDataset]:
        """Train / validation / test by whole episodes (a seeded shuffle of episode ids).

        Each part gets at least one episode when there are at least three.
        """
        if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
            raise ValueError(
                f"fractions must be three non-negative numbers summing to 1, got {fractions}"
            )
        ids = np.array([e.id for e in self.episodes])
        ids = ids[np.random.default_rng(seed).permutation(len(ids))]
        n = len(ids)
        n_val = int(round(fractions[1] * n))
        n_test = int(round(fractions[2] * n))
        if n >= 3:
            n_val = max(n_val, 1) if fractions[1] > 0 else 0
            n_test = max(n_test, 1) if fractions[2] > 0 else 0
        n_val = min(n_val, n)
        n_test = min(n_test, n - n_val)
        n_train = n - n_val - n_test
        parts = ids[:n_train], ids[n_train : n_train + n_val], ids[n_train + n_val :]
        return tuple(self.subset(p) for p in parts)  # type: ignore[return-value]

    def with_state_noise(self, share: float, seed: int = 0) -> RolloutDataset:
        """A copy whose states carry Gaussian observation noise of ``share`` times each state
        dimension's standard deviation over the dataset (fresh noise per step, actions clean):
        what a sensor-noisy recording of the same motion looks like."""
        if not share >= 0:
            raise ValueError(f"noise share must be >= 0, got {share}")
        if share == 0:
            return self
        rng = np.random.default_rng(seed)
        std = self.states().std(axis=0) * share
        noisy = [
            replace(
                ep,
                states=(ep.states + rng.normal(size=ep.states.shape) * std).astype(ep.states.dtype),
            )
            for ep in self.episodes
        ]
        return RolloutDataset(self.task, self.meta, noisy, self.skipped)

    def states(self) -> np.ndarray:
        """All states [N, D] (float32), e.g. for normalization statistics."""
        return np.concatenate([ep.states for ep in self.episodes])

    def segments(self, horizon: int, warmup: int = 0) -> SegmentSampler:
        return SegmentSampler(self, horizon, warmup)


class SegmentSampler:
    """Samples segments of ``warmup + horizon`` actions and the ``warmup + horizon + 1`` states
    around them from whole episodes (never across an episode boundary)."""

    def __init__(self, data: RolloutDataset, horizon: int, warmup: int = 0):
        if horizon < 1 or warmup < 0:
            raise ValueError(f"need horizon >= 1 and warmup >= 0, got {horizon}, {warmup}")
        self.horizon, self.warmup = horizon, warmup
        span = horizon + warmup
        eps = [e for e in data.episodes if e.length >= span]
        if not eps:
            longest = max((e.length for e in data.episodes), default=0)
            raise ValueError(
                f"no episode is long enough for segments of {span} steps (longest has {longest})"
            )
        self._states = np.concatenate([e.states for e in eps])
        self._actions = np.concatenate(
            [np.vstack([e.actions, np.zeros_like(e.actions[:1])]) for e in eps]
        )
        offsets = np.cumsum([0] + [e.length + 1 for e in eps])
        self.starts = np.concatenate(
            [off + np.arange(e.length - span + 1) for off, e in zip(offsets, eps, strict=False)]
        )

    def __len__(self) -> int:
        return len(self.starts)

    def get(self, starts: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """states [B, W+H+1, D] and actions [B, W+H, U] (float32) for segment start rows."""
        span = self.horizon + self.warmup
        rows = np.asarray(starts)[:, None] + np.arange(span + 1)
        states = torch.from_numpy(self._states[rows])
        actions = torch.from_numpy(self._actions[rows[:, :-1]])
        return states, actions

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A uniform random batch of segments (with replacement)."""
        return self.get(self.starts[rng.integers(0, len(self.starts), size=batch)])


def _check_same_dataset(first: tuple[Path, dict], other: tuple[Path, dict]) -> None:
    (f0, m0), (f1, m1) = first, other
    for key in _MUST_MATCH:
        if m0.get(key) != m1.get(key):
            raise MixedShardsError(
                f"shards of different datasets in one folder: {f0.name} has {key}={m0.get(key)!r} "
                f"but {f1.name} has {key}={m1.get(key)!r}; keep one task per folder"
            )


def _read_episodes(path: Path, meta: dict) -> list[Episode]:
    # the shard's own metadata gives the column widths: reading data needs no MuJoCo
    try:
        widths = metadata_columns(meta)
    except (KeyError, TypeError, ValueError) as e:
        raise ShardError(f"{path}: shard metadata without valid dimensions ({e!r})") from e
    expected = schema_of(widths)
    try:
        table = pq.read_table(path)
    except Exception as e:
        raise ShardError(f"{path}: cannot read data ({type(e).__name__}: {e})") from e
    if not table.schema.remove_metadata().equals(expected):
        raise ShardError(
            f"{path}: schema differs from a {meta['task']} shard:\n{table.schema}\nexpected:\n{expected}"
        )

    def col(name: str, width: int) -> np.ndarray:
        flat = table.column(name).combine_chunks().flatten().to_numpy()
        return flat.reshape(-1, width)

    if table.num_rows == 0:
        raise ShardError(f"{path}: shard has no rows")
    ep_ids = table.column("episode").to_numpy()
    steps = table.column("step").to_numpy()
    states = np.hstack([col("qpos", widths["qpos"]), col("qvel", widths["qvel"])])
    actions = col("action", widths["action"])
    obs = col("observation", widths["observation"])
    ctx = (
        col("context", widths["context"])
        if "context" in widths
        else np.zeros((len(ep_ids), 0), np.float32)
    )
    rewards = table.column("reward").to_numpy()
    bounds = np.flatnonzero(np.diff(ep_ids)) + 1
    out = []
    for rows in np.split(np.arange(len(ep_ids)), bounds):
        if not np.array_equal(steps[rows], np.arange(len(rows))):
            raise ShardError(f"{path}: episode {ep_ids[rows[0]]} has missing or unordered steps")
        out.append(
            Episode(
                int(ep_ids[rows[0]]),
                states[rows],
                actions[rows[:-1]],
                rewards[rows[:-1]],
                obs[rows],
                ctx[rows],
            )
        )
    return out
