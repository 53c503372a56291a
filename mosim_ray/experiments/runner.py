"""Running an experiment's missing seeds, each into ``benchmarks/results/<name>/seed<N>.json``.

A seed builds its inputs (each a run kind, kept once built), then its run, under
``runs/experiments/<name>/seed<N>/``. Stopped at any time, the same command goes on: finished
seeds are skipped, built inputs are reused, and an unfinished run goes on from its last save
(``checkpoint_every``) or, with none, starts again.
The seed file holds the provenance (git SHA and dirty flag, package versions, machine, command),
the inputs' hashes, the wall time, the curve (real steps, starting data included, to real
return) and the final figures.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from mosim_ray.config import to_dict
from mosim_ray.experiments.spec import Experiment
from mosim_ray.runs import get_kind
from mosim_ray.runs.provenance import provenance, write_json

RESULTS = Path("benchmarks/results")
WORK = Path("runs/experiments")


def seed_file(exp: Experiment, seed: int, results: Path = RESULTS) -> Path:
    return results / exp.name / f"seed{seed}.json"


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


def build_inputs(exp: Experiment, seed: int, folder: Path, progress: bool) -> dict[str, str]:
    """Each input of the seed built once (a finished one has its ``result.json``)."""
    built: dict[str, str] = {}
    for name, spec in exp.inputs.items():
        out = (folder / "inputs" / name).resolve()
        if not (out / "result.json").is_file():
            config = exp.input_config(name, seed, built)
            kind = get_kind(spec.kind)
            result = kind.run(config, out, progress=progress)
            result["provenance"] = provenance(f"experiment {exp.name} seed {seed} input {name}")
            write_json(result, out / "result.json")
        built[name] = str(out / spec.output) if spec.output else str(out)
    return built


def run_seed(
    exp: Experiment,
    seed: int,
    *,
    results: Path = RESULTS,
    work: Path = WORK,
    progress: bool = False,
    command: str | None = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the seed's inputs, run it, write its seed file; returns the file's content.
    ``changes``: dotted settings laid over the run's (``{"threads": 1}`` for seeds side by side)."""
    from mosim_ray.config import replace_dotted

    started = time.perf_counter()
    record = provenance(command)
    folder = work / exp.name / f"seed{seed}"
    inputs = build_inputs(exp, seed, folder, progress)
    config = exp.config(seed, inputs)
    if changes:
        config = replace_dotted(config, changes)
    kind = get_kind(exp.kind)
    out = (folder / "run").resolve()
    resumable = "resume" in to_dict(config) and (out / "checkpoint").is_dir()
    if resumable:  # a long seed goes on from its last save
        config = replace_dotted(config, {"resume": True})
    elif out.exists():  # a run stopped before its end, with no save, starts again
        shutil.rmtree(out)
    result = kind.run(config, out, progress=progress)
    result["provenance"] = record
    write_json(result, out / "result.json")
    curve = kind.curve(result) if kind.curve else []
    final = curve[-1] if curve else {}
    data = {
        "experiment": exp.name,
        "seed": seed,
        "kind": exp.kind,
        "provenance": record,
        "inputs": {n: {"path": p, "sha256": folder_hash(Path(p))} for n, p in inputs.items()},
        "settings": to_dict(config),
        "wall_s": time.perf_counter() - started,
        "curve": curve,
        "final": final,
        "figures": kind.figures(result) if kind.figures else {},
        "result": str(out / "result.json"),
    }
    write_json(data, seed_file(exp, seed, results))
    return data


def missing_seeds(exp: Experiment, seeds: list[int], results: Path = RESULTS) -> list[int]:
    return [s for s in seeds if not seed_file(exp, s, results).is_file()]


def load_seed_files(name: str, results: Path = RESULTS) -> list[dict[str, Any]]:
    """Every finished seed of an experiment, by seed."""
    files = sorted((results / name).glob("seed*.json"), key=lambda p: int(p.stem[4:]))
    return [json.loads(f.read_text()) for f in files]
