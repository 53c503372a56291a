"""The entry scripts as a user runs them: subprocesses, a real local Ray, tiny budgets."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=240):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_collect_help():
    r = run("pipelines/collect.py", "--help")
    assert r.returncode == 0 and "--actors" in r.stdout and "cheetah-run" in r.stdout


def test_collect_unknown_task_is_a_clear_error():
    r = run("pipelines/collect.py", "--task", "cheetah-walk")
    assert r.returncode == 2
    assert "unknown task 'cheetah-walk'" in r.stderr and "cheetah-run" in r.stderr


@pytest.mark.ray
def test_collect_end_to_end(tmp_path):
    out = tmp_path / "data"
    r = run("pipelines/collect.py", "--task", "cheetah-run", "--episodes", "4", "--steps", "30",
            "--actors", "2", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "cheetah-run: 4 episodes, 120 steps" in r.stdout
    assert "read back 4 episodes, 120 steps" in r.stdout
    assert len(list(out.glob("shard-*.parquet"))) == 4
