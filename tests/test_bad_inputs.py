"""Bad inputs, tried as a new user would: each ends with one line on stderr and exit code 2,
never a traceback, and before any Ray or training starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.shards import shard_name
from mosim_ray.runs.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Good and bad data folders, made once."""
    root = tmp_path_factory.mktemp("inputs")
    good, other = root / "reacher", root / "cheetah"
    EpisodeCollector("reacher-easy", 20).write_shard(good / shard_name(0), [0, 1, 2], seed=0)
    EpisodeCollector("cheetah-run", 20).write_shard(other / shard_name(0), [0], seed=0)
    corrupt, empty, mixed = root / "corrupt", root / "empty", root / "mixed"
    corrupt.mkdir()
    (corrupt / shard_name(0)).write_bytes(b"PAR1 not really a parquet file")
    empty.mkdir()
    mixed.mkdir()
    for i, src in enumerate((good, other)):
        (mixed / shard_name(i)).write_bytes((src / shard_name(0)).read_bytes())
    return {"good": good, "corrupt": corrupt, "empty": empty, "mixed": mixed, "root": root}


BAD = [
    ("collect", ["--episodes", "-3"], "episodes >= 1"),
    ("collect", ["--task", "cheetah-walk"], "unknown task 'cheetah-walk'"),
    ("train", ["--data", "{corrupt}"], "shard-00000.parquet"),
    ("train", ["--data", "{empty}"], "no shards"),
    ("train", ["--data", "{mixed}"], "cheetah-run"),
    ("train", ["--task", "cheetah-run", "--data", "{good}"], "holds 'reacher-easy' data"),
    ("train", [], "train needs --data"),
    ("evaluate", ["--checkpoint", "{root}/no-model", "--data", "{good}"], "--checkpoint"),
    ("zero_shot", ["--checkpoint", "{root}/no-model"], "--checkpoint: no such file"),
    ("zero_shot", ["--task", "cheetah-run", "--checkpoint", "pretrained/reacher-easy"], "robot"),
    ("zero_shot", ["--set", "no_equals_sign"], "KEY=VALUE"),
    ("zero_shot", ["--set", "eval.evry=5"], "unknown settings ['evry']"),
    ("zero_shot", ["--config", "{root}/nope.yaml"], "no such config file"),
    ("few_shot", [], "--data DIR"),
    ("on_policy", ["--on-policy.branch-from", "replay"], "branch_from must be one of"),
    ("on_policy", ["--set", "trainer.lr=fast"], "trainer.lr must be a number"),
    ("fit_density", ["--data", "{empty}"], "no shards"),
]


@pytest.mark.parametrize("kind, args, message", BAD, ids=[f"{k}:{m}" for k, _, m in BAD])
def test_bad_input_is_one_line_and_exit_code_2(kind, args, message, folders, tmp_path, capsys):
    argv = [a.format(**folders) for a in args] + ["--out", str(tmp_path / "out"), "--no-progress"]
    code = main(kind, argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err and not (tmp_path / "out" / "result.json").exists()


def test_a_flag_of_the_wrong_type_is_argparse_usage_and_exit_code_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main("zero_shot", ["--eval.every", "often"])
    assert stop.value.code == 2
    assert "invalid int value: 'often'" in capsys.readouterr().err


def test_help_lists_every_setting_with_its_docstring(capsys):
    with pytest.raises(SystemExit):
        main("on_policy", ["--help"])
    out = capsys.readouterr().out
    assert "--config" in out and "--on-policy.branch-length" in out
    assert "imagined steps per branch from a real state" in out
    assert "overrides" in out  # a dict setting, reached with --set


def test_print_config_is_the_yaml_a_run_file_takes(tmp_path, capsys):
    run_file = str(ROOT / "configs" / "on_policy.yaml")
    assert main("on_policy", ["--config", run_file, "--print-config"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "run.yaml"
    path.write_text(text)
    assert main("on_policy", ["--config", str(path), "--print-config"]) == 0
    assert capsys.readouterr().out == text
    assert "steps_per_update: 20" in text
