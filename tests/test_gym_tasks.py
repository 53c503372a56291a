"""Gymnasium MuJoCo tasks (``gym:<id>``): the simulator's observation, reward and termination of a
transition equal the env's own ``step``; imagined and real envs end episodes as terminated when
the task says so; a user's own registered ``MujocoEnv`` works through its id."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.mujoco import MujocoEnv

# dm_control's MuJoCo warning handler before the plain gym.make below (MuJoCo's default one
# writes MUJOCO_LOG.TXT into the working directory on half_cheetah.xml's deprecated attribute)
import mosim_ray.tasks.physics  # noqa: F401
from mosim_ray.envs import ImaginedVecEnv, RealEnv, ResetPool, task_functions
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.tasks import UnknownTaskError, check_task_name, get_spec, make_simulator


def _real_transitions(env_id: str, steps: int, seed: int = 0):
    """(previous states, states, actions, obs, rewards, terminated) of the real gymnasium env
    under uniform random float64 actions, reset whenever it terminates."""
    env = gym.make(env_id).unwrapped
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    low, high = (b.astype(np.float64) for b in (env.action_space.low, env.action_space.high))
    out = {k: [] for k in ("prev", "state", "action", "obs", "reward", "terminated")}
    for t in range(steps):
        prev, action = env.state_vector().copy(), rng.uniform(low, high)
        obs, reward, terminated, _, _ = env.step(action)
        row = (prev, env.state_vector().copy(), action, obs, reward, terminated)
        for key, value in zip(out, row):
            out[key].append(value)
        if terminated:
            env.reset(seed=seed + t + 1)
    return {k: np.array(v) for k, v in out.items()}


# id: (nq, nv, nu, control dt = frame_skip * timestep, integrator, may terminate)
SPECS = {
    "Hopper-v5": (6, 6, 3, 0.008, "rk4", True),
    "HalfCheetah-v5": (9, 9, 6, 0.05, "euler", False),
    "Walker2d-v5": (9, 9, 6, 0.008, "rk4", True),
    "Ant-v5": (15, 14, 8, 0.05, "rk4", True),
}


@pytest.mark.parametrize("env_id", sorted(SPECS))
def test_spec_is_read_from_the_env(env_id):
    spec, env = get_spec(f"gym:{env_id}"), gym.make(env_id).unwrapped
    nq, nv, nu, dt, integrator, terminates = SPECS[env_id]
    assert (spec.nq, spec.nv, spec.nu, spec.integrator) == (nq, nv, nu, integrator)
    assert spec.control_dt == pytest.approx(dt) and spec.physics_substeps == env.frame_skip
    assert spec.obs_keys == (("observation", env.observation_space.shape[0]),)
    assert spec.has_termination == terminates and spec.has_reward
    assert spec.action_low == tuple(env.action_space.low.tolist())
    assert spec.translation_qpos == ((0, 1) if env_id == "Ant-v5" else (0,))


@pytest.mark.parametrize("env_id", ["Hopper-v5", "HalfCheetah-v5", "Walker2d-v5"])
def test_transition_functions_equal_env_step_bit_for_bit(env_id):
    """Everything these envs' step reads is qpos, qvel and the action: the same numbers."""
    r = _real_transitions(env_id, 300)
    sim = make_simulator(f"gym:{env_id}", seed=7)  # another episode: nothing carried over
    obs, reward, terminated = sim.evaluate_transitions(r["prev"], r["state"], r["action"])
    np.testing.assert_array_equal(obs, r["obs"].astype(np.float32))
    np.testing.assert_array_equal(reward, r["reward"])
    np.testing.assert_array_equal(terminated, r["terminated"])
    assert r["terminated"].any() == SPECS[env_id][5]  # a fall happened: the flag check bites
    fns = task_functions(f"gym:{env_id}")
    assert not fns.vectorized
    got = fns.transition(r["prev"], r["state"], r["action"], np.zeros((300, 0)))
    np.testing.assert_array_equal(got[1], r["reward"])


