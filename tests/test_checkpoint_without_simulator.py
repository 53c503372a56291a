"""A checkpoint carries its task spec: loading and predicting needs no MuJoCo, dm_control or Ray.

Import blocking runs in a fresh interpreter (``sys.executable -c``), so modules this test process
has already imported cannot hide a dependency.
"""

import hashlib
import json
import math
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mosim_ray import WorldModel
from mosim_ray.model import CheckpointError
from mosim_ray.model.upgrade_checkpoint import upgrade_checkpoint
from mosim_ray.model.world_model import PRETRAINED_DIR
from mosim_ray.tasks import TaskSpec, get_spec

SIMULATOR = ("mujoco", "dm_control", "ray")

# Installed first in the child: any import of a blocked top-level package (or a submodule) fails.
_BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked in this test")
        return None
sys.meta_path.insert(0, Refuse())
for name in BLOCKED:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(f"blocker failed: {{name}} imported")
"""


def run_blocked(code: str, blocked: tuple[str, ...]) -> str:
    """Run ``code`` in a fresh Python with ``blocked`` packages refused; returns its stdout."""
    script = _BLOCKER.format(blocked=blocked) + textwrap.dedent(code)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# --- TaskSpec as JSON --------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["reacher-easy", "quadruped-walk"])
def test_spec_json_round_trip(task):
    spec = get_spec(task)
    text = json.dumps(spec.to_json(), allow_nan=False)
    back = TaskSpec.from_json(json.loads(text))
    assert back == spec
    assert isinstance(back.obs_keys, tuple) and all(isinstance(k, tuple) for k in back.obs_keys)
    assert isinstance(back.qpos_kinds, tuple) and isinstance(back.action_low, tuple)


def test_spec_json_unbounded_actions_and_bad_fields():
    spec = TaskSpec(
        name="mjcf:arm.xml",
        nq=2,
        nv=2,
        nu=2,
        control_dt=0.002,
        physics_dt=0.002,
        integrator="euler",
        action_low=(-math.inf, -1.0),
        action_high=(math.inf, 1.0),
        qpos_kinds=("hinge", "slide"),
        has_reward=False,
    )
    d = json.loads(json.dumps(spec.to_json(), allow_nan=False))  # strict JSON: no Infinity
    assert d["action_low"] == [None, -1.0]
    assert TaskSpec.from_json(d) == spec
    with pytest.raises(ValueError, match=r"missing fields \['nq'\], unknown fields \['nqq'\]"):
        TaskSpec.from_json({**{k: v for k, v in d.items() if k != "nq"}, "nqq": 2})


def test_task_spec_imports_without_simulator():
    out = run_blocked(
        """
        import sys
        import mosim_ray.tasks.spec
        from mosim_ray.tasks import TaskSpec, QUAT, get_spec, task_names
        assert "reacher-easy" in task_names()
        try:
            get_spec("reacher-easy")
        except ImportError as e:
            print("refused:", e)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("mujoco", "dm_control")))
        """,
        SIMULATOR,
    )
    assert "refused:" in out and out.strip().endswith("[]")


# --- checkpoints without a simulator -----------------------------------------------------------
def test_shipped_models_load_and_predict_without_simulator():
    out = run_blocked(
        """
        import sys

        import numpy as np
        from mosim_ray import WorldModel
        from mosim_ray.model.world_model import PRETRAINED_DIR

        names = sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "config.json").is_file())
        assert names, "no shipped models"
        for name in names:
            wm = WorldModel.load(f"pretrained/{name}")
            d, u = wm.spec.state_dim, wm.spec.nu
            rng = np.random.default_rng(0)
            pred = wm.rollout(rng.normal(0, 0.1, (3, d)), rng.uniform(-1, 1, (3, 7, u)))
            assert pred.shape == (3, 7, d) and np.isfinite(pred).all(), name
            nxt = wm.step(rng.normal(0, 0.1, (2, d)), rng.uniform(-1, 1, (2, u)))
            assert nxt.shape == (2, d) and np.isfinite(nxt).all(), name
            print("ok", name)
        assert "mosim_ray.model.density" not in sys.modules  # the flow is off the load path
        for blocked in ("mujoco", "dm_control", "ray", "dm_control.suite"):
            try:
                __import__(blocked)
            except ImportError:
                print("refused", blocked)
        """,
        SIMULATOR,
    )
    for p in PRETRAINED_DIR.iterdir():
        if (p / "config.json").is_file():
            assert f"ok {p.name}" in out
    for blocked in ("mujoco", "dm_control", "ray", "dm_control.suite"):
        assert f"refused {blocked}" in out


_MODEL_MODULES = [
    "actuation",
    "config",
    "density",
    "dynamics",
    "nets",
    "state",
    "upgrade_checkpoint",
    "world_model",
]


@pytest.mark.parametrize(
    "modules, blocked",
    [
        (["mosim_ray", "mosim_ray.model", "mosim_ray.tasks.spec"], SIMULATOR),
        ([f"mosim_ray.model.{m}" for m in _MODEL_MODULES], SIMULATOR),
        (["mosim_ray.config"], ("ray",)),
        (["mosim_ray.data", "mosim_ray.data.reader", "mosim_ray.data.shards"], ("ray",)),
        (["mosim_ray.data.processes", "mosim_ray.data.errors"], ("ray",)),
    ],
)
def test_pure_packages_import_without_blocked(modules, blocked):
    out = run_blocked(
        f"""
        import importlib, sys
        for m in {modules!r}:
            importlib.import_module(m)
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({blocked!r})))
        """,
        blocked,
    )
    assert out.strip().endswith("[]")


def _format_1_copy(tmp_path, name="reacher-easy"):
    """A shipped model as a format-1 checkpoint (no spec): what the upgrade starts from."""
    ck = tmp_path / name
    shutil.copytree(PRETRAINED_DIR / name, ck)
    cfg = json.loads((ck / "config.json").read_text())
    del cfg["spec"]
    cfg["format_version"] = 1
    (ck / "config.json").write_text(json.dumps(cfg, indent=1))
    return ck


def test_format_1_loads_with_mujoco_and_upgrades_to_the_shipped_config(tmp_path):
    ck = _format_1_copy(tmp_path)
    weights = hashlib.sha256((ck / "weights.pt").read_bytes()).hexdigest()
    shipped = WorldModel.load("pretrained/reacher-easy")
    rng = np.random.default_rng(1)
    s, a = rng.normal(0, 0.1, (4, 4)), rng.uniform(-1, 1, (4, 6, 2))
    old = WorldModel.load(ck)
    # without a spec in the checkpoint, MuJoCo gives the one shipped beside the weights: joint
    # ranges, their softness and actuator moments included
    assert old.spec == shipped.spec
    assert old.spec.joint_ranges == ((1, 1, -2.792526803190927, 2.792526803190927),)
    assert old.spec.actuator_moments == ((0, 0.05), (1, 0.05))
    assert len(old.spec.limit_softness) == 1
    np.testing.assert_array_equal(old.rollout(s, a), shipped.rollout(s, a))
    assert upgrade_checkpoint(ck) is True and upgrade_checkpoint(ck) is False
    assert hashlib.sha256((ck / "weights.pt").read_bytes()).hexdigest() == weights
    upgraded = json.loads((ck / "config.json").read_text())
    assert upgraded == json.loads((PRETRAINED_DIR / "reacher-easy" / "config.json").read_text())
    np.testing.assert_array_equal(WorldModel.load(ck).rollout(s, a), shipped.rollout(s, a))


def test_format_1_without_mujoco_says_how_to_upgrade(tmp_path):
    ck = _format_1_copy(tmp_path)
    out = run_blocked(
        f"""
        from mosim_ray import WorldModel
        from mosim_ray.model import CheckpointError
        try:
            WorldModel.load({str(ck)!r})
        except CheckpointError as e:
            print("error:", e)
        """,
        SIMULATOR,
    )
    assert "format-1 checkpoint stores no task spec" in out
    assert f"python -m mosim_ray.model.upgrade_checkpoint {ck}" in out


def test_bad_stored_spec_fails_clearly(tmp_path):
    ck = tmp_path / "ck"
    shutil.copytree(PRETRAINED_DIR / "reacher-easy", ck)
    cfg = json.loads((ck / "config.json").read_text())
    del cfg["spec"]["nq"]
    (ck / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"invalid model config or task spec.*missing fields"):
        WorldModel.load(ck)
    cfg["spec"]["nq"] = 3
    (ck / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"dims .* do not match task reacher-easy"):
        WorldModel.load(ck)
