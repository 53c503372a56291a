"""Small pieces the RL entry scripts share: starting Ray, writing results."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def start_ray(address: str | None) -> None:
    """Join ``address`` or start an embedded local Ray with every core of this machine."""
    import ray

    ray.init(
        # "local": start one even where an older cluster left its address file behind
        address=address or "local",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        num_cpus=None if address else os.cpu_count(),
    )


def write_result(result: dict[str, Any], out: Path, extra: str | None = None) -> None:
    """``<out>/result.json``, and a copy at ``extra`` (e.g. benchmarks/results/<name>.json)."""
    for path in [out / "result.json", *([Path(extra)] if extra else [])]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1))