def test_ant_is_exact_but_for_what_mujoco_derives_after_a_step():
    """Ant's step reads the torso's ``xpos`` and the contact forces ``cfrc_ext``: after a real
    mj_step they belong to the last Runge-Kutta stage, not to the state reached, so MuJoCo's
    own computation at the state (what ``evaluate`` uses) differs: x velocity by up to a few
    cm/s, contact forces anywhere in their clip range [-1, 1] where a contact starts or ends."""
    r = _real_transitions("Ant-v5", 200)
    sim = make_simulator("gym:Ant-v5", seed=7)
    obs, reward, terminated = sim.evaluate_transitions(r["prev"], r["state"], r["action"])
    state_part = 13 + 14  # qpos without x, y; qvel
    np.testing.assert_array_equal(obs[:, :state_part], r["obs"][:, :state_part].astype(np.float32))
    np.testing.assert_array_equal(terminated, r["terminated"])
    # measured: max 0.069, mean 0.006 over these 200 steps (rewards of about -1.5 to 2.5); over
    # 1000 steps (seed 1) max 0.086, mean 0.005; contact cost alone differs by at most 0.006
    np.testing.assert_allclose(reward, r["reward"], rtol=0, atol=0.1)
    assert np.abs(reward - r["reward"]).mean() < 0.01
    contact = np.abs(obs[:, state_part:] - r["obs"][:, state_part:])
    assert contact.mean() < 0.01 and contact.max() <= 2.0


def test_resets_are_the_envs_own_seeded_resets():
    sim = make_simulator("gym:Hopper-v5", seed=3)
    real_obs, _ = gym.make("Hopper-v5").reset(seed=3)
    np.testing.assert_array_equal(sim.observation(), real_obs.astype(np.float32))
    sim.reset(11)
    a = sim.state()
    sim.reset(11)
    np.testing.assert_array_equal(sim.state(), a)
    assert not sim.terminated()


def test_reward_without_the_previous_state_is_refused():
    sim = make_simulator("gym:Hopper-v5", seed=0)
    with pytest.raises(ValueError, match="previous_states"):
        sim.evaluate(sim.state()[None], np.zeros((1, 3)))


def test_task_names_and_errors():
    check_task_name("gym:Hopper-v5")
    with pytest.raises(UnknownTaskError, match="Hopper-v5") as e:
        check_task_name("gym:Hoper-v5")
    assert "gymnasium.register" in str(e.value)
    with pytest.raises(UnknownTaskError, match="gym:Hopper-v5"):
        check_task_name("cheetah-walk")
    with pytest.raises(ValueError, match="not a gymnasium.envs.mujoco.MujocoEnv"):
        make_simulator("gym:CartPole-v1")


# --- a user's own MujocoEnv -----------------------------------------------------------------------
TINY_ARM_XML = """
<mujoco model="tiny_arm">
  <option timestep="0.01" gravity="0 0 0"/>
  <worldbody>
    <body name="upper">
      <joint name="shoulder" type="hinge" axis="0 0 1" damping="0.02"/>
      <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03"/>
      <body name="lower" pos="0.3 0 0">
        <joint name="elbow" type="hinge" axis="0 0 1" damping="0.02"/>
        <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="shoulder" ctrlrange="-1 1" gear="1"/>
    <motor joint="elbow" ctrlrange="-1 1" gear="1"/>
  </actuator>
</mujoco>
"""


class TinyArmEnv(MujocoEnv):
    """A two-link arm in a plane: rewarded for turning its shoulder, charged for effort; the
    episode ends when the elbow folds past 1 rad."""

    metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"]}

    def __init__(self, xml_file: str, **kwargs):
        obs_space = gym.spaces.Box(-np.inf, np.inf, (6,), np.float64)
        super().__init__(xml_file, frame_skip=2, observation_space=obs_space, **kwargs)

    def _get_obs(self):
        q, v = self.data.qpos, self.data.qvel
        return np.concatenate([np.cos(q), np.sin(q), v])

    def step(self, action):
        before = self.data.qpos[0]
        self.do_simulation(action, self.frame_skip)
        turn_rate = (self.data.qpos[0] - before) / self.dt
        reward = turn_rate - 0.1 * float(np.sum(np.square(action)))
        terminated = bool(abs(self.data.qpos[1]) > 1.0)
        return self._get_obs(), reward, terminated, False, {}

    def reset_model(self):
        noise = self.np_random.uniform(-0.1, 0.1, self.model.nq)
        self.set_state(self.init_qpos + noise, self.init_qvel)
        return self._get_obs()


@pytest.fixture(scope="module")
def tiny_arm(tmp_path_factory):
    xml = tmp_path_factory.mktemp("tiny_arm") / "tiny_arm.xml"
    xml.write_text(TINY_ARM_XML)
    gym.register(id="TinyArm-v0", entry_point=TinyArmEnv, kwargs={"xml_file": str(xml)})
    yield "gym:TinyArm-v0"
    gym.registry.pop("TinyArm-v0")


