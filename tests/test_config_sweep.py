"""Sweep files: YAML -> frozen dataclasses with clear errors; the smoke sweep end to end."""

import dataclasses
from pathlib import Path

import pytest

from mosim_ray.config import ConfigError, overlay
from mosim_ray.runs.zero_shot import ZeroShotConfig
from mosim_ray.tune.sweep_config import check_space, load_sweep, with_params


def test_shipped_sweep_files_load_with_and_without_smoke():
    full = load_sweep("tune_configs/zero_shot_horizon.yaml")
    smoke = load_sweep("tune_configs/zero_shot_horizon.yaml", smoke=True)
    assert full.search_space["time_limit"]["grid"] == [25, 50, 100, 200]
    assert smoke.search_space["time_limit"]["grid"] == [25, 50]
    assert smoke.run.imagined_steps < full.run.imagined_steps
    assert smoke.run.task == full.run.task  # the overlay changes only what it names


@pytest.mark.parametrize(
    "text, message",
    [
        ("run: {horizon: 5}", "unknown settings \\['horizon'\\]"),
        ("search_space: {nope: {grid: [1]}}", "not a field"),
        ("search_space: {time_limit: [1, 2]}", "must be one of"),
        ("mode: maximum", "mode must be"),
        ("kind: few_shoot", "unknown run kind"),
        ("metrics: x", "unknown keys"),
    ],
)
def test_bad_sweep_files_fail_clearly(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_sweep(path)


def test_overlay_and_params():
    assert overlay({"run": {"a": 1, "b": 2}}, {"run.b": 3}) == {"run": {"a": 1, "b": 3}}
    run = with_params(ZeroShotConfig(), {"time_limit": 25, "overrides.gamma": 0.95})
    assert run.time_limit == 25 and run.overrides == {"gamma": 0.95}
    assert with_params(run, {"eval.every": 50}).eval.every == 50
    with pytest.raises(ConfigError, match="unknown settings"):
        with_params(ZeroShotConfig(), {"nope": 1})


# --- every sweep file, the schedule and model kinds -----------------------------------------------
SWEEP_FILES = sorted(Path("tune_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SWEEP_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("smoke", [False, True], ids=["full", "smoke"])
def test_every_sweep_file_loads_and_every_value_makes_a_valid_run(path, smoke):
    sweep = load_sweep(path, smoke=smoke)
    check_space(sweep)  # each grid/choice value and range end builds a valid run
    assert sweep.search_space and sweep.metric and sweep.mode in ("max", "min")
    if smoke:  # a fresh clone has no data/ or runs/: the smoke overlay must not need them
        paths = list(_strings(dataclasses.asdict(sweep.run)))
        assert not [p for p in paths if p.startswith(("data/", "runs/"))], paths


def _strings(tree):
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _strings(v)
    elif isinstance(tree, str):
        yield tree


def test_all_four_sweep_files_are_shipped():
    assert {p.stem for p in SWEEP_FILES} >= {
        "zero_shot_horizon",
        "few_shot_schedule",
        "on_policy_branch",
        "model",
    }
    kinds = {load_sweep(p).run_kind for p in SWEEP_FILES}
    assert kinds >= {"zero_shot", "few_shot", "on_policy", "train"}


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "kind: train\nrun: {data: d}\nsearch_space: {model.method: {grid: [rk4, rk5]}}",
            "unknown ODE method 'rk5'",
        ),
        ("kind: train\nrun: {data: d}\nsearch_space: {model.size: {choice: [tiny]}}", "model size"),
        ("kind: train\nrun: {data: d, judge: {test_share: 0.95}}", "test_share"),
        (
            "kind: train\nrun: {data: d}\nmetric: mse_h100\nsearch_space: {model.size: {grid: [small]}}",
            "not metric 'mse_h100'",
        ),
        (
            "kind: few_shot\nrun: {data: d}\nsearch_space: {on_policy.brnach_length: {grid: [1]}}",
            "brnach_length",
        ),
        (
            "kind: on_policy\nsearch_space: {on_policy.branch_length: {grid: [0, 1]}}",
            "branch_length",
        ),
    ],
)
def test_bad_values_in_the_search_space_fail_before_any_trial(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        check_space(load_sweep(path))


def test_prepare_checks_inputs_and_makes_paths_absolute(tmp_path):
    from mosim_ray.tune.run import prepare

    full = load_sweep("tune_configs/few_shot_schedule.yaml")
    missing = dataclasses.replace(full, run=with_params(full.run, {"data": str(tmp_path / "no")}))
    with pytest.raises(ValueError, match="--data: no such file or folder"):
        prepare(missing)
    here = with_params(full.run, {"data": "tune_configs", "penalty.density": None})
    prepared = prepare(dataclasses.replace(full, run=here))
    assert Path(prepared.run.data).is_absolute() and Path(prepared.run.data).is_dir()


def test_a_sweep_run_can_be_a_pipeline_run_file_with_changes(tmp_path):
    sweep = load_sweep("tune_configs/on_policy_branch.yaml")
    assert sweep.run.trainer.steps_per_update == 20  # from configs/on_policy.yaml
    assert sweep.run.data == "data/reacher-easy" and sweep.run.env_runners == 1  # the changes


def test_write_table_best_first_for_either_mode_and_any_columns(tmp_path):
    from mosim_ray.tune.tables import write_table

    rows = [
        {"trial": "a", "size": "small", "mse_h16": 0.5, "updates": 10, "status": "ok"},
        {"trial": "b", "size": "medium", "mse_h16": 0.01, "updates": 12, "status": "ok"},
        {"trial": "c", "size": "medium", "mse_h16": None, "status": "error"},
    ]
    md = write_table(rows, ["size"], "mse_h16", tmp_path / "t", ["updates"], mode="min")
    lines = md.splitlines()
    assert lines[0] == "| trial | size | mse_h16 | updates | status |"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| b", "| a", "| c"]
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "trial,size,mse_h16,updates,status"


def test_train_kind_reports_during_training_and_at_the_end(small_data, tmp_path):
    from mosim_ray.runs.train_model import Architecture, Judgement, TrainModelConfig
    from mosim_ray.train.config import TrainConfig

    # a wall budget far above what 100 updates need, so the update budget binds on a busy machine;
    # intermediate reports every minutes * 60 / reports = 0.2 s
    config = TrainModelConfig(
        data=small_data,
        model=Architecture(method="euler"),
        training=TrainConfig(horizon=4, minutes=10.0, max_updates=100, batch_size=16),
        judge=Judgement(horizon=4, segments=16, reports=3000),
        threads=1,
    )
    from mosim_ray.runs.train_model import run

    reports = []
    result = run(config, tmp_path / "trial", report=reports.append)
    assert len(reports) >= 2 and reports[-1]["final"]
    assert not any(r["final"] for r in reports[:-1])
    assert reports[-1]["mse_h4"] == result["mse_h4"]
    assert result["updates"] == 100 and result["segments"] == 16
    assert result["mse_h4"] > 0 and result["finite_share_h4"] == 1.0
    assert result["episodes"] == {"train": 1, "val": 1, "test": 1}
    assert (tmp_path / "trial" / "model" / "config.json").is_file()


@pytest.fixture
def small_data(tmp_path):
    from mosim_ray.data import EpisodeCollector
    from mosim_ray.data.shards import shard_name

    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    return str(data)


@pytest.mark.ray
def test_schedule_trials_reserve_their_runners_and_the_smoke_fits_two_cores(ray_local):
    from mosim_ray.runs.schedule import trial_resources

    for name in ("few_shot_schedule", "on_policy_branch"):
        smoke = load_sweep(f"tune_configs/{name}.yaml", smoke=True)
        bundles = trial_resources(smoke.run, smoke.cpus_per_trial, 0).bundles
        assert bundles[0] == {"CPU": 1.0}  # the trial's own process: driver and learner
        assert sum(b["CPU"] for b in bundles) <= 2  # one trial at a time on the 2-core laptop
        full = load_sweep(f"tune_configs/{name}.yaml")
        run = with_params(full.run, {"on_policy.branch_length": 2})
        bundles = trial_resources(run, full.cpus_per_trial, 0).bundles
        assert bundles[1]["CPU"] == 1.0  # the env runner, reserved with the trial


def test_zero_shot_trials_resolve_the_world_model_as_the_pipeline_does(tmp_path):
    """A zero-shot sweep on reacher-hard names no checkpoint: its trials take the shipped model
    of the same robot (reacher-easy's), as pipelines/zero_shot.py does."""
    from mosim_ray.runs.zero_shot import check, world_model

    sweep = load_sweep("tune_configs/zero_shot_horizon.yaml", smoke=True)
    run = with_params(sweep.run, {"task": "reacher-hard"})
    check(run)
    checkpoint, real_steps = world_model(run, tmp_path, progress=False)
    assert Path(checkpoint).name == "reacher-easy" and real_steps > 0


def test_a_trial_with_a_save_of_its_run_resumes_from_it(tmp_path):
    """A retried trial, or one of a sweep restored with --resume, goes on from its run's save."""
    from mosim_ray.tune.run import trial_config

    sweep = load_sweep("tune_configs/on_policy_branch.yaml", smoke=True)
    params = {"on_policy.branch_length": 2}
    fresh = trial_config(sweep.run, params, threads=1, out=tmp_path)
    assert not fresh.resume and fresh.on_policy.branch_length == 2 and fresh.threads == 1
    (tmp_path / "checkpoint").mkdir()
    assert trial_config(sweep.run, params, threads=1, out=tmp_path).resume
