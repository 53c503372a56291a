"""Upgrade format-1 checkpoints to the current format in place: ``config.json`` gains the task's
``TaskSpec`` (read from MuJoCo, so run this where MuJoCo is installed); ``weights.pt`` is not
touched (same bytes, same sha256).

    python -m mosim_ray.model.upgrade_checkpoint mosim_ray/pretrained/*/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mosim_ray.model.world_model import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    WorldModel,
    write_config,
)


def upgrade_checkpoint(path: str | Path) -> bool:
    """Upgrade the checkpoint folder ``path``; False if it already is of the current format.

    The format-1 checkpoint is loaded first (checksum, dims and weights checked against MuJoCo's
    spec), and the upgraded one must load to the same spec and predict the same, bit for bit.
    """
    path = Path(path)
    cfg = json.loads((path / "config.json").read_text())
    fmt = cfg.get("format_version")
    if fmt == CHECKPOINT_FORMAT:
        return False
    if fmt != 1:
        raise CheckpointError(f"{path}: checkpoint format {fmt!r}; this upgrades format 1 only")
    old = WorldModel.load(path)
    items = list(cfg.items())
    at = [k for k, _ in items].index("control_dt") + 1  # where WorldModel.save puts the spec
    new_cfg = dict(items[:at] + [("spec", old.spec.to_json())] + items[at:])
    new_cfg["format_version"] = CHECKPOINT_FORMAT
    write_config(path, new_cfg)
    new = WorldModel.load(path)
    if new.spec != old.spec or not _same_predictions(old, new):
        write_config(path, cfg)
        raise CheckpointError(f"{path}: upgraded checkpoint differs from the original; restored it")
    return True


def _same_predictions(a: WorldModel, b: WorldModel) -> bool:
    rng = np.random.default_rng(0)
    low, high = a.spec.action_bounds
    state = rng.normal(0.0, 0.1, (8, a.spec.state_dim)).astype(np.float32)
    actions = rng.uniform(np.maximum(low, -1.0), np.minimum(high, 1.0), (8, 5, a.spec.nu))
    actions = actions.astype(np.float32)
    return bool(np.array_equal(a.rollout(state, actions), b.rollout(state, actions)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", type=Path, help="checkpoint folders (with config.json)")
    args = p.parse_args(argv)
    for path in args.paths:
        done = upgrade_checkpoint(path)
        print(f"{path}: {'upgraded to' if done else 'already'} format {CHECKPOINT_FORMAT}")


if __name__ == "__main__":
    main()