def test_a_users_own_mujoco_env_through_its_registered_id(tiny_arm):
    sim = make_simulator(tiny_arm, seed=0)
    spec = sim.spec
    assert (spec.nq, spec.nv, spec.nu, spec.obs_dim) == (2, 2, 2, 6)
    assert spec.control_dt == pytest.approx(0.02) and spec.has_termination
    r = _real_transitions("TinyArm-v0", 300)
    obs, reward, terminated = sim.evaluate_transitions(r["prev"], r["state"], r["action"])
    np.testing.assert_array_equal(obs, r["obs"].astype(np.float32))
    np.testing.assert_array_equal(reward, r["reward"])
    np.testing.assert_array_equal(terminated, r["terminated"])
    assert 0 < r["terminated"].sum() < 100


def test_a_module_prefix_imports_the_module_that_registers_the_env(tmp_path, monkeypatch):
    """``gym:module:Id`` (Gymnasium's own form): the module registers the env on import, so
    processes that never ran ``register`` (Ray actors) find it too."""
    (tmp_path / "tiny_arm.xml").write_text(TINY_ARM_XML)
    (tmp_path / "tiny_robots.py").write_text(
        "import gymnasium\n"
        "gymnasium.register(id='TinyArmModule-v0', entry_point='test_gym_tasks:TinyArmEnv', "
        f"kwargs={{'xml_file': {str(tmp_path / 'tiny_arm.xml')!r}}})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tiny_robots", raising=False)
    try:
        assert make_simulator("gym:tiny_robots:TinyArmModule-v0").spec.nq == 2
    finally:
        gym.registry.pop("TinyArmModule-v0", None)
        sys.modules.pop("tiny_robots", None)


