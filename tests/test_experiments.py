"""Experiments as data: statistics over seeds, experiment files, the runner (real kinds, tiny
budgets) and the report's tables from seed files."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mosim_ray.config import ConfigError
from mosim_ray.experiments import reference
from mosim_ray.experiments.report import (
    headline_markdown,
    headline_rows,
    horizon_markdown,
    horizon_rows,
    replace_between,
    value_at,
)
from mosim_ray.experiments.spec import Experiment, GridSpec, ReportSpec, fill, load_experiment
from mosim_ray.experiments.stats import bootstrap_ci, bootstrap_difference_ci, iqm

ROOT = Path(__file__).resolve().parents[1]


def test_iqm_and_bootstrap_on_known_values():
    assert iqm(np.arange(1, 9)) == pytest.approx(4.5)  # the middle half: 3, 4, 5, 6
    assert iqm(np.array([0.0, 0.0, 0.0, 1000.0])) == pytest.approx(0.0)
    assert iqm(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0)
    lo, hi = bootstrap_ci(np.array([10.0, 12.0, 11.0, 13.0, 9.0]))
    assert 9.0 <= lo < 11.0 < hi <= 13.0
    assert bootstrap_ci(np.array([10.0, 12.0, 11.0])) == bootstrap_ci(np.array([10.0, 12.0, 11.0]))
    assert bootstrap_ci(np.array([5.0])) == (5.0, 5.0)


def test_published_rows_resample_both_sides_seeds():
    from mosim_ray.experiments.report_published import published_markdown, published_rows

    folder = ROOT / "benchmarks/reference_curves"
    theirs = reference.curves(folder)[("sac_pytorch_sac", "reacher-hard")][100000]

    def row(per_seed, step=100000):
        return {
            "task": "reacher-hard",
            "arm": "sac",
            "real_steps": step,
            "n_seeds": len(per_seed),
            "per_seed": per_seed,
            "mean": float(np.mean(per_seed)),
        }

    same, far, lone, nowhere = (
        row(list(theirs)),
        row([990.0] * 5),
        row([500.0]),
        row([1.0, 2.0], 25000),
    )
    out = published_rows([same, far, lone, nowhere], folder=folder)
    # seeds equal to pytorch_sac's own: no difference, and an interval that holds 0
    sac_same, best_same, sac_far, best_far = out
    assert sac_same["published"] == "sac_pytorch_sac" and sac_same["difference"] == 0.0
    assert sac_same["ci95"][0] < 0.0 < sac_same["ci95"][1]
    assert best_same["published"] == "drq" and best_same["published_best_here"]
    assert best_same["published_n_seeds"] == 10 and best_same["ci95"][1] < 0.0
    # five seeds at 990 are above every published seed there: both intervals exclude 0
    assert sac_far["ci95"][0] > 0.0 and best_far["ci95"][0] > 0.0
    assert sac_far["ratio"] == pytest.approx(990.0 / np.mean(theirs), abs=1e-3)
    assert "| sac | 100,000 | 3 |" in published_markdown(out)
    assert bootstrap_difference_ci(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == (
        bootstrap_difference_ci(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    )


def test_placeholders_and_bad_files(tmp_path):
    assert fill({"a": "{data}/x", "b": ["{seed}"], "c": "{seed}"}, {"data": "d", "seed": 3}) == {
        "a": "d/x",
        "b": [3],
        "c": 3,
    }
    with pytest.raises(ConfigError, match="unknown placeholder"):
        fill("{nope}/x", {"seed": 1})
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: real_sac\nrun: {env_stepz: 5}\nseeds: [0]\n")
    with pytest.raises(ConfigError, match="env_stepz"):
        load_experiment(bad)
    bad.write_text("kind: real_sac\nseeds: [0]\nbar: 3\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_experiment(bad)


GRID_INPUTS = """
inputs:
  data: {kind: collect, run: {task: reacher-easy, episodes: 3, steps: 40, actors: 1}}
"""
TINY_TRAIN = """
kind: train
run: {task: reacher-easy, data: "{data}", threads: 1, training: {horizon: 4, batch_size: 16},
      judge: {horizon: 4, segments: 8}}
