"""Where a result came from: the command, the code version, the packages and the machine.

Every result file the project writes carries ``provenance()`` under the key ``provenance``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("torch", "ray", "mujoco", "dm_control", "gymnasium", "numpy")


RESULT_FILES = "benchmarks/results/"
"""where runs write their result files: other runs' files changing there leave the code clean"""


def git_state(root: Path = ROOT) -> dict[str, Any]:
    """{"sha": HEAD, "dirty": uncommitted changes to tracked files, "dirty_code": to tracked
    files other than results (runs going on beside this one write theirs), "dirty_paths": the
    first 20 changed}; None values outside git."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    if status is None:
        return {"sha": sha, "dirty": None, "dirty_code": None, "dirty_paths": None}
    paths = [line.split(None, 1)[1] for line in status.splitlines() if line.strip()]
    return {
        "sha": sha,
        "dirty": bool(paths),
        "dirty_code": any(not p.startswith(RESULT_FILES) for p in paths),
        "dirty_paths": paths[:20],
    }


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.machine()}",
        "processor": _cpu_name(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def provenance(command: str | None = None) -> dict[str, Any]:
    """The record every result carries (``command`` default: this process's own)."""
    return {
        "command": command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git": git_state(),
        "versions": versions(),
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_json(data: dict[str, Any], *paths: str | Path) -> None:
    """``data`` as indented JSON at each path (folders made; written whole, then renamed)."""
    text = json.dumps(data, indent=1, default=str)
    for path in paths:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)


def folder_hash(path: Path) -> str:
    """sha256 over the relative paths and bytes of every file under ``path`` (or of the file)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if f.name.startswith(".") or f.name == "result.json":
            continue
        digest.update(str(f.relative_to(path.parent if path.is_file() else path)).encode())
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()
