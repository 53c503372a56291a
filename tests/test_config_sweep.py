"""Sweep files: YAML -> frozen dataclasses with clear errors; the smoke sweep end to end."""

import json

import pytest

from mosim_ray.config import ConfigError, ZeroShotRun, load_sweep, overlay, with_params


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
        ("run: {horizon: 5}", "unknown keys \\['horizon'\\]"),
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
    run = with_params(ZeroShotRun(), {"time_limit": 25, "overrides.gamma": 0.95})
    assert run.time_limit == 25 and run.overrides == {"gamma": 0.95}
    with pytest.raises(TypeError):
        with_params(ZeroShotRun(), {"nope": 1})


@pytest.mark.ray
def test_smoke_sweep_finishes_two_trials_with_table_and_plot(tmp_path):
    from test_pipelines import run

    r = run(
        "pipelines/sweep.py",
        *("--config", "tune_configs/zero_shot_horizon.yaml", "--smoke"),
        *("--storage", str(tmp_path)),
        timeout=400,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "zero_shot_horizon-smoke"
    summary = json.loads((out / "summary.json").read_text())
    done = [t for t in summary["trials"] if t["real_return_mean"] is not None]
    assert len(done) == 2 and {t["time_limit"] for t in done} == {25, 50}
    assert (out / "trials.md").read_text().count("\n") == 4  # header, rule, two trials
    assert (out / "trials.png").stat().st_size > 0 and (out / "trials.csv").is_file()