seeds: [0]
seed_field: training.seed
"""


def test_a_grid_and_shared_inputs_are_checked(tmp_path):
    (tmp_path / "base.yaml").write_text(TINY_TRAIN + GRID_INPUTS)
    grid = "grid: {field: training.max_updates, values: [2, 3]}\ninputs_from: base\n"
    (tmp_path / "grid.yaml").write_text(TINY_TRAIN + grid + GRID_INPUTS)
    exp = load_experiment(tmp_path / "grid.yaml")
    assert exp.points == (2, 3) and exp.point(3) == "training.max_updates-3"
    assert exp.config(0, {"data": "d"}, 3).training.max_updates == 3
    (tmp_path / "other.yaml").write_text(TINY_TRAIN + grid + GRID_INPUTS.replace("40", "50"))
    with pytest.raises(ConfigError, match="inputs differ from those of base"):
        load_experiment(tmp_path / "other.yaml")
    (tmp_path / "bad.yaml").write_text(
        TINY_TRAIN + "grid: {field: training.max_updatez, values: [2]}" + GRID_INPUTS
    )
    with pytest.raises(ConfigError, match="max_updatez"):
        load_experiment(tmp_path / "bad.yaml")


@pytest.mark.ray
def test_a_grid_runs_each_value_on_inputs_built_once(ray_local, tmp_path, monkeypatch):
    from mosim_ray.experiments.runner import load_seed_files, missing_seeds, run_seed

    monkeypatch.chdir(ROOT)
    (tmp_path / "base.yaml").write_text(TINY_TRAIN + GRID_INPUTS)
    grid = "grid: {field: training.max_updates, values: [2, 10]}\ninputs_from: base\n"
    (tmp_path / "grid.yaml").write_text(TINY_TRAIN + grid + GRID_INPUTS)
    exp = load_experiment(tmp_path / "grid.yaml")
    results, work = tmp_path / "results", tmp_path / "work"
    assert missing_seeds(exp, [0], results) == [0]
    run_seed(exp, 0, results=results, work=work)
    assert missing_seeds(exp, [0], results) == []
    for value in (2, 10):
        (saved,) = load_seed_files(exp.name, results, point=f"training.max_updates-{value}")
        assert saved["training.max_updates"] == value
        assert saved["settings"]["training"]["max_updates"] == value
        assert saved["inputs"]["data"]["path"].startswith(str((work / "base" / "seed0").resolve()))
        assert saved["wall_s"] > 0
    assert not (work / "grid" / "seed0" / "inputs").exists()  # built once, in base's folder
    runs = work / "grid" / "seed0" / "run"
    result = json.loads((runs / "training.max_updates-10" / "result.json").read_text())
    assert result["updates"] == 10


def test_every_shipped_experiment_loads():
    files = sorted((ROOT / "benchmarks" / "experiments").glob("*.yaml"))
    assert files
    for f in files:
        exp = load_experiment(f)
        assert exp.seeds and all(s >= 0 for s in exp.seeds)
        if exp.report and exp.report.table in ("prediction", "paper", "generalisation"):
            assert exp.report.figures
        elif exp.report and exp.report.table == "horizon":
            assert exp.grid and exp.inputs_from
        elif exp.report:
            assert exp.report.steps


def _seed_file(
    folder: Path, name: str, seed: int, curve: list[tuple[int, float]], partial: bool = False
) -> None:
    points = [{"real_steps": s, "return_mean": r, "return_std": 0.0} for s, r in curve]
    path = folder / name / ("partial" if partial else "") / f"seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"complete": False} if partial else {}
    path.write_text(json.dumps({"seed": seed, "curve": points, **extra}))


def test_headline_rows_take_the_evaluation_at_the_step_not_the_best(tmp_path):
    exp = Experiment(
        name="arm",
        kind="real_sac",
        run={},
        seeds=(0, 1, 2, 100),
        report=ReportSpec(task="cheetah-run", arm="sac", steps=(20000, 40000)),
    )
    _seed_file(tmp_path, "arm", 0, [(10000, 50.0), (20000, 100.0), (30000, 900.0), (40000, 200.0)])
    _seed_file(tmp_path, "arm", 1, [(20004, 120.0), (40000, 180.0)])
    _seed_file(tmp_path, "arm", 2, [(19000, 999.0), (40000, 190.0)])  # no evaluation at 20k
    _seed_file(tmp_path, "arm", 100, [(20000, 5000.0), (40000, 5000.0)])  # a choosing seed
    _seed_file(tmp_path, "arm", 1, [(20004, 7777.0)], partial=True)  # superseded by its seed file
    rows = headline_rows([exp], tmp_path)
    at20, at40 = rows
    assert at20["seeds"] == [0, 1] and at20["per_seed"] == [100.0, 120.0] and at20["mean"] == 110.0
    assert at40["seeds"] == [0, 1, 2] and at40["mean"] == pytest.approx(190.0)
    assert at20["unfinished"] == at40["unfinished"] == []
    lo, hi = at40["ci95"]
    assert 180.0 <= lo <= 190.0 <= hi <= 200.0
    assert value_at([{"real_steps": 30000, "return_mean": 1.0}], 20000) is None
    table = headline_markdown(rows)
    assert "| sac | 20,000 | 2 | 110.0 |" in table
    assert "SAC (pytorch_sac) | 20,000 | 3 | 59.3" in table  # the published figure beside


def test_an_unfinished_seed_counts_at_the_steps_its_last_save_passed(tmp_path):
    exp = Experiment(
        name="arm",
        kind="real_sac",
        run={},
        seeds=(0, 1),
        report=ReportSpec(task="cheetah-run", arm="sac", steps=(20000, 40000)),
    )
    _seed_file(tmp_path, "arm", 0, [(20000, 100.0), (40000, 200.0)])
    _seed_file(tmp_path, "arm", 1, [(10000, 10.0), (20000, 300.0)], partial=True)
    at20, at40 = headline_rows([exp], tmp_path)
    assert at20["seeds"] == [0, 1] and at20["unfinished"] == [1] and at20["mean"] == 200.0
    assert at40["seeds"] == [0] and at40["unfinished"] == []
    table = headline_markdown([at20, at40])
    assert "| sac | 20,000 | 2 (1 unfinished) | 200.0 |" in table
    assert "| sac | 40,000 | 1 | 200.0 |" in table


def test_horizon_rows_take_each_values_final_return(tmp_path):
    exp = Experiment(
        name="h",
        kind="zero_shot",
        run={},
        seeds=(0, 1, 100),
        report=ReportSpec(
            task="cheetah-run", arm="zero_shot", table="horizon", paper={"needed": 500}
        ),
        grid=GridSpec(field="time_limit", values=(10, 100)),
    )
    for value, finals in ((10, (5.0, 7.0, 999.0)), (100, (50.0, 70.0, 999.0))):
        for seed, final in zip((0, 1, 100), finals):
            point = {"real_steps": 20000, "return_mean": final, "return_std": 0.0}
            path = tmp_path / "h" / f"time_limit-{value}" / f"seed{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"seed": seed, "final": point, "curve": [point]}))
    at10, at100 = horizon_rows([exp], tmp_path)
    assert at10["value"] == 10 and at10["seeds"] == [0, 1] and at10["mean"] == 6.0
    assert at100["mean"] == 60.0 and at100["real_steps"] == 20000  # seed 100 chose, not reported
    table = horizon_markdown([at10, at100])
    assert "| 100 | 20,000 | 2 | 60.0 |" in table and "needed 500" in table


def test_replace_between_markers():
    text = "a\n<!-- report:headline -->\nold\n<!-- /report:headline -->\nb\n"
    new = replace_between(text, "headline", "new table")
    assert new == "a\n<!-- report:headline -->\nnew table\n<!-- /report:headline -->\nb\n"
    with pytest.raises(ValueError, match="markers"):
        replace_between("no markers", "headline", "x")


def test_imagined_bound_table_takes_the_slowest_small_product_rate():
    from mosim_ray.experiments.report_speed import imagined_bound_markdown

    measured = {
        "dm_control env.step": 1000.0,
        "model step states/s": 3000.0,
        "gemm 256x32x32 flop/s": 20e9,
        "gemm 256x64x64 flop/s": 40e9,
    }
    task = {
        "model": "pretrained/x",
        "model_substeps": 4,
        "hidden_widths": [32, 64],
        "product_flops_per_state_step": 2e6,
        "measured": measured,
        "share_of_small_gemm_rate": 0.3,
        "model_step_ratio_to_dm_control": 3.0,
        "bound_ratio_to_dm_control": 10.0,
    }
    table = imagined_bound_markdown({"batch": 256, "tasks": {"x-run": task}})
    row = table.splitlines()[2]
    assert row == (
        "| x-run | pretrained/x | 4 | 2.00 | 20.0 | 3,000 (30%) | 1,000 | 3.0x | **10.0x** |"
    )


def test_the_docs_are_what_the_results_give():
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "benchmarks/report.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.ray
@pytest.mark.slow
def test_runner_builds_inputs_pauses_a_seed_and_resumes_it(ray_local, tmp_path, monkeypatch):
    from mosim_ray.experiments.runner import missing_seeds, run_seed

    monkeypatch.chdir(ROOT)
    path = tmp_path / "tiny.yaml"
    path.write_text(
        """
