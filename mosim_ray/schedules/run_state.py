"""A MoSimSAC run saved whole, so that a run killed at any time resumes from its last save.

A save holds RLlib's own state (policy, optimizers, metrics with the sampled-step counters), our
replay buffers and update credit, the schedule's state, the counts and curve, and a snapshot of
the model trainer (model, optimizer, version, every real episode it holds), and the run's summary
as plain JSON (``progress.json``: what an experiment reports of an unfinished seed). Before saving, the
model update in flight is confirmed and, on-policy, the open real segments go to the trainer, so
the saved trainer holds exactly the real steps the saved counts say. A resumed run's trainer
starts from the snapshot; its env runners start new episodes. The steps taken after the last
save are lost with the process and taken again: none is counted twice.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mosim_ray.actors.model_trainer import restore_snapshot

if TYPE_CHECKING:
    from mosim_ray.schedules.algorithm import MoSimSAC

TRAINER = "trainer"
"""the trainer snapshot's folder inside a save"""
PROGRESS = "progress.json"
"""the run's summary at a save (counts and curve so far), readable without RLlib"""


def run_state(algo: MoSimSAC) -> dict[str, Any]:
    """Everything of ours a resumed run needs (RLlib's state comes beside it)."""
    algo.clock.tick(algo.seconds)
    return {
        "counts": algo.counts.as_dict(),
        "seconds": algo.seconds.as_dict(),
        "curve": list(algo.curve),
        "density_fits": list(algo.density_fits),
        "runner_versions": list(algo.runner_versions),
        "fresh_errors": list(algo.model.fresh_data_errors()),
        "replay": algo.local_replay_buffer.get_state(),
        "replay_rng": algo.local_replay_buffer._rng.bit_generator.state,
        "update_credit": getattr(algo, "_update_credit", 0.0),
        "schedule": algo.schedule.get_state(),
    }


def set_run_state(algo: MoSimSAC, state: dict[str, Any]) -> None:
    algo.counts.update(state["counts"])
    algo.seconds.resume_from(state["seconds"])
    algo.curve = list(state["curve"])
    if algo.curve:  # the next evaluation at the next multiple past the last, not at once
        algo._last_eval = {k: algo.curve[-1][k] for k in ("real_return_mean", "real_return_std")}
        every = algo.mosim.eval.every
        algo._next_eval = (algo.curve[-1]["real_steps"] // every + 1) * every
    if "replay" not in state:  # a Tune checkpoint of counts and curve only
        return
    algo.density_fits = list(state["density_fits"])
    algo.runner_versions = list(state["runner_versions"])
    algo.model.fresh_errors = list(state["fresh_errors"])
    algo.local_replay_buffer.set_state(state["replay"])
    algo.local_replay_buffer._rng.bit_generator.state = state["replay_rng"]
    algo._update_credit = state["update_credit"]
    algo.schedule.set_state(algo, state["schedule"])


def save_run(algo: MoSimSAC, path: str | Path) -> Path:
    """Save the run in ``path`` (written beside it, then moved in whole)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    algo.confirm_model()  # its wait is the waiting's, not the save's
    start = time.perf_counter()
    algo.schedule.before_save(algo)
    algo.model.snapshot(tmp / TRAINER)
    algo.seconds.saving += time.perf_counter() - start
    summary = {**algo.summary(), "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
    start = time.perf_counter()
    algo.save_to_path(str(tmp.resolve()))
    summary["seconds"] = algo.seconds.as_dict()  # the saved state's: what a resume starts from
    algo.seconds.saving += time.perf_counter() - start  # RLlib's part: in the next save's
    (tmp / PROGRESS).write_text(json.dumps(summary, default=str))
    if path.exists():
        shutil.rmtree(path)
    tmp.replace(path)
    return path


def prepare_resume(path: str | Path, work_dir: str | Path) -> None:
    """Before the resumed algorithm is built: its trainer's folder holds the saved snapshot."""
    restore_snapshot(Path(path) / TRAINER, Path(work_dir) / "trainer")
