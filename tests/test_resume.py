"""Runs that resume after a crash: the driver is killed (SIGKILL, with its whole process group:
as a lost machine), the same command with --resume goes on from the last save, and the run ends
with the counts of a run that was never interrupted; no real step is lost or counted twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.shards import shard_name

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
TINY_RLLIB = [
    *("--set", "overrides.train_batch_size_per_learner=32"),
    *("--set", "overrides.training_intensity=32"),  # one update per step
    *("--set", "overrides.min_sample_timesteps_per_iteration=16"),
]


def killed_then_resumed(script: str, args: list[str], out: Path) -> dict:
    """Run a pipeline, kill it with its process group once its first save is on disk, then
    run it again with --resume; returns the final result."""
    cmd = [sys.executable, f"pipelines/{script}", *args, "--out", str(out)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, **quiet)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not (out / "checkpoint").is_dir():
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before its first save: give it more steps"
    time.sleep(1.0)  # a few steps past the save, which the resumed run takes again
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "result.json").exists()
    r = subprocess.run([*cmd, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "result.json").read_text())


def assert_last_save_holds_a_prefix(out: Path, result: dict, steps: str) -> None:
    """The save's ``progress.json`` (what an experiment reports of an unfinished seed) holds the
    finished run's first evaluations, the very figures."""
    saved = json.loads((out / "checkpoint" / "progress.json").read_text())["curve"]
    assert 0 < len(saved) < len(result["curve"])

    def key(p):
        return p[steps], p["real_return_mean"]

    assert [key(p) for p in saved] == [key(p) for p in result["curve"][: len(saved)]]


def uninterrupted(script: str, args: list[str], out: Path) -> dict:
    from mosim_ray.runs.cli import main

    assert main(Path(script).stem, [*args, "--out", str(out)]) == 0
    return json.loads((out / "result.json").read_text())


def test_on_policy_resumes_with_the_counts_of_an_uninterrupted_run(ray_local, tmp_path, capsys):
    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    args = [
        *("--task", "reacher-easy", "--data", str(data), "--real-steps", "160"),
        # a save where an evaluation is made: the resumed run evaluates next where the whole
        # run does, not again at once
        *("--checkpoint-every", "80", "--learning-starts", "32", "--env-runners", "1"),
        *("--trainer.update-every", "40", "--trainer.batch", "16", "--trainer.horizon", "4"),
        *("--on-policy.branch-length", "2", "--on-policy.branch-batch", "16"),
        *("--on-policy.branches-per-real-step", "1", "--on-policy.real-time-limit", "50"),
        *("--eval.every", "80", "--eval.episodes", "2", "--eval.time-limit", "20"),
        "--no-progress",
        *TINY_RLLIB,
    ]
    whole = uninterrupted("on_policy.py", args, tmp_path / "whole")
    # each evaluation after the one at the start is printed once, the last one (at the run's
    # last count) too
    out = capsys.readouterr().out.splitlines()
    printed = [line.split(" real, ")[0].strip() for line in out if " real, " in line]
    assert printed == [f"{p['real_steps']:,}" for p in whole["curve"][1:]]
    resumed = killed_then_resumed("on_policy.py", args, tmp_path / "resumed")
    keys = ("real_steps", "imagined_steps", "model_updates", "model_gradient_steps")
    keys += ("policy_updates", "trainer_real_steps")
    assert {k: resumed[k] for k in keys} == {k: whole[k] for k in keys}
    assert resumed["trainer_real_steps"] == 3 * 40 + resumed["real_steps"]  # none lost or twice
    assert [p["real_steps"] for p in resumed["curve"]] == [p["real_steps"] for p in whole["curve"]]
    assert_last_save_holds_a_prefix(tmp_path / "resumed", resumed, "real_steps")
    # where the time went: the saved wall seconds plus the resumed process's; the activities the
    # driver times (the trainer's own training aside: it overlaps them) fit inside the wall time
    saved = json.loads((tmp_path / "resumed" / "checkpoint" / "progress.json").read_text())
    assert saved["saved_at"].startswith("20")
    s = resumed["seconds"]
    assert s["wall"] > saved["seconds"]["wall"] > 0
    assert s["saving"] >= saved["seconds"]["saving"] > 0
    assert s["driver_cpu"] > 0 and s["trainer_cpu"] > 0
    timed = sum(v for k, v in s.items() if k not in ("wall", "driver_cpu", "trainer_cpu"))
    assert timed - s["model_training"] <= s["wall"]


def test_zero_shot_resumes_with_the_counts_of_an_uninterrupted_run(ray_local, tmp_path):
    args = [
        *("--task", "reacher-easy", "--imagined-steps", "480", "--learning-starts", "64"),
        *("--checkpoint-every", "120", "--eval.every", "240", "--eval.episodes", "2"),
        *("--eval.time-limit", "20", "--time-limit", "20", "--num-envs", "4", "--threads", "1"),
        "--no-progress",
        *TINY_RLLIB,
    ]
    whole = uninterrupted("zero_shot.py", args, tmp_path / "whole")
    resumed = killed_then_resumed("zero_shot.py", args, tmp_path / "resumed")
    assert resumed["imagined_steps"] == whole["imagined_steps"]
    steps = [(p["env_steps"], p["iteration"]) for p in resumed["curve"]]
    assert steps == [(p["env_steps"], p["iteration"]) for p in whole["curve"]]
    assert_last_save_holds_a_prefix(tmp_path / "resumed", resumed, "env_steps")
