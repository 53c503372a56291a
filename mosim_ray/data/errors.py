"""Errors of reading rollout shards (``shards`` and ``reader`` both raise them)."""


class ShardError(RuntimeError):
    """A shard (or a set of shards) that cannot be read as one dataset; the message names the file."""


class MixedShardsError(ShardError):
    """Shards of different tasks or schemas in one folder: never skipped."""
