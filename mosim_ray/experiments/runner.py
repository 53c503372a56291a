"""Running an experiment's missing seeds, each into ``benchmarks/results/<name>/seed<N>.json``.

A seed builds its inputs (each a run kind, kept once built), then its run, under
``runs/experiments/<name>/seed<N>/``. Stopped at any time, the same command goes on: finished
seeds are skipped, built inputs are reused, and an unfinished run goes on from its last save
(``checkpoint_every``; a training's state at its last evaluation) or, with none, starts again; a
finished run whose seed file is missing is left as it is, with a message.
The seed file holds the provenance (git SHA and dirty flag, package versions, machine, command)
of each process that ran a part of it (``segments``), the inputs' hashes, the wall time, the curve
(real steps, starting data included, to real return), the final figures and, where the run kind
counts them, the run's seconds by activity (``seconds``: policy updates, model training, waiting,
collection, evaluation, summed over its segments). While a long seed
runs, ``benchmarks/results/<name>/partial/seed<N>.json`` holds its curve up to its last save
(each evaluation there is final: a resumed run goes on after it); the seed file replaces it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mosim_ray.config import to_dict
from mosim_ray.experiments.spec import Experiment
from mosim_ray.runs import get_kind
from mosim_ray.runs.provenance import folder_hash, provenance, write_json

RESULTS = Path("benchmarks/results")
WORK = Path("runs/experiments")


class Paused(Exception):
    """A run stopped at its first save that holds an evaluation at or past ``pause_at`` real
    steps (its partial file holds its curve; the same seed without ``pause_at`` goes on from
    that save)."""


class SeedBusy(Exception):
    """Another process is running the seed (two processes on one seed's folder would spoil it)."""


LOCK = ".lock"
"""in a seed's work folder: held (``flock``) by the process running the seed; the kernel lets
go of it when that process ends, however it ends"""
SEGMENTS = "segments.json"
"""in a seed's work folder: the provenance of each process that ran a part of the seed"""
PROGRESS = "progress.json"
"""in a run's save (``checkpoint/``): the curve up to that save, as the run kind's result"""


def seed_file(exp: Experiment, seed: int, results: Path = RESULTS, value: Any = None) -> Path:
    """``<results>/<name>/seed<N>.json``; a grid value's: ``<results>/<name>/<field>-<value>/``."""
    return results / exp.name / exp.point(value) / f"seed{seed}.json"


def partial_file(exp: Experiment, seed: int, results: Path = RESULTS, value: Any = None) -> Path:
    return results / exp.name / exp.point(value) / "partial" / f"seed{seed}.json"


def build_inputs(
    exp: Experiment,
    seed: int,
    folder: Path,
    progress: bool,
    results: Path = RESULTS,
    work: Path = WORK,
) -> dict[str, str]:
    """Each input of the seed built once (a finished one has its ``result.json``); an
    ``experiment`` input is that experiment's run of the seed, or of its pinned seed (run here
    if it has no seed file)."""
    built: dict[str, str] = {}
    for name, spec in exp.inputs.items():
        if spec.experiment is not None:
            other = spec.experiment_seed(seed)
            run = other_seed_run(exp, spec.experiment, other, results, work, progress)
            built[name] = str(run / spec.output) if spec.output else str(run)
            continue
        out = (folder / "inputs" / name).resolve()
        if not (out / "result.json").is_file():
            config = exp.input_config(name, seed, built)
            kind = get_kind(spec.kind)
            result = kind.run(config, out, progress=progress)
            result["provenance"] = provenance(f"experiment {exp.name} seed {seed} input {name}")
            write_json(result, out / "result.json")
        built[name] = str(out / spec.output) if spec.output else str(out)
    return built


def other_seed_run(
    exp: Experiment, name: str, seed: int, results: Path, work: Path, progress: bool
) -> Path:
    """The run folder of experiment ``name``'s ``seed`` (beside ``exp``'s file), run first when
    its seed file is missing."""
    from mosim_ray.experiments.spec import load_experiment

    other = load_experiment(Path(exp.folder) / f"{name}.yaml")  # checked on load: no grid
    if not seed_file(other, seed, results).is_file():
        run_seed(other, seed, results=results, work=work, progress=progress)
    run = (work / other.name / f"seed{seed}" / "run").resolve()
    if not (run / "result.json").is_file():
        raise FileNotFoundError(
            f"{name} seed {seed} has a seed file but its run is not on this machine ({run}); "
            f"remove {seed_file(other, seed, results)} to run the seed here"
        )
    return run


def run_seed(
    exp: Experiment,
    seed: int,
    *,
    results: Path = RESULTS,
    work: Path = WORK,
    progress: bool = False,
    command: str | None = None,
    changes: dict[str, Any] | None = None,
    pause_at: int | None = None,
) -> dict[str, Any]:
    """Build the seed's inputs, then run each of its missing runs (one, or one per grid value)
    and write its seed file; returns the last written file's content ({} if none).
    ``changes``: dotted settings laid over the run's (``{"threads": 1}`` for seeds side by side).
    ``pause_at``: stop each run at its first save that holds an evaluation at or past that many
    real steps (a run whose partial file holds one is not started), leaving its partial file,
    not a seed file."""
    folder = work / exp.name / f"seed{seed}"
    with seed_lock(folder, f"{exp.name} seed {seed}"):
        return _run_seed(exp, seed, folder, results, work, progress, command, changes, pause_at)


@contextmanager
def seed_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold the seed's folder for this process; ``SeedBusy`` if another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise SeedBusy(f"{what} is being run by another process (pid {holder})") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def lock_holder(folder: Path) -> str | None:
    """The pid of the process running the seed whose folder this is, now; None when none is."""
    path = folder / LOCK
    if not path.is_file():
        return None
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f.read().strip() or "unknown"
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def _run_seed(
    exp: Experiment,
    seed: int,
    folder: Path,
    results: Path,
    work: Path,
    progress: bool,
    command: str | None,
    changes: dict[str, Any] | None,
    pause_at: int | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    shared = work / exp.inputs_from / f"seed{seed}" if exp.inputs_from else folder
    inputs = build_inputs(exp, seed, shared, progress, results, work)
    data: dict[str, Any] = {}
    for value in exp.points:
        if seed_file(exp, seed, results, value).is_file() or paused(
            exp, seed, value, pause_at, results
        ):
            continue
        try:
            data = run_point(
                exp, seed, value, inputs, folder, results, progress, command, changes, pause_at
            )
        except Paused:
            continue
        data["wall_s"] = time.perf_counter() - started  # the inputs built here included
        write_json(data, seed_file(exp, seed, results, value))
        partial_file(exp, seed, results, value).unlink(missing_ok=True)
        started = time.perf_counter()
    return data


def paused(exp: Experiment, seed: int, value: Any, pause_at: int | None, results=RESULTS) -> bool:
    """Whether the run's partial file holds an evaluation at or past ``pause_at`` real steps."""
    path = partial_file(exp, seed, results, value)
    if pause_at is None or not path.is_file():
        return False
    return _reached(json.loads(path.read_text())["curve"], pause_at)


def _reached(curve: list[dict[str, float]], steps: int) -> bool:
    return bool(curve) and curve[-1]["real_steps"] >= steps


def run_point(
    exp: Experiment,
    seed: int,
    value: Any,
    inputs: dict[str, str],
    folder: Path,
    results: Path,
    progress: bool,
    command: str | None,
    changes: dict[str, Any] | None,
    pause_at: int | None = None,
) -> dict[str, Any]:
    """One run of a seed (at a grid ``value``) in the seed's ``folder``: the seed file's content
    but its wall time, which the caller adds and writes."""
    from mosim_ray.config import replace_dotted

    record = provenance(command)
    config = exp.config(seed, inputs, value)
    if changes:
        config = replace_dotted(config, changes)
    kind = get_kind(exp.kind)
    out = (folder / "run" / exp.point(value)).resolve()
    resumable = "resume" in to_dict(config) and (out / kind.save).exists()
    if resumable and (out / "result.json").is_file():  # never rerun a finished run's tail over it
        raise FileExistsError(
            f"{exp.name} seed {seed}: its run in {out} has finished, but "
            f"{seed_file(exp, seed, results, value)} is missing; copy that seed file from the "
            f"checkout that ran the seed, or remove {out} to run the seed again"
        )
    if resumable:  # a long seed goes on from its last save
        config = replace_dotted(config, {"resume": True})
    elif out.exists():  # a run stopped before its end, with no save, starts again
        shutil.rmtree(out)
    segments = _add_segment(folder / exp.point(value) / SEGMENTS, record, resumable, out)
    about = {
        "experiment": exp.name,
        "seed": seed,
        **({exp.grid.field: value} if exp.grid else {}),
        "kind": exp.kind,
        "provenance": record,
        "segments": segments,
        "inputs": {n: {"path": p, "sha256": folder_hash(Path(p))} for n, p in inputs.items()},
        "settings": to_dict(config),
    }

    def report_partial(_point: dict[str, Any]) -> None:
        path = partial_file(exp, seed, results, value)
        curve = write_partial(exp, seed, about, out / "checkpoint", path)
        if pause_at is not None and _reached(curve, pause_at):
            raise Paused(f"{exp.name} seed {seed}: paused, its save holds {curve[-1]}")

    extra = {"report": report_partial} if kind.curve_at_saves else {}
    result = kind.run(config, out, progress=progress, **extra)
    result["provenance"] = record
    write_json(result, out / "result.json")
    curve = kind.curve(result) if kind.curve else []
    data = {
        **about,
        "curve": curve,
        "final": curve[-1] if curve else {},
        "figures": kind.figures(result) if kind.figures else {},
        "result": str(out / "result.json"),
        **{k: result[k] for k in ("seconds", "eval_seed") if k in result},
    }
    return data


def _add_segment(path: Path, record: dict[str, Any], resumed: bool, out: Path) -> list[dict]:
    """The run's segments so far (in ``path``) with this process's appended: its provenance and
    the real steps its run goes on from (0 for a fresh start, None from a save that says not)."""
    before = json.loads(path.read_text())["segments"] if path.is_file() and resumed else []
    progress = out / "checkpoint" / PROGRESS
    start = (saved_real_steps(progress) if progress.is_file() else None) if resumed else 0
    segments = [*before, {"from_real_steps": start, "provenance": record}]
    write_json({"segments": segments}, path)
    return segments


def saved_real_steps(progress: Path) -> int:
    """Real steps behind the run at a save (a schedule's starting data included)."""
    saved = json.loads(progress.read_text())
    return int(saved.get("trainer_real_steps", saved.get("env_steps", 0)))


def write_partial(
    exp: Experiment, seed: int, about: dict[str, Any], save: Path, path: Path
) -> list[dict[str, float]]:
    """The seed's partial file at ``path`` from its run's last save (nothing before the first);
    returns the curve it holds."""
    progress = save / PROGRESS
    if not progress.is_file():
        return []
    summary = json.loads(progress.read_text())
    curve = get_kind(exp.kind).curve(summary)
    saved = saved_real_steps(progress)
    spent = {k: summary[k] for k in ("seconds", "saved_at", "eval_seed") if k in summary}
    write_json(
        {**about, "complete": False, "saved_real_steps": saved, "curve": curve, **spent}, path
    )
    return curve


def missing_seeds(exp: Experiment, seeds: list[int], results: Path = RESULTS) -> list[int]:
    """The seeds with a run (any grid value's) still to make."""
    return [
        s for s in seeds if not all(seed_file(exp, s, results, v).is_file() for v in exp.points)
    ]


def load_seed_files(
    name: str, results: Path = RESULTS, partial: bool = False, point: str = ""
) -> list[dict[str, Any]]:
    """Every finished seed of an experiment (of a grid ``point``: ``time_limit-30``), by seed;
    with ``partial``, also each unfinished seed's partial file (``"complete": False``, its curve
    up to its last save)."""

    def by_seed(folder: Path) -> dict[int, Path]:
        return {int(p.stem[4:]): p for p in folder.glob("seed*.json")}

    files = by_seed(results / name / point)
    if partial:
        files = {**by_seed(results / name / point / "partial"), **files}
    return [json.loads(files[s].read_text()) for s in sorted(files)]