kind: on_policy
run:
  task: reacher-easy
  real_steps: 60
  learning_starts: 32
  trainer: {update_every: 30, batch: 16, horizon: 4}
  on_policy: {branch_length: 2, branch_batch: 16, branches_per_real_step: 1.0, real_time_limit: 30}
  eval: {every: 30, episodes: 2, time_limit: 20}
  checkpoint_every: 30
  overrides: {train_batch_size_per_learner: 32, min_sample_timesteps_per_iteration: 30}
seeds: [0]
inputs:
  data: {kind: collect, run: {task: reacher-easy, episodes: 3, steps: 40, actors: 1}}
  checkpoint:
    kind: train
    run: {task: reacher-easy, data: "{data}", threads: 1,
          training: {max_updates: 10, horizon: 4, batch_size: 16}, judge: {horizon: 4, segments: 8}}
    seed_field: training.seed
    output: model
report: {task: reacher-easy, arm: tiny, steps: [120, 180]}
"""
    )
    exp = load_experiment(path)
    results, work = tmp_path / "results", tmp_path / "work"
    stale = work / exp.name / "seed0" / "run"
    stale.mkdir(parents=True)
    (stale / "half-done").write_text("a run stopped before its end")
    # paused at its save at 150 real steps (120 starting + 30), which holds the evaluation
    # there: a partial file, no seed file
    assert run_seed(exp, 0, results=results, work=work, pause_at=150) == {}
    assert not (stale / "half-done").exists()  # the seed's run started again
    path = results / exp.name / "partial" / "seed0.json"
    partial = json.loads(path.read_text())
    at = partial["saved_real_steps"]
    assert partial["complete"] is False and at >= 150 and missing_seeds(exp, [0], results) == [0]
    assert partial["curve"][-1]["real_steps"] >= 150
    assert partial["seconds"]["policy_updates"] > 0  # where the seed's time went so far
    assert partial["seconds"]["wall"] > partial["seconds"]["policy_updates"]
    assert partial["saved_at"].startswith("20")  # when: a stalled seed shows
    assert partial["eval_seed"] == 12345  # the real starts it is judged on: 12345 + its seed
    assert headline_rows([exp], results)[0]["unfinished"] == [0]  # counted at 120, unfinished
    assert run_seed(exp, 0, results=results, work=work, pause_at=150) == {}  # not run again
    # the same seed goes on to its end from that save
    data = run_seed(exp, 0, results=results, work=work)
    assert missing_seeds(exp, [0, 1], results) == [1]
    saved = json.loads((results / exp.name / "seed0.json").read_text())
    assert saved == json.loads(json.dumps(data))
    assert saved["provenance"]["git"]["sha"] and saved["provenance"]["versions"]["torch"]
    assert saved["eval_seed"] == partial["eval_seed"]
    assert set(saved["inputs"]) == {"data", "checkpoint"}
    assert saved["seconds"]["policy_updates"] >= partial["seconds"]["policy_updates"]
    assert all(len(i["sha256"]) == 64 for i in saved["inputs"].values())
    assert saved["settings"]["seed"] == 0 and saved["settings"]["checkpoint"].endswith("model")
    steps = [p["real_steps"] for p in saved["curve"]]
    assert steps[0] == 120 and steps[-1] >= 180  # the 120 starting steps counted
    # the critic's mean Q once the policy learns (none before its first update)
    assert "q_mean" not in saved["curve"][0] and "q_mean" in saved["curve"][-1]
    rows = headline_rows([exp], results)
    assert rows[0]["n_seeds"] == 1 and rows[0]["seeds"] == [0] and rows[0]["unfinished"] == []
    assert [s["from_real_steps"] for s in saved["segments"]] == [0, at]
    assert not path.exists()  # the seed file replaced it
    # what the partial file reported is what the finished seed reports
    assert partial["curve"] and partial["curve"] == saved["curve"][: len(partial["curve"])]
    assert partial["curve"][-1]["real_steps"] <= at < saved["curve"][-1]["real_steps"]
    # a finished run whose seed file is missing (another checkout holds it) is not resumed from
    # its last save over itself: the runner says so and leaves it as it is
    finished = (stale / "result.json").read_bytes()
    (results / exp.name / "seed0.json").unlink()
    with pytest.raises(FileExistsError, match="has finished"):
        run_seed(exp, 0, results=results, work=work)
    assert (stale / "result.json").read_bytes() == finished


def test_prediction_rows_average_the_figures_and_a_failed_seed_leaves_no_mean(tmp_path):
    from mosim_ray.experiments.report_prediction import prediction_markdown, prediction_rows

    figures = ("mse_h16", "failed_h100")
    spec = ReportSpec(task="cheetah-run", arm="mosim", table="prediction", figures=figures)
    exp = Experiment(name="m", kind="train", run={}, seeds=(0, 1), report=spec)
    for seed, mse in ((0, 0.1), (1, 0.3)):
        path = tmp_path / "m" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, "figures": {"mse_h16": mse, "failed_h100": 0.0}}))
    (row,) = prediction_rows([exp], tmp_path)
    assert row["mse_h16"]["mean"] == pytest.approx(0.2) and row["mse_h16"]["std"] == pytest.approx(
        0.1
    )
    assert "0.2 ± 0.1" in prediction_markdown([row], figures)
    (tmp_path / "m" / "seed1.json").write_text(
        json.dumps({"seed": 1, "figures": {"mse_h16": float("inf"), "failed_h100": 0.5}})
    )
    (row,) = prediction_rows([exp], tmp_path)
    assert row["mse_h16"]["mean"] is None and "n/a" in prediction_markdown([row], figures)


def test_paper_rows_sit_beside_the_papers_figures(tmp_path):
    from mosim_ray.experiments.report_prediction import paper_markdown, prediction_rows

    figures = ("mse_h16", "mse_h100", "failed_h100")
    spec = ReportSpec(
        task="reacher-easy",
        arm="mosim",
        table="paper",
        figures=figures,
        label="shipped",
        paper={"mse_h16": 0.0005, "mse_h100": 0.0009},
    )
    exp = Experiment(name="p", kind="benchmark", run={}, seeds=(0,), report=spec)
    path = tmp_path / "p" / "seed0.json"
    path.parent.mkdir(parents=True)
    figs = {"mse_h16": 0.001, "mse_h100": 0.0009, "failed_h100": 0.0}
    path.write_text(json.dumps({"seed": 0, "figures": figs}))
    assert prediction_rows([exp], tmp_path) == []  # a paper experiment is not a prediction row
    (row,) = prediction_rows([exp], tmp_path, table="paper")
    line = paper_markdown([row], ("mse_h16", "mse_h100")).splitlines()[-1]
    assert line == "| reacher-easy | shipped | 0.001 | 0.0005 | 2x | 0.0009 | 0.0009 | 1x | 0 |"


def test_the_runner_refuses_bad_input_in_one_line():
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "benchmarks/run.py", *args]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)

    for args, says in (
        (("sac_cheetah-run", "no_such_experiment"), "no_such_experiment"),
        (("sac_cheetah-run", "--pause-at", "0"), "--pause-at"),
        (("sac_cheetah-run", "--seeds", "5-x"), "--seeds"),
        (("sac_cheetah-run", "--seeds", "4-2"), "--seeds"),
        ((), "name an experiment"),
    ):
        r = run(*args)
        assert r.returncode == 2 and says in r.stderr
        assert r.stderr.startswith("error:") and len(r.stderr.strip().splitlines()) == 1


def test_status_without_names_gives_a_line_for_every_experiment():
    import sys

    cmd = [sys.executable, "benchmarks/run.py", "--status"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    files = sorted(p.stem for p in (ROOT / "benchmarks" / "experiments").glob("*.yaml"))
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and r.stderr == ""
    assert [line.split(" ")[0] for line in lines] == files
    assert all(re.search(r"\((seeds|runs)\)(; \d+ running now)?$", line) for line in lines)


def test_a_seed_pauses_only_once_its_save_holds_the_evaluation_there(tmp_path):
    from mosim_ray.experiments.runner import paused

    exp = Experiment(name="arm", kind="on_policy", run={}, seeds=(0,))
    # evaluations a few steps past the saves (a count drifts after a resume): the save at 40,000
    # does not hold the evaluation at 40,004 yet, so the seed goes on to its next save
    _seed_file(tmp_path, "arm", 0, [(20000, 1.0), (30004, 2.0)], partial=True)
    assert not paused(exp, 0, None, 40000, tmp_path)
    _seed_file(tmp_path, "arm", 0, [(20000, 1.0), (30004, 2.0), (40004, 3.0)], partial=True)
    assert paused(exp, 0, None, 40000, tmp_path) and not paused(exp, 0, None, None, tmp_path)


def test_status_says_which_seeds_can_go_on_here_and_which_start_again(tmp_path):
    from mosim_ray.experiments.status import (
        FINISHED,
        NOT_STARTED,
        ON_ITS_WAY,
        seed_states,
        status_lines,
    )

    results, work = tmp_path / "results", tmp_path / "work"
    exp = Experiment(name="arm", kind="on_policy", run={}, seeds=(0, 1, 2, 3))
    _seed_file(results, "arm", 0, [(20000, 100.0), (40000, 300.0)])
    done = results / "arm" / "seed0.json"
    done.write_text(json.dumps({**json.loads(done.read_text()), "wall_s": 1800.0}))
    _seed_file(results, "arm", 1, [(20000, 90.0)], partial=True)  # its run is here
    partial = results / "arm" / "partial" / "seed1.json"
    data = json.loads(partial.read_text())
    data["curve"][-1]["q_mean"] = 4.5e6  # a diverged critic, as its run recorded it
    data["curve"][-1]["q_bounds"] = [0.0, 100.0]
    data["saved_at"] = "2026-12-03T08:14:59+00:00"
    partial.write_text(json.dumps(data))
    (work / "arm" / "seed1" / "run" / "checkpoint").mkdir(parents=True)
    _seed_file(results, "arm", 2, [(20000, 80.0)], partial=True)  # its run is elsewhere
    states = seed_states(exp, [0, 1, 2, 3], results, work)
    assert [s.state for s in states] == [FINISHED, ON_ITS_WAY, ON_ITS_WAY, NOT_STARTED]
    # a model's training writes no partial file: its saved trainer state alone says it is on its way
    training = Experiment(name="model", kind="train", run={}, seeds=(0, 1))
    (work / "model" / "seed0" / "run").mkdir(parents=True)
    (work / "model" / "seed0" / "run" / "trainer_state.pt").write_bytes(b"")
    trained = seed_states(training, [0, 1], results, work)
    assert [s.state for s in trained] == [ON_ITS_WAY, NOT_STARTED]
    assert "goes on from that save" in status_lines(training, trained)[1]
    assert states[0].real_steps == 40000 and states[0].wall_minutes == pytest.approx(30.0)
    assert [s.run_here for s in states[1:3]] == [True, False]
    lines = status_lines(exp, states)
    assert lines[0] == "arm (on_policy): 1 finished, 2 on its way, 1 not started (seeds)"
    assert "goes on from that save" in lines[2] and "starts it again" in lines[3]
    assert "critic's mean Q 4.5e+06, far outside [0, 100]: diverged?" in lines[2]
    assert "critic" not in lines[3]
    assert "last save at 20,000 real steps (2026-12-03 08:14 UTC)" in lines[2]
    assert "UTC" not in lines[3]  # a partial file from before saves were stamped
    assert lines[-1].startswith("  finished seeds took 30-30 min")
    # a run here that another start of the seed saved, at other steps than the partial file's
    progress = work / "arm" / "seed1" / "run" / "checkpoint" / "progress.json"
    progress.write_text(json.dumps({"trainer_real_steps": 20000}))
    assert "goes on from that save" in status_lines(exp, seed_states(exp, [1], results, work))[1]
    progress.write_text(json.dumps({"trainer_real_steps": 10000}))
    line = status_lines(exp, seed_states(exp, [1], results, work))[1]
    assert "goes on from another start of it here saved at 10,000 real steps" in line
    progress.unlink()
    # a seed another process is running now (it holds the seed's lock) says so, saved or not
    from mosim_ray.experiments.runner import seed_lock

    with seed_lock(work / "arm" / "seed3", "arm seed 3"), seed_lock(work / "arm" / "seed1", "x"):
        lines = status_lines(exp, seed_states(exp, [0, 1, 2, 3], results, work))
    pid = os.getpid()
    assert lines[0].endswith("1 not started (seeds); 2 running now")
    assert lines[2].endswith(f"running now (pid {pid})") and "goes on" not in lines[2]
    assert lines[4] == f"  seed 3: running now (pid {pid}), nothing saved yet"
    assert "running" not in status_lines(exp, seed_states(exp, [3], results, work))[1]


def test_paired_rows_are_seed_by_seed_differences_over_the_seeds_both_arms_have(tmp_path):
    from mosim_ray.experiments.report import paired_markdown, paired_rows

    arm = Experiment(
        name="mosim",
        kind="on_policy",
        run={},
        seeds=(0, 1, 2),
        report=ReportSpec(task="reacher-hard", arm="mosim", steps=(20000,), control="control"),
    )
    control = Experiment(
        name="ctl",
        kind="on_policy",
        run={},
        seeds=(0, 1, 2),
        report=ReportSpec(task="reacher-hard", arm="control", steps=(20000,)),
    )
    for seed, ours, theirs in [(0, 900.0, 400.0), (1, 300.0, 500.0), (2, 800.0, None)]:
        _seed_file(tmp_path, "mosim", seed, [(20000, ours)])
        if theirs is not None:  # the control's seed 2 has not run: seed 2 is left out
            _seed_file(tmp_path, "ctl", seed, [(20000, theirs)])
    rows = headline_rows([arm, control], tmp_path)
    (row,) = paired_rows([arm, control], rows)
    assert row["seeds"] == [0, 1] and row["per_seed"] == [500.0, -200.0]
    assert row["mean"] == pytest.approx(150.0) and row["seeds_ahead"] == 1
    assert row["ci95"][0] <= 150.0 <= row["ci95"][1]
    assert "| mosim - control | 20,000 | 2 | 150.0 |" in paired_markdown([row])


def test_a_seed_is_run_by_one_process_at_a_time(tmp_path):
    import os
    import subprocess
    import sys

    from mosim_ray.experiments.runner import SeedBusy, run_seed, seed_lock

    exp = Experiment(name="arm", kind="real_sac", run={}, seeds=(0,))
    folder = tmp_path / "work" / "arm" / "seed0"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from mosim_ray.experiments.runner import seed_lock\n"
            f"with seed_lock(Path({str(folder)!r}), 'x'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(
            SeedBusy, match=f"arm seed 0 is being run by another process .pid {holder.pid}"
        ):
            run_seed(exp, 0, results=tmp_path / "results", work=tmp_path / "work")
    finally:
        holder.kill()
        holder.wait()
    with seed_lock(folder, "arm seed 0"):  # let go of when its process ended
        pass


def test_provenance_tells_result_files_written_beside_a_run_from_changed_code(tmp_path):
    from mosim_ray.runs.provenance import git_state

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "seed0.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    clean = git_state(tmp_path)
    assert clean["dirty"] is False and clean["dirty_code"] is False and len(clean["sha"]) == 40
    (tmp_path / "benchmarks" / "results" / "seed0.json").write_text('{"curve": []}')
    beside = git_state(tmp_path)  # another run's partial file landed
    assert beside["dirty"] and not beside["dirty_code"]
    assert beside["dirty_paths"] == ["benchmarks/results/seed0.json"]
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path)["dirty_code"] is True


def test_an_arms_curve_says_how_many_seeds_each_count_holds():
    from mosim_ray.experiments.report_plot import arm_curve

    def seed(returns):
        return {
            "curve": [{"real_steps": 10000 * i, "return_mean": r} for i, r in enumerate(returns)]
        }

    # seed 1 ran ahead to 30k: its last point is its own, not the arm's
    points = arm_curve([seed([0.0, 10.0, 30.0]), seed([2.0, 20.0, 50.0, 90.0])])
    assert [p["real_steps"] for p in points] == [0, 10000, 20000, 30000]
    assert [p["n"] for p in points] == [2, 2, 2, 1]
    assert points[1]["mean"] == 15.0 and points[1]["lo"] <= 15.0 <= points[1]["hi"]
    assert points[3]["mean"] == points[3]["lo"] == points[3]["hi"] == 90.0


def test_the_horizon_plot_draws_only_points_with_seeds(tmp_path):
    from mosim_ray.experiments.report_plot import plot_horizon

    def row(value, per_seed):
        n = len(per_seed)
        mean = sum(per_seed) / n if n else None
        return {
            "task": "reacher-easy",
            "arm": "zero_shot",
            "value": value,
            "real_steps": 20000 if n else None,
            "n_seeds": n,
            "per_seed": per_seed,
            "mean": mean,
            "ci95": [min(per_seed), max(per_seed)] if n else [None, None],
            "paper": {"needed": 30, "reached": 30},
        }

    empty = tmp_path / "empty.png"
    plot_horizon([row(10, [])], empty)
    assert not empty.exists()  # nothing run yet: no empty figure
    drawn = tmp_path / "horizon.png"
    plot_horizon([row(10, [300.0, 400.0]), row(30, []), row(100, [800.0])], drawn)
    assert drawn.stat().st_size > 10_000


def test_where_a_seeds_time_went_is_tabled_from_its_seconds(tmp_path):
    from mosim_ray.experiments.report_time import seed_time_markdown, seed_time_rows

    exp = Experiment(name="arm", kind="on_policy", run={}, seeds=(0, 1))
    exps = [exp, Experiment(name="old", kind="on_policy", run={}, seeds=(0,))]
    _seed_file(tmp_path, "arm", 0, [(10000, 1.0), (40000, 2.0)])
    _seed_file(tmp_path, "arm", 1, [(10000, 1.0), (40000, 2.0)])
    _seed_file(tmp_path, "old", 0, [(10000, 1.0)])  # no seconds recorded: no row
    for seed, wall in ((0, 3000.0), (1, 2000.0)):
        path = tmp_path / "arm" / f"seed{seed}.json"
        seconds = {"policy_updates": 1500.0, "model_training": 2500.0, "waiting": 100.0}
        seconds |= {"evaluation": 200.0, "wall": wall, "driver_cpu": 2400.0, "trainer_cpu": 2600.0}
        path.write_text(json.dumps({**json.loads(path.read_text()), "seconds": seconds}))
    (row,) = seed_time_rows(exps, tmp_path)
    assert row["seeds"] == [0, 1] and row["real_steps"] == 30000 and row["wall"] == 2500.0
    # the trainer's training runs beside the driver: not part of what the driver timed
    assert row["untimed"] == 2500.0 - 1800.0 and row["saving"] is None
    assert row["real_steps_per_s"] == pytest.approx((10.0 + 15.0) / 2)
    assert row["driver_cpu"] == 2400.0
    table = seed_time_markdown([row])
    assert "| `arm` | 0,1 | 30,000 | 2,500 | 1,500 | 2,500 | 100 | n/a |" in table
    # resumed from a save made before runs kept a clock: its wall is unknown, not short
    path = tmp_path / "arm" / "seed1.json"
    data = json.loads(path.read_text())
    data["seconds"]["wall"], data["segments"], data["wall_s"] = math.nan, [{}, {}], 900.0
    path.write_text(json.dumps(data))
    (resumed,) = seed_time_rows(exps, tmp_path)
    assert resumed["wall"] is None and resumed["untimed"] is None
    assert resumed["policy_updates"] == 1500.0
