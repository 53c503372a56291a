"""Parquet shards of real rollouts: schema, metadata and the atomic writer.

One row per time step. An episode of T control steps has T+1 rows, ``step = 0..T``: row t holds the
state s_t (``qpos``, ``qvel``), its observation o_t and context, the action a_t applied at s_t, and the
reward r_t received for it. The last row (``last = True``) has no action: its action is zeros and its
reward 0, and readers never use them. All vector columns are fixed-size float32 lists.
"""

from __future__ import annotations

import json
import os
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mosim_ray.data.errors import ShardError
from mosim_ray.tasks.spec import TaskSpec

FORMAT_VERSION = 1
METADATA_KEY = b"mosim_ray"
SHARD_GLOB = "shard-*.parquet"
# Measured on cheetah (100 episodes x 1000 steps): 14.0 MB vs 19.0 MB for the defaults, and both
# faster to write and read; exact.
_WRITE_OPTIONS = dict(compression="zstd", use_dictionary=False)


def _float_leaf_columns(schema: pa.Schema) -> list[str]:
    """Parquet leaf paths of float columns (byte-stream-split suits only those)."""
    leaves = []
    for f in schema:
        if pa.types.is_floating(f.type):
            leaves.append(f.name)
        elif pa.types.is_fixed_size_list(f.type) and pa.types.is_floating(f.type.value_type):
            leaves.append(f"{f.name}.list.element")
    return leaves


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


def vector_columns(spec: TaskSpec) -> dict[str, int]:
    """Name -> width of each fixed-size list column for this task."""
    return _columns(spec.nq, spec.nv, spec.nu, spec.obs_dim, spec.context_dim)


def metadata_columns(meta: dict[str, Any]) -> dict[str, int]:
    """``vector_columns`` from a shard's metadata alone (as ``shard_metadata`` writes it)."""
    nq, nv = int(meta["nq"]), int(meta["nv"])
    obs_dim = sum(int(n) for _, n in meta["obs_keys"]) or nq + nv  # no obs keys: obs is the state
    return _columns(nq, nv, int(meta["nu"]), obs_dim, int(meta["context_dim"]))


def _columns(nq: int, nv: int, nu: int, obs_dim: int, context_dim: int) -> dict[str, int]:
    cols = {"qpos": nq, "qvel": nv, "action": nu, "observation": obs_dim}
    if context_dim:
        cols["context"] = context_dim
    return cols


def make_schema(spec: TaskSpec) -> pa.Schema:
    return schema_of(vector_columns(spec))


def schema_of(columns: dict[str, int]) -> pa.Schema:
    """The shard schema with these fixed-size list columns (name -> width)."""
    fields = [pa.field("episode", pa.int64()), pa.field("step", pa.int32())]
    fields += [pa.field(k, pa.list_(pa.float32(), n)) for k, n in columns.items()]
    fields += [pa.field("reward", pa.float32()), pa.field("last", pa.bool_())]
    return pa.schema(fields)


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("mosim_ray", "mujoco", "dm_control", "numpy", "pyarrow"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def shard_metadata(spec: TaskSpec, **extra: Any) -> dict[str, Any]:
    """The JSON metadata every shard carries: task facts plus how the data was made."""
    return {
        "format_version": FORMAT_VERSION,
        "task": spec.name,
        "control_dt": spec.control_dt,
        "nq": spec.nq,
        "nv": spec.nv,
        "nu": spec.nu,
        "obs_keys": [list(k) for k in spec.obs_keys],
        "context_dim": spec.context_dim,
        "versions": package_versions(),
        **extra,
    }


def episodes_to_table(spec: TaskSpec, episodes: list[dict[str, np.ndarray]]) -> pa.Table:
    """Stack episodes (dicts of per-step arrays as ``run_episode`` returns) into one table."""
    schema = make_schema(spec)
    columns: dict[str, pa.Array] = {}
    cat = {k: np.concatenate([ep[k] for ep in episodes]) for k in episodes[0]}
    columns["episode"] = pa.array(cat["episode"], pa.int64())
    columns["step"] = pa.array(cat["step"], pa.int32())
    for name, width in vector_columns(spec).items():
        flat = np.ascontiguousarray(cat[name], dtype=np.float32).reshape(-1)
        columns[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), width)
    columns["reward"] = pa.array(cat["reward"].astype(np.float32), pa.float32())
    columns["last"] = pa.array(cat["last"], pa.bool_())
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def write_shard(path: str | Path, table: pa.Table, meta: dict[str, Any]) -> Path:
    """Write ``table`` with ``meta`` to ``path`` atomically.

    The bytes go to a hidden temporary file in the same folder, are flushed to disk, and only then
    renamed: readers (which ignore hidden files) never see a half-written shard, even after a crash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta, sort_keys=True).encode()})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(
            table, tmp, use_byte_stream_split=_float_leaf_columns(table.schema), **_WRITE_OPTIONS
        )
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_shard_metadata(path: str | Path) -> dict[str, Any]:
    """The shard's JSON metadata; raises ``ShardError`` naming the file on any problem."""
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except Exception as e:  # pyarrow raises several types for truncated / garbage files
        raise ShardError(f"{path}: not a readable Parquet shard ({type(e).__name__}: {e})") from e
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ShardError(f"{path}: Parquet file without mosim_ray metadata (not a rollout shard)")
    meta = json.loads(raw)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ShardError(
            f"{path}: shard format version {meta.get('format_version')}, this reader reads {FORMAT_VERSION}"
        )
    return meta
