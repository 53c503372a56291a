"""The shipped checkpoints: small, load by name on CPU, and predict real MuJoCo far better than the
constant-state floor on fresh real data they never saw."""

import json

import numpy as np
import pytest

from mosim_ray import WorldModel
from mosim_ray.data import EpisodeCollector, ProcessConfig
from mosim_ray.model.world_model import PRETRAINED_DIR

SHIPPED = sorted(json.loads((PRETRAINED_DIR / "manifest.json").read_text()))


def test_shipped_models_are_small():
    total = sum(f.stat().st_size for f in PRETRAINED_DIR.rglob("*") if f.is_file())
    assert total < 5e6, f"shipped checkpoints take {total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_predicts_fresh_real_data(name):
    wm = WorldModel.load(f"pretrained/{name}")
    task = name.removesuffix("-structure_free")
    assert wm.task == task
    assert wm.config.kind == ("structure_free" if name != task else "mosim")
    # fresh episodes (seed 12345 was not used for training data), random Poisson actions
    eps = EpisodeCollector(task, 140, ProcessConfig("poisson")).collect([0, 1, 2, 3], seed=12345)
    states = np.stack([np.hstack([e["qpos"], e["qvel"]]) for e in eps])  # [4, 141, D]
    actions = np.stack([e["action"][:-1] for e in eps])
    s0, a, truth = states[:, 40], actions[:, 40:56], states[:, 41:57]  # H = 16 after 40 steps
    pred = wm.rollout(s0, a)
    model_mse = ((pred - truth) ** 2).mean()
    constant_mse = ((truth - s0[:, None]) ** 2).mean()
    assert np.isfinite(pred).all()
    # hopper's and walker's ground impacts, which neither model captures well, leave them a
    # narrower margin here (hopper about 0.4 of constant-state in this window, walker 0.2-0.26;
    # hopper about 0.05 on the 600-step sets, §2.2)
    bar = {"hopper-hop": 0.5, "walker-walk": 0.5}.get(task, 0.05)
    assert model_mse < bar * constant_mse, (model_mse, constant_mse)


def test_a_task_without_its_own_model_falls_back_to_its_robots_mosim_model():
    from mosim_ray.model.world_model import shipped_model

    assert shipped_model("reacher-hard") == "pretrained/reacher-easy"  # not the baseline
    assert shipped_model("cheetah-run") == "pretrained/cheetah-run"
    with pytest.raises(ValueError, match="no shipped model"):
        shipped_model("humanoid-walk")


def test_shipped_models_are_the_manifests():
    """Each shipped folder is seed 0 of the equal-budget experiment its manifest entry names,
    byte for byte (``benchmarks/ship_pretrained.py --check``)."""
    import importlib.util

    from mosim_ray.model.world_model import PRETRAINED_DIR as shipped_dir

    path = shipped_dir.parents[1] / "benchmarks" / "ship_pretrained.py"
    spec = importlib.util.spec_from_file_location("ship_pretrained", path)
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    assert ship.check() == []
