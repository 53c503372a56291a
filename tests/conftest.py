import os

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "disable")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")


def start_local_ray() -> None:
    import ray

    from mosim_ray.actors.ray_session import quiet_ray

    quiet_ray()
    # "local": a new instance even where a `ray start` cluster (or its leftover address file) is
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray with 2 CPUs, shared by every test that needs one."""
    import ray

    start_local_ray()
    yield ray
    ray.shutdown()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


PENDULUM_XML = """
<mujoco model="pendulum">
  <option timestep="0.01"/>
  <worldbody>
    <body name="pole" pos="0 0 1">
      <joint name="hinge" type="hinge" axis="0 1 0" damping="0.1"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05" mass="1"/>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" ctrlrange="-1 1" ctrllimited="true" gear="2"/></actuator>
</mujoco>
"""


TWO_LINK_ARM_XML = """
<mujoco model="two-link arm">
  <option timestep="0.01" gravity="0 0 -9.81"/>
  <worldbody>
    <body name="upper" pos="0 0 1">
      <joint name="shoulder" type="hinge" axis="0 1 0" damping="0.05"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" mass="1"/>
      <body name="lower" pos="0 0 -0.5">
        <joint name="elbow" type="hinge" axis="0 1 0" damping="0.05"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" mass="1"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="shoulder" ctrlrange="-1 1" ctrllimited="true" gear="3"/>
    <motor joint="elbow" ctrlrange="-1 1" ctrllimited="true" gear="2"/>
  </actuator>
</mujoco>
"""


@pytest.fixture
def two_link_arm_xml(tmp_path):
    path = tmp_path / "arm.xml"
    path.write_text(TWO_LINK_ARM_XML)
    return path


@pytest.fixture
def pendulum_xml(tmp_path):
    path = tmp_path / "pendulum.xml"
    path.write_text(PENDULUM_XML)
    return path


RAY_FIXTURES = {"ray_local", "cluster", "ray_module"}


def pytest_collection_modifyitems(config, items):
    # A test that starts Ray carries the ``ray`` marker, so ``make test-fast`` (-m "not ray")
    # never starts one; a fixture that starts Ray without the marker is an error here, and a
    # pipeline or library call that does is refused at run time (``forbid_unmarked_ray``).
    unmarked = [
        item.nodeid
        for item in items
        if RAY_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("ray") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests use a Ray fixture without @pytest.mark.ray: " + ", ".join(unmarked)
        )
    # The multi-node tests start their own Ray cluster; they run first, before the session's
    # local Ray exists (after it, a restarted env runner on the cluster was seen not to come back).
    items.sort(key=lambda item: 0 if item.module.__name__.endswith("test_multinode") else 1)


@pytest.fixture(autouse=True)
def forbid_unmarked_ray(request, monkeypatch):
    """A test without the ``ray`` marker cannot start Ray, in this process (``start_ray``) or in
    a pipeline it runs (the variable travels to subprocesses)."""
    if request.node.get_closest_marker("ray") is None:
        monkeypatch.setenv("MOSIM_FORBID_RAY", request.node.nodeid)
