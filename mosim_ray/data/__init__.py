"""Real rollout data: action processes, Parquet shards, reader and segment sampler (no Ray).

Names load on first use, so ``mosim_ray.data.processes`` costs no torch or pyarrow import.
"""

from importlib import import_module

_WHERE = {
    "MixedShardsError": "mosim_ray.data.errors",
    "ShardError": "mosim_ray.data.errors",
    "ProcessConfig": "mosim_ray.data.processes",
    "make_process": "mosim_ray.data.processes",
    "Episode": "mosim_ray.data.reader",
    "RolloutDataset": "mosim_ray.data.reader",
    "SegmentSampler": "mosim_ray.data.reader",
    "EpisodeCollector": "mosim_ray.data.rollout",
    "run_episode": "mosim_ray.data.rollout",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'mosim_ray.data' has no attribute {name!r}")