# --- terminations in imagination and in the real env ----------------------------------------------
def falling_hopper(fall: float = 0.1) -> WorldModel:
    """A stand-in world model of gym:Hopper-v5 whose torso sinks ``fall`` m a step: healthy
    (z > 0.7) for 5 steps from z = 1.25, terminated at the 6th."""
    model = WorldModel.create(ModelConfig(task="gym:Hopper-v5", kind="constant"))

    def step(states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        out = states.clone()
        out[:, 1] -= fall
        return out

    model.dynamics.step = step
    return model


def test_imagined_episodes_end_terminated_when_the_task_says_so_truncated_at_the_limit():
    env = ImaginedVecEnv(falling_hopper(), num_envs=3, time_limit=10)
    env.reset(seed=0)
    for t in range(1, 7):
        obs, rew, term, trunc, _ = env.step(np.zeros((3, 3)))
        assert (term.all() if t == 6 else not term.any()) and not trunc.any()
        # standing still: the healthy reward (1) while healthy, 0 at the fall
        np.testing.assert_allclose(rew, 0.0 if t == 6 else 1.0)
    obs, rew, term, trunc, _ = env.step(np.zeros((3, 3)))  # NEXT_STEP: the resets
    assert (rew == 0).all() and not term.any() and not trunc.any()
    assert np.allclose(env._states[:, 1], 1.25, atol=0.01)
    assert env.counters["terminated"] == 3 and env.counters["episodes"] == 3
    limited = ImaginedVecEnv(falling_hopper(), num_envs=2, time_limit=4)
    limited.reset(seed=0)
    flags = [limited.step(np.zeros((2, 3)))[2:4] for _ in range(4)]
    assert not any(term.any() for term, _ in flags) and flags[-1][1].all()


def test_imagined_rewards_are_the_tasks_on_the_transition():
    env = ImaginedVecEnv(falling_hopper(0.0), num_envs=2, time_limit=10)
    env.reset(seed=1)
    before = env._states.copy()
    actions = np.full((2, 3), 0.5, np.float32)
    _, rew, _, _, _ = env.step(actions)
    _, want, _ = make_simulator("gym:Hopper-v5").evaluate_transitions(
        before, env._states, actions.astype(np.float64)
    )
    np.testing.assert_array_equal(rew, want.astype(np.float32))  # forward velocity 0: 1 - cost


def test_real_env_terminates_with_the_task_and_refuses_to_go_on():
    env = RealEnv("gym:Hopper-v5", time_limit=1000)
    env.reset(seed=0)
    term = trunc = False
    steps = 0
    while not (term or trunc):
        _, _, term, trunc, _ = env.step(np.array([1.0, -1.0, 1.0]))
        steps += 1
    assert term and not trunc and steps < 200
    with pytest.raises(RuntimeError, match="terminated"):
        env.step(np.zeros(3))
    env.reset(seed=0)
    _, _, term, _, _ = env.step(np.zeros(3))
    assert not term


def _sac_runner(fall: float, time_limit: int):
    """An RLlib env runner (in this process, no Ray) on the falling hopper, NEXT_STEP vector."""
    from ray.rllib.algorithms.sac import SACConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner
    from ray.tune.registry import register_env

    register_env(
        "falling-hopper",
        lambda c: ImaginedVecEnv(falling_hopper(c["fall"]), c["num_envs"], c["time_limit"]),
    )
    config = (
        SACConfig()
        .environment("falling-hopper", env_config={"fall": fall, "time_limit": time_limit})
        .env_runners(
            num_env_runners=0,
            num_envs_per_env_runner=2,
            gym_env_vectorize_mode="vector_entry_point",
        )
    )
    return SingleAgentEnvRunner(config=config, worker_index=0)


@pytest.mark.filterwarnings("ignore:.*Overriding environment")
def test_rllib_chunks_store_term_1_after_a_termination_and_0_after_a_truncation():
    from mosim_ray.sac.buffer import TransitionReplayBuffer

    for fall, limit, terminated in ((0.1, 10, True), (0.0, 4, False)):
        runner = _sac_runner(fall, limit)
        chunks = [e for e in runner.sample(num_timesteps=24, random_actions=True) if e.is_done]
        runner.stop()
        assert len(chunks) >= 4
        for chunk in chunks:
            assert (chunk.is_terminated, chunk.is_truncated) == (terminated, not terminated)
            assert len(chunk) == (6 if terminated else 4)
            term = TransitionReplayBuffer.transitions([chunk])["term"]
            np.testing.assert_array_equal(term, [0] * (len(chunk) - 1) + [float(terminated)])


@pytest.mark.filterwarnings("ignore:.*Overriding environment")
def test_on_policy_branches_stop_at_a_termination():
    from mosim_ray.schedules.branches import BranchRollouts

    runner = _sac_runner(0.1, 10)
    env = ImaginedVecEnv(falling_hopper(), num_envs=4, time_limit=10)
    sim = make_simulator("gym:Hopper-v5", seed=0)
    pool = ResetPool(np.array([sim.state()]), np.zeros((1, 0)))
    branches = BranchRollouts(env, length=10, seed=0)
    out = branches(runner.module, pool)
    # each robot: 5 healthy steps, the 6th terminates it, nothing after
    assert len(out["term"]) == 4 * 6 and out["term"].sum() == 4
    assert (out["rew"][out["term"] == 0] > 0.9).all()
    assert branches.last_stopped == 0  # a termination is an end, not a stop
    env.velocity_bounds = np.zeros(env.spec_.nv)  # no joint may move: each stops at once
    out = branches(runner.module, pool)
    runner.stop()
    assert len(out["term"]) == 0 and branches.last_stopped == 4


# --- the run kinds on a gym task ------------------------------------------------------------------
@pytest.mark.ray
@pytest.mark.slow
def test_collect_train_zero_shot_on_gym_hopper(tmp_path, ray_local, capsys):
    from mosim_ray.runs.cli import main

    task, quiet = ["--task", "gym:Hopper-v5"], ["--no-progress"]
    data, model, policy = (str(tmp_path / x) for x in ("data", "train", "zero_shot"))
    argv = [*task, "--episodes", "4", "--steps", "60", *quiet, "--out", data]
    assert main("collect", argv) == 0, capsys.readouterr().err[-2000:]
    argv = [
        *(*task, "--data", data, "--training.max-updates", "20", "--training.horizon", "4"),
        *("--training.batch-size", "16", "--judge.horizon", "4", "--judge.segments", "16"),
        *("--threads", "1", *quiet, "--out", model),
    ]
    assert main("train", argv) == 0, capsys.readouterr().err[-2000:]
    argv = [
        *(*task, "--checkpoint", f"{model}/model", "--imagined-steps", "200"),
        *("--learning-starts", "64", "--eval.every", "200", "--time-limit", "20"),
        *("--num-envs", "4", "--threads", "1", "--eval.episodes", "2", "--eval.time-limit", "50"),
        *("--set", "overrides.train_batch_size_per_learner=32"),
        *("--set", "overrides.training_intensity=32"),
        *("--set", "overrides.min_sample_timesteps_per_iteration=64", *quiet, "--out", policy),
    ]
    assert main("zero_shot", argv) == 0, capsys.readouterr().err[-2000:]
    result = json.loads((tmp_path / "zero_shot" / "result.json").read_text())
    assert result["task"] == "gym:Hopper-v5" and result["imagined_steps"] >= 200
    assert len(result["real_returns"]) == 2 and np.isfinite(result["real_returns"]).all()
    assert result["real_steps"] == 4 * 60  # the model's random data only
