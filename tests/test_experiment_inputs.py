"""An experiment's input may be another experiment's run of the same seed: the generalisation
benchmarks judge the equal-budget models that way (real tiny training and benchmark runs), and
the report's generalisation table reads their figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mosim_ray.config import ConfigError
from mosim_ray.experiments.spec import Experiment, ReportSpec, load_experiment

ROOT = Path(__file__).resolve().parents[1]

MODEL = """
kind: train
run: {task: reacher-easy, data: "{data}", threads: 1,
      training: {horizon: 4, batch_size: 16, max_updates: 3}, judge: {horizon: 4, segments: 8}}
seeds: [0]
seed_field: training.seed
inputs:
  data: {kind: collect, run: {task: reacher-easy, episodes: 3, steps: 40, actors: 1}}
"""


def judge(data_dir: Path, inputs: str) -> str:
    return f"""
kind: benchmark
run: {{task: reacher-easy, baselines: {{again: "{{again}}"}}, test_sets: [poisson, ou],
      horizons: [2, 4], segments: 8, episodes: 2, steps: 30, burn_in: 5, threads: 1,
      data_dir: {data_dir}}}
seeds: [0]
seed_field: ""
inputs:
{inputs}
report: {{task: reacher-easy, arm: mosim, table: generalisation, figures: [failed_h4, mse_h4]}}
"""


BOTH = """  checkpoint: {kind: experiment, run: {name: model}, output: model}
  again: {kind: experiment, run: {name: model}, output: model, field: ""}"""


def test_an_experiment_input_names_an_experiment_beside_it(tmp_path):
    (tmp_path / "model.yaml").write_text(MODEL)
    (tmp_path / "judge.yaml").write_text(judge(tmp_path, BOTH))
    exp = load_experiment(tmp_path / "judge.yaml")
    assert exp.inputs["checkpoint"].experiment == "model"
    assert exp.folder == str(tmp_path)
    (tmp_path / "bad.yaml").write_text(judge(tmp_path, BOTH.replace("name: model}", "name: nope}")))
    with pytest.raises(ConfigError, match="no experiment"):
        load_experiment(tmp_path / "bad.yaml")
    pinned = BOTH.replace("{name: model}", "{name: model, seed: 3}")
    (tmp_path / "pinned.yaml").write_text(judge(tmp_path, pinned))
    assert load_experiment(tmp_path / "pinned.yaml").inputs["again"].experiment_seed(0) == 3
    assert exp.inputs["again"].experiment_seed(5) == 5
    for extra in ("{name: model, seeds: 3}", "{name: model, seed: -1}", "{name: model, seed: x}"):
        (tmp_path / "bad.yaml").write_text(judge(tmp_path, BOTH.replace("{name: model}", extra)))
        with pytest.raises(ConfigError, match="an experiment input's run is"):
            load_experiment(tmp_path / "bad.yaml")
    (tmp_path / "model.yaml").write_text(MODEL + "grid: {field: threads, values: [1, 2]}\n")
    (tmp_path / "bad.yaml").write_text(judge(tmp_path, BOTH))
    with pytest.raises(ConfigError, match="has a grid"):
        load_experiment(tmp_path / "bad.yaml")


@pytest.mark.ray
def test_a_benchmark_judges_another_experiments_model_of_the_same_seed(
    ray_local, tmp_path, monkeypatch
):
    from mosim_ray.experiments.report_prediction import (
        generalisation_markdown,
        generalisation_rows,
    )
    from mosim_ray.experiments.runner import load_seed_files, run_seed, seed_file

    monkeypatch.chdir(ROOT)
    (tmp_path / "model.yaml").write_text(MODEL)
    (tmp_path / "judge.yaml").write_text(judge(tmp_path / "test_sets", BOTH))
    exp = load_experiment(tmp_path / "judge.yaml")
    results, work = tmp_path / "results", tmp_path / "work"
    run_seed(exp, 0, results=results, work=work)
    (model,) = load_seed_files("model", results)  # the model's seed ran first, on its own
    assert model["settings"]["training"]["max_updates"] == 3
    (saved,) = load_seed_files("judge", results)
    run = (work / "model" / "seed0" / "run").resolve()
    assert saved["inputs"]["checkpoint"]["path"] == str(run / "model")
    assert saved["inputs"]["again"]["sha256"] == saved["inputs"]["checkpoint"]["sha256"]
    figures = saved["figures"]
    for test_set in ("poisson", "ou"):
        # the same model under two names: the same errors, on both test sets
        assert figures[f"{test_set}/again/mse_h4"] == figures[f"{test_set}/mosim/mse_h4"]
        assert figures[f"{test_set}/constant/mse_h4"] != figures[f"{test_set}/mosim/mse_h4"]
    assert figures["ou/mosim/mse_h4"] != figures["poisson/mosim/mse_h4"]  # different actions
    assert (tmp_path / "test_sets" / "ou").is_dir() and (tmp_path / "test_sets" / "random").is_dir()

    # an input pinned to seed 0 of the model is that run for seed 1 too
    pinned = BOTH.replace(
        "{name: model}, output: model, field", "{name: model, seed: 0}, output: model, field"
    )
    (tmp_path / "pinned.yaml").write_text(judge(tmp_path / "test_sets", pinned))
    run_seed(load_experiment(tmp_path / "pinned.yaml"), 1, results=results, work=work)
    (one,) = load_seed_files("pinned", results)
    assert one["inputs"]["again"]["path"] == str(run / "model")
    assert one["inputs"]["checkpoint"]["path"] == str(
        (work / "model" / "seed1" / "run" / "model").resolve()
    )
    assert one["inputs"]["again"]["sha256"] != one["inputs"]["checkpoint"]["sha256"]

    rows = generalisation_rows([exp], results)
    assert [(r["test_set"], r["model"]) for r in rows] == [
        (s, m) for s in ("poisson", "ou") for m in ("mosim", "again", "constant")
    ]
    assert rows[0]["mse_h4"]["mean"] == pytest.approx(figures["poisson/mosim/mse_h4"], rel=1e-3)

    # judged again, the model is not trained again; a model whose run is gone says so
    made = seed_file(load_experiment(tmp_path / "model.yaml"), 0, results).stat().st_mtime_ns
    seed_file(exp, 0, results).unlink()
    run_seed(exp, 0, results=results, work=work)
    assert (
        seed_file(load_experiment(tmp_path / "model.yaml"), 0, results).stat().st_mtime_ns == made
    )
    assert "mosim" in generalisation_markdown(rows, ("failed_h4", "mse_h4"))
    (run / "result.json").unlink()
    seed_file(exp, 0, results).unlink()
    with pytest.raises(FileNotFoundError, match="not on this machine"):
        run_seed(exp, 0, results=results, work=work)
    # a training stopped after a save goes on in its folder from there, never starts again
    model = load_experiment(tmp_path / "model.yaml")
    assert (run / "trainer_state.pt").is_file()
    seed_file(model, 0, results).unlink()
    (run / "kept").write_text("a file of the stopped run")
    run_seed(model, 0, results=results, work=work)
    assert (run / "kept").is_file() and (run / "result.json").is_file()
    # and once finished, with its seed file gone, it is left as it is, with a message
    seed_file(model, 0, results).unlink()
    with pytest.raises(FileExistsError, match="has finished"):
        run_seed(model, 0, results=results, work=work)


def test_the_generalisation_table_sets_each_model_beside_structure_free(tmp_path):
    from mosim_ray.experiments.report_prediction import (
        generalisation_markdown,
        generalisation_rows,
    )

    spec = ReportSpec(
        task="cheetah-run", arm="mosim", table="generalisation", figures=("mse_h100",), label="50k"
    )
    exp = Experiment(name="g", kind="benchmark", run={}, seeds=(0, 1), report=spec)
    for seed, (ours, plain) in enumerate(((0.2, 0.1), (0.4, 0.3))):
        figs = {"mse_h100": ours, "ou/mosim/mse_h100": ours, "ou/structure_free/mse_h100": plain}
        path = tmp_path / "g" / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, "figures": figs}))
    rows = generalisation_rows([exp], tmp_path)
    assert [r["model"] for r in rows] == ["mosim", "structure_free"]
    lines = generalisation_markdown(rows, ("mse_h100",)).splitlines()
    assert lines[2] == "| cheetah-run | 50k | ou | mosim | 2 | 0.3 ± 0.1 | 1.50x |"
    assert lines[3] == "| cheetah-run | 50k | ou | structure_free | 2 | 0.2 ± 0.1 | 1.00x |"


def test_the_runner_says_a_finished_seeds_outcome_in_a_line():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import outcome

    curve = {"final": {"real_steps": 20000, "return_mean": 263.32, "return_std": 1.0}}
    assert outcome(curve) == "return 263.3 at 20,000 real steps"
    model = {"final": {}, "figures": {"mse_h16": 0.00144, "failed_h16": 0.0, "ou/x/mse_h16": 1.0}}
    assert outcome(model) == "mse_h16 0.00144"
    assert outcome({"final": {}, "figures": {}}) == "done"
