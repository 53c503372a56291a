"""What an experiment has left, seed by seed, before running anything.

    python benchmarks/run.py mosim_on_policy_cheetah-run --status

Per seed (and grid value): finished (its last evaluation and wall time), on its way (the real
steps of its last save, and whether its run is on this machine to go on from: a partial file
whose run is elsewhere is replaced when the seed runs here, from the start), or not started;
whether a process is running it now; then what the finished seeds took, the figure to plan the
rest by.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from mosim_ray.experiments.runner import (
    PROGRESS,
    RESULTS,
    WORK,
    lock_holder,
    partial_file,
    saved_real_steps,
    seed_file,
)
from mosim_ray.experiments.spec import Experiment
from mosim_ray.runs import get_kind
from mosim_ray.sac.critic_range import q_note

FINISHED, ON_ITS_WAY, NOT_STARTED = "finished", "on its way", "not started"


@dataclass(frozen=True)
class SeedState:
    seed: int
    point: str
    """the grid value's folder (``time_limit-30``), "" without a grid"""
    state: str
    """finished, on its way or not started"""
    real_steps: int | None = None
    """the last evaluation's real steps (finished) or the last save's (on its way)"""
    return_mean: float | None = None
    """the last evaluation's real return, if the run kind has one"""
    wall_minutes: float | None = None
    """a finished seed's wall time, its inputs' building included (None when it ran in several
    processes: its file holds the last one's only)"""
    segments: int = 0
    """how many processes ran a part of it"""
    run_here: bool = False
    """its run's save is on this machine, so running the seed goes on from there"""
    run_here_steps: int | None = None
    """the real steps of the save on this machine, where it records them: a run here that is
    not the partial file's (another start of the seed) saved at other steps"""
    q_mean: float | None = None
    """the critic's mean Q at the last evaluation, where the run records it"""
    q_bounds: tuple[float, float] | None = None
    """the discounted returns the task's rewards allow, where the run records them"""
    running: str | None = None
    """the pid of the process running the seed now (it holds the seed's lock), else None"""
    saved_at: str | None = None
    """when its last save was written (UTC, ISO 8601), where the run records it"""


def seed_states(
    exp: Experiment, seeds: list[int], results: Path = RESULTS, work: Path = WORK
) -> list[SeedState]:
    """Each (seed, grid value)'s state, by seed then value."""
    save = get_kind(exp.kind).save
    states = []
    for seed in seeds:
        running = lock_holder(work / exp.name / f"seed{seed}")
        for value in exp.points:
            point = exp.point(value)
            run = work / exp.name / f"seed{seed}" / "run" / point
            here = (run / save).exists()
            progress = run / save / PROGRESS
            here_steps = saved_real_steps(progress) if progress.is_file() else None
            done, partial = (
                seed_file(exp, seed, results, value),
                partial_file(exp, seed, results, value),
            )
            if done.is_file():
                data = json.loads(done.read_text())
                last = (data.get("curve") or [{}])[-1]
                wall, segments = data.get("wall_s"), len(data.get("segments", []))
                states.append(
                    SeedState(
                        seed,
                        point,
                        FINISHED,
                        last.get("real_steps"),
                        last.get("return_mean"),
                        None if wall is None or segments > 1 else wall / 60,
                        segments,
                    )
                )
            elif partial.is_file():
                data = json.loads(partial.read_text())
                last = (data.get("curve") or [{}])[-1]
                steps = data.get("saved_real_steps", last.get("real_steps"))
                states.append(
                    SeedState(
                        seed,
                        point,
                        ON_ITS_WAY,
                        steps,
                        last.get("return_mean"),
                        run_here=here,
                        run_here_steps=here_steps,
                        q_mean=last.get("q_mean"),
                        q_bounds=tuple(last["q_bounds"]) if "q_bounds" in last else None,
                        running=running,
                        saved_at=data.get("saved_at"),
                    )
                )
            else:  # a kind without partial files (a model's training) may still have saved
                state = ON_ITS_WAY if here else NOT_STARTED
                states.append(SeedState(seed, point, state, run_here=here, running=running))
    return states


def status_lines(exp: Experiment, states: list[SeedState]) -> list[str]:
    """The experiment's state for a person: a summary line, a line per seed, what seeds took."""
    counts = {s: sum(x.state == s for x in states) for s in (FINISHED, ON_ITS_WAY, NOT_STARTED)}
    runs = "runs" if exp.grid else "seeds"
    running = sum(x.running is not None for x in states)
    lines = [
        f"{exp.name} ({exp.kind}): "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f" ({runs})"
        + (f"; {running} running now" if running else "")
    ]
    for x in states:
        where = f"seed {x.seed}" + (f", {x.point}" if x.point else "")
        lines.append(f"  {where}: {_describe(x)}")
    minutes = [x.wall_minutes for x in states if x.wall_minutes is not None]
    if minutes:
        lines.append(
            f"  finished {runs} took {min(minutes):.0f}-{max(minutes):.0f} min "
            f"(median {statistics.median(minutes):.0f}) each, inputs included"
        )
    return lines


def _describe(x: SeedState) -> str:
    figure = "" if x.return_mean is None else f", return {x.return_mean:.1f}"
    if x.q_mean is not None:
        figure += f" ({q_note(x.q_mean, x.q_bounds)})"
    steps = "" if x.real_steps is None else f" {x.real_steps:,} real steps"
    if x.state == FINISHED:
        took = (
            f" ({x.wall_minutes:.0f} min)"
            if x.wall_minutes is not None
            else f" (in {x.segments} parts)"
            if x.segments > 1
            else ""
        )
        return f"finished at{steps}{figure}{took}" if steps else f"finished{took}"
    now = f"running now (pid {x.running})"
    if x.state == ON_ITS_WAY:
        return f"on its way{_last_save(x, steps, figure)}; {_what_next(x, now)}"
    return f"{now}, nothing saved yet" if x.running else "not started"


def _last_save(x: SeedState, steps: str, figure: str) -> str:
    when = f" ({x.saved_at.replace('T', ' ')[:16]} UTC)" if x.saved_at else ""
    return f", last save at{steps}{when}{figure}" if steps else " (its kind writes no partial file)"


def _what_next(x: SeedState, now: str) -> str:
    """What running an unfinished seed does: go on from the save here (the partial file's, or
    another start's, which then replaces the partial file), or start again from the beginning."""
    if x.run_here_steps is not None and x.run_here_steps != x.real_steps:
        another = (
            f"another start of it here saved at {x.run_here_steps:,} real steps, which "
            "replaces the partial file at its next save"
        )
        return (
            f"{now}, going on from {another}"
            if x.running
            else f"running the seed goes on from {another}"
        )
    if x.running:
        return now
    if x.run_here:
        return "its run is here: running the seed goes on from that save"
    return (
        "its run is not on this machine: running the seed starts it again from the beginning "
        "and replaces the partial file"
    )


def status(exp: Experiment, seeds: list[int], results: Path = RESULTS, work: Path = WORK) -> str:
    return "\n".join(status_lines(exp, seed_states(exp, seeds, results, work)))
