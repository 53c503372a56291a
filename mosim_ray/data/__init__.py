"""Real rollout data: action processes, Parquet shards, reader and segment sampler (no Ray)."""

from mosim_ray.data.errors import MixedShardsError, ShardError
from mosim_ray.data.processes import ProcessConfig, make_process
from mosim_ray.data.reader import Episode, RolloutDataset, SegmentSampler
from mosim_ray.data.rollout import EpisodeCollector, run_episode

__all__ = [
    "Episode",
    "EpisodeCollector",
    "MixedShardsError",
    "ProcessConfig",
    "RolloutDataset",
    "SegmentSampler",
    "ShardError",
    "make_process",
    "run_episode",
]
