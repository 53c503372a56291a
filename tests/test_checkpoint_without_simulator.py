"""A checkpoint carries its task spec: loading and predicting needs no MuJoCo, dm_control or Ray.

Import blocking runs in a fresh interpreter (``sys.executable -c``), so modules this test process
has already imported cannot hide a dependency.
"""

import json
import math
import subprocess
import sys
import textwrap

import pytest

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
