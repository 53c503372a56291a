"""The entry scripts as a user runs them: subprocesses, a real local Ray, tiny budgets."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=240):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "pipelines").glob("*.py")))
def test_every_pipeline_answers_help_with_config_as_a_user_runs_it(script):
    r = run(f"pipelines/{script}", "--help", timeout=60)
    assert r.returncode == 0 and "--config" in r.stdout, r.stderr[-2000:]
    assert "Traceback" not in r.stderr


def _tiny_reacher_run(tmp_path, minutes: str, max_updates: str):
    """10 short reacher episodes on disk and the train.py arguments of a tiny run on them."""
    from mosim_ray.data import EpisodeCollector
    from mosim_ray.data.shards import shard_name

    data, out = tmp_path / "data", tmp_path / "run"
    EpisodeCollector("reacher-easy", 120).write_shard(data / shard_name(0), list(range(10)), seed=0)
    args = [
        "--task",
        "reacher-easy",
        "--data",
        str(data),
        "--out",
        str(out),
        "--training.minutes",
        minutes,
        "--training.max-updates",
        max_updates,
        "--training.horizon",
        "8",
        "--training.batch-size",
        "32",
        "--no-progress",
        "--threads",
        "1",
    ]
    return data, out, args


@pytest.mark.slow
def test_train_then_evaluate(tmp_path):
    import json

    from mosim_ray import WorldModel

    data, out, args = _tiny_reacher_run(tmp_path, minutes="1", max_updates="30")
    r = run("pipelines/train.py", *args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "| 100 |" in r.stdout and "raw MSE" in r.stdout
    summary = json.loads((out / "result.json").read_text())
    assert summary["updates"] == 30 and summary["task"] == "reacher-easy"
    assert [e["horizon"] for e in summary["test_errors"]] == [3, 16, 100]
    assert WorldModel.load(out / "model").task == "reacher-easy"
    assert (out / "train_log.csv").read_text().count("\n") >= 1
    assert (out / "train_curve.png").stat().st_size > 1000
    import csv

    logged = [float(r["val_loss"]) for r in csv.DictReader((out / "train_log.csv").open())]
    assert summary["val_loss"] <= min(logged) + 1e-9  # the saved model is the best one seen

    r = run("pipelines/train.py", *args, "--resume")  # continues from the saved weights
    assert r.returncode == 0, r.stderr[-3000:]

    r = run(
        "pipelines/evaluate.py",
        "--checkpoint",
        str(out / "model"),
        "--data",
        str(data),
        "--horizons",
        "3",
        "16",
        "--json",
        str(tmp_path / "e.json"),
        "--out",
        str(tmp_path / "eval"),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "eval" / "error_by_step.png").stat().st_size > 1000
    assert [e["horizon"] for e in json.loads((tmp_path / "e.json").read_text())["errors"]] == [
        3,
        16,
    ]

    r = run("pipelines/train.py", "--task", "cheetah-run", "--data", str(data), "--out", str(out))
    assert r.returncode == 2 and "holds 'reacher-easy' data" in r.stderr


@pytest.mark.slow
def test_killed_training_resumes_where_it_stopped(tmp_path):
    import json
    import signal
    import time

    import torch

    _, out, train_args = _tiny_reacher_run(tmp_path, minutes="5", max_updates="300")
    args = ["pipelines/train.py", *train_args]
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    state_file = out / "trainer_state.pt"
    deadline = time.time() + 120
    updates_at_kill = 0
    while time.time() < deadline and proc.poll() is None:
        if state_file.exists():
            updates_at_kill = torch.load(state_file, weights_only=False)["updates"]
            if updates_at_kill >= 100:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)  # no clean-up: as a crash or a lost node
    proc.wait()
    assert 100 <= updates_at_kill < 300 and not (out / "result.json").exists()

    r = run(*args, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "result.json").read_text())
    assert summary["updates"] == 300  # the budget counts the updates before the crash
    state = torch.load(state_file, weights_only=False)
    assert state["stage_index"] == state["plan_length"]  # the plan ran to its end
    import csv

    logged = [int(row["update"]) for row in csv.DictReader((out / "train_log.csv").open())]
    assert logged == sorted(logged) and logged[-1] == 300  # went on from the crash, no restart


@pytest.mark.ray
def test_sigterm_stops_a_ray_driver_as_ctrl_c_does():
    """``kill`` or a scheduler's preemption reaches the driver's own handlers (which say
    "interrupted" and keep the last save), not Ray's native crash report."""
    import signal

    script = (
        "import time\n"
        "from mosim_ray.actors.ray_session import start_ray\n"
        "start_ray(num_cpus=1)\n"
        "try:\n"  # 'ready' inside: the signal may come while it prints
        "    print('ready', flush=True)\n"
        "    time.sleep(120)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    raise SystemExit(130)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out.strip() == "interrupted", err
    assert "logging.cc" not in err and "Traceback" not in err
