"""Every pipeline command the README shows runs as written: the same flags plus a tiny budget, in
README order, in one empty folder (the data one command writes is a later one's input), on the
session's local Ray. So the docs cannot drift from the code."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
TINY_RLLIB = [
    *("--set", "overrides.train_batch_size_per_learner=32"),
    *("--set", "overrides.training_intensity=32"),  # one update per step: the wiring, not learning
    *("--set", "overrides.min_sample_timesteps_per_iteration=64"),
]
TINY_EVAL = ["--eval.episodes", "2", "--eval.time-limit", "20"]
BUDGETS = {
    "collect": ["--episodes", "4", "--steps", "60", "--no-progress"],
    "train": [
        *("--training.max-updates", "20", "--training.horizon", "4"),
        *("--training.batch-size", "16", "--judge.horizon", "4", "--judge.segments", "16"),
        *("--threads", "1", "--no-progress"),
    ],
    "evaluate": ["--horizons", "3", "16", "--segments", "16", "--threads", "1"],
    "benchmark": [
        *("--episodes", "2", "--steps", "140", "--burn-in", "30", "--segments", "16"),
        *("--threads", "1"),
    ],
    "fit_density": ["--steps", "20"],
    "zero_shot": [
        *("--imagined-steps", "200", "--learning-starts", "64", "--eval.every", "200"),
        *("--time-limit", "20", "--num-envs", "4", "--threads", "1", "--no-progress"),
        *TINY_EVAL,
        *TINY_RLLIB,
    ],
    "real_sac": [
        *("--env-steps", "200", "--learning-starts", "64", "--eval.every", "200"),
        *("--time-limit", "50", "--threads", "1", "--no-progress"),
        *TINY_EVAL,
        *TINY_RLLIB,
    ],
    "few_shot": [
        *("--real-steps", "40", "--few-shot.real-per-round", "40", "--few-shot.collectors", "1"),
        *("--few-shot.imagined-per-round", "128", "--few-shot.imagined-time-limit", "20"),
        *("--trainer.update-every", "50", "--trainer.batch", "16", "--trainer.horizon", "4"),
        *("--learning-starts", "64", "--num-envs", "4", "--env-runners", "0", "--no-progress"),
        *TINY_EVAL,
        *TINY_RLLIB,
    ],
    "on_policy": [
        *("--real-steps", "100", "--trainer.update-every", "50", "--trainer.batch", "16"),
        *("--trainer.horizon", "4", "--trainer.steps-per-update", "2"),
        *("--on-policy.branch-batch", "16", "--on-policy.real-time-limit", "50"),
        *("--eval.every", "100", "--learning-starts", "32", "--env-runners", "0"),
        "--no-progress",
        *TINY_EVAL,
        *TINY_RLLIB,
    ],
    "sweep": [],  # the README's sweeps are its --smoke ones
}
"""The budget each kind's commands get: flags that come after the README's (the last wins)."""
MODEL_ON_THE_SPOT = ["--collect-steps", "40", "--train-minutes", "0.05"]


def readme_commands() -> list[list[str]]:
    """The arguments of every ``pipelines/*.py`` command in the README's ``bash`` blocks."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if len(words) >= 2 and words[0].endswith("python") and "pipelines/" in words[1]:
                commands.append(words[1:])
    return commands


COMMANDS = readme_commands()


def test_the_readme_shows_every_pipeline():
    shown = {Path(c[0]).stem for c in COMMANDS}
    assert shown == {p.stem for p in (ROOT / "pipelines").glob("*.py")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """An empty folder holding only what a fresh clone has at its root: the run files."""
    path = tmp_path_factory.mktemp("fresh-clone")
    for name in ("configs", "tune_configs"):
        (path / name).symlink_to(ROOT / name)
    return path


def run_pipeline(script: str, argv: list[str]) -> int:
    """``python pipelines/<script>`` in this process (it joins the session's Ray)."""
    spec = importlib.util.spec_from_file_location(f"pipeline_{Path(script).stem}", ROOT / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if Path(script).stem == "sweep":
        return module.main(argv)
    from mosim_ray.runs.cli import main

    return main(Path(script).stem, argv)


@pytest.mark.parametrize(
    "command", COMMANDS, ids=[f"{i:02d}-{Path(c[0]).stem}" for i, c in enumerate(COMMANDS)]
)
def test_readme_command_runs(command, workdir, ray_local, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    script, *argv = command
    kind = Path(script).stem
    budget = list(BUDGETS[kind])
    if "--collect-episodes" in argv:  # a model trained on the spot: a tiny one
        budget += ["--collect-episodes", "3", *MODEL_ON_THE_SPOT]
    code = run_pipeline(script, argv + budget)
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    last = captured.out.strip().splitlines()[-1]
    if kind == "sweep":
        assert last.startswith("table, plot and summary:")
        summary = json.loads((Path(last.split(": ", 1)[1]) / "summary.json").read_text())
        assert summary["best_config"] and all(t["status"] == "ok" for t in summary["trials"])
        return
    out = Path(last.rsplit(" -> ", 1)[1])
    result = json.loads((out / "result.json").read_text())
    assert result["provenance"]["command"].startswith(f"python {script}")
    CHECKS.get(kind, lambda result, out: None)(result, out)


def _check_collect(result, out):
    assert result["episodes"] == result["read_back_episodes"] == 4
    assert result["read_back_steps"] == 4 * 60 and len(list(out.glob("shard-*.parquet"))) >= 1


def _check_rl(result, out):
    assert len(result["real_returns"]) == 2 and len(result["curve"]) >= 2
    assert (out / "curve.png").stat().st_size > 0 and (out / "policy").is_dir()
    assert (out / "curve.csv").is_file()


def _check_zero_shot(result, out):
    _check_rl(result, out)
    assert result["imagined_steps"] >= 200 and result["real_steps"] > 0


def _check_schedule(result, out):
    assert result["real_steps"] >= result["run"]["real_steps"]
    assert result["trainer_real_steps"] >= result["real_steps"]
    assert result["model_updates"] >= 1 and (out / "curves.png").stat().st_size > 0


CHECKS = {
    "collect": _check_collect,
    "zero_shot": _check_zero_shot,
    "real_sac": _check_rl,
    "few_shot": _check_schedule,
    "on_policy": _check_schedule,
}
