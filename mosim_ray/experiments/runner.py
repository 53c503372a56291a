"""Running an experiment's missing seeds, each into ``benchmarks/results/<name>/seed<N>.json``.

A seed builds its inputs (each a run kind, kept once built), then its run, under
``runs/experiments/<name>/seed<N>/``. Stopped at any time, the same command goes on: finished
seeds are skipped, built inputs are reused, and an unfinished run goes on from its last save
(``checkpoint_every``) or, with none, starts again.
The seed file holds the provenance (git SHA and dirty flag, package versions, machine, command)
of each process that ran a part of it (``segments``), the inputs' hashes, the wall time, the curve
(real steps, starting data included, to real return) and the final figures. While a long seed
runs, ``benchmarks/results/<name>/partial/seed<N>.json`` holds its curve up to its last save
(each evaluation there is final: a resumed run goes on after it); the seed file replaces it.
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


SEGMENTS = "segments.json"
"""in a seed's work folder: the provenance of each process that ran a part of the seed"""
PROGRESS = "progress.json"
"""in a run's save (``checkpoint/``): the curve up to that save, as the run kind's result"""


def seed_file(exp: Experiment, seed: int, results: Path = RESULTS) -> Path:
    return results / exp.name / f"seed{seed}.json"


def partial_file(exp: Experiment, seed: int, results: Path = RESULTS) -> Path:
    return results / exp.name / "partial" / f"seed{seed}.json"


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
    segments = _add_segment(folder, record, out if resumable else None)
    about = {
        "experiment": exp.name,
        "seed": seed,
        "kind": exp.kind,
        "provenance": record,
        "segments": segments,
        "inputs": {n: {"path": p, "sha256": folder_hash(Path(p))} for n, p in inputs.items()},
        "settings": to_dict(config),
    }

    def report_partial(_point: dict[str, Any]) -> None:
        write_partial(exp, seed, about, out / "checkpoint", results)

    extra = {"report": report_partial} if kind.curve_at_saves else {}
    result = kind.run(config, out, progress=progress, **extra)
    result["provenance"] = record
    write_json(result, out / "result.json")
    curve = kind.curve(result) if kind.curve else []
    data = {
        **about,
        "wall_s": time.perf_counter() - started,
        "curve": curve,
        "final": curve[-1] if curve else {},
        "figures": kind.figures(result) if kind.figures else {},
        "result": str(out / "result.json"),
    }
    write_json(data, seed_file(exp, seed, results))
    partial_file(exp, seed, results).unlink(missing_ok=True)
    return data


def _add_segment(folder: Path, record: dict[str, Any], resumed: Path | None) -> list[dict]:
    """The seed's segments so far with this process's appended: its provenance and the real
    steps its run goes on from (0 for a fresh start, None from a save that does not say)."""
    path = folder / SEGMENTS
    before = json.loads(path.read_text())["segments"] if path.is_file() and resumed else []
    progress = resumed / "checkpoint" / PROGRESS if resumed is not None else None
    start = 0 if progress is None else _saved_steps(progress) if progress.is_file() else None
    segments = [*before, {"from_real_steps": start, "provenance": record}]
    write_json({"segments": segments}, path)
    return segments


def _saved_steps(progress: Path) -> int:
    """Real steps behind the run at a save (a schedule's starting data included)."""
    saved = json.loads(progress.read_text())
    return int(saved.get("trainer_real_steps", saved.get("env_steps", 0)))


def write_partial(
    exp: Experiment, seed: int, about: dict[str, Any], save: Path, results: Path = RESULTS
) -> None:
    """The seed's partial file from its run's last save (nothing before the first save)."""
    progress = save / PROGRESS
    if not progress.is_file():
        return
    curve = get_kind(exp.kind).curve(json.loads(progress.read_text()))
    data = {**about, "complete": False, "saved_real_steps": _saved_steps(progress), "curve": curve}
    write_json(data, partial_file(exp, seed, results))


def missing_seeds(exp: Experiment, seeds: list[int], results: Path = RESULTS) -> list[int]:
    return [s for s in seeds if not seed_file(exp, s, results).is_file()]


def load_seed_files(
    name: str, results: Path = RESULTS, partial: bool = False
) -> list[dict[str, Any]]:
    """Every finished seed of an experiment, by seed; with ``partial``, also each unfinished
    seed's partial file (``"complete": False``, its curve up to its last save)."""

    def by_seed(folder: Path) -> dict[int, Path]:
        return {int(p.stem[4:]): p for p in folder.glob("seed*.json")}

    files = by_seed(results / name)
    if partial:
        files = {**by_seed(results / name / "partial"), **files}
    return [json.loads(files[s].read_text()) for s in sorted(files)]
