"""cluster.yaml passes Ray's own cluster-config validation (the schema `ray up` applies)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _validate(config: dict) -> dict:
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = prepare_config(config)
    validate_config(config)
    return config


def test_cluster_yaml_is_a_valid_aws_cluster():
    config = _validate(yaml.safe_load((ROOT / "cluster.yaml").read_text()))
    assert config["provider"]["type"] == "aws"
    types = config["available_node_types"]
    assert types["cpu_worker"]["max_workers"] > 0 and types["cpu_worker"]["min_workers"] == 0
    assert "trainer" in types["gpu_worker"]["resources"]
    assert any("pip install" in c and "-e ." in c for c in config["setup_commands"])
    # the user's own checkout reaches every node, without its venv, data or runs
    assert config["file_mounts"] == {"~/mosim_ray": "."}
    assert {".venv", "data", "runs"} <= set(config["rsync_exclude"])
    assert not any("git clone" in c for c in config["setup_commands"])
    assert all("cd ~/mosim_ray" in c for c in config["setup_commands"] if "pip install" in c)


def test_validation_rejects_a_misspelt_field():
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    config["available_node_types"]["head"]["node_confg"] = config["available_node_types"][
        "head"
    ].pop("node_config")
    with pytest.raises(Exception, match="node_config"):
        _validate(config)
