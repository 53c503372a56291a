"""Vectorized observation and reward equal MuJoCo's: kinematics, contact screen, every task.

Tolerances: obs 1e-5 absolute (float32), reward 1e-9 (float64). The vectorized numbers come
from the same formulas as MuJoCo's in another order of floating-point operations (angles summed
then one cos/sin instead of quaternion products), so they agree to about 1e-14, not bit for bit.
"""

import mujoco
import numpy as np
import pytest

from mosim_ray.envs.contact_screen import segment_distance
from mosim_ray.envs.kinematics import PlanarKinematics
from mosim_ray.envs.task_functions import TaskFunctions, task_functions
from mosim_ray.tasks import make_simulator

VECTORIZED = [
    "cheetah-run",
    "walker-walk",
    "hopper-hop",
    "hopper-stand",
    "acrobot-swingup",
    "reacher-easy",
]
OBS_TOL, REWARD_TOL = 1e-5, 1e-9


def _real_steps(task: str, episodes: int = 3, steps: int = 100, seed: int = 0):
    """States reached by random actions in dm_control, with what ``step`` returned there:
    (states [M, nq+nv], actions [M, nu], contexts [M, C], obs [M, O], rewards [M])."""
    sim = make_simulator(task, seed=seed)
    rng = np.random.default_rng(seed)
    out: list[list] = [[], [], [], [], []]
    for ep in range(episodes):
        sim.reset(seed + ep)
        for _ in range(steps):
            a = rng.uniform(-1, 1, sim.spec.nu)
            r = sim.step(a)
            for x, v in zip(out, (sim.state(), a, sim.context(), sim.observation(), r)):
                x.append(v)
    return tuple(np.array(x) for x in out)


def _extreme(sim, states: np.ndarray, seed: int = 1) -> np.ndarray:
    """Real states pushed to the edges: velocities 10-30x, limited joints at or just past
    their limits (real states overshoot a little), angles of unlimited hinges wound far."""
    rng = np.random.default_rng(seed)
    m = sim.physics.model
    out = states.copy()
    out[:, m.nq :] *= rng.uniform(10, 30, (len(out), 1))
    for j in range(m.njnt):
        adr = m.jnt_qposadr[j]
        if m.jnt_limited[j]:
            lo, hi = m.jnt_range[j]
            edge = np.where(rng.random(len(out)) < 0.5, lo, hi)
            out[:, adr] = edge + rng.uniform(-0.05, 0.05, len(out))
        elif m.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE:
            out[:, adr] += rng.integers(-20, 20, len(out)) * np.pi
    return out


@pytest.fixture(scope="module", params=VECTORIZED)
def task_data(request):
    task = request.param
    return task, _real_steps(task)


def test_vectorized_equal_mujoco_on_real_and_extreme_states(task_data):
    task, (states, actions, contexts, obs, rewards) = task_data
    fns = task_functions(task)
    exact = task_functions(task, exact=True)
    assert fns.vectorized and not exact.vectorized and type(exact) is TaskFunctions
    got_obs, got_rew = fns(states, actions, contexts)
    assert got_obs.dtype == np.float32 and got_rew.dtype == np.float64
    # against Simulator.evaluate (MuJoCo on the same states)
    ref_obs, ref_rew = exact(states, actions, contexts)
    np.testing.assert_allclose(got_obs, ref_obs, rtol=0, atol=OBS_TOL)
    np.testing.assert_allclose(got_rew, ref_rew, rtol=0, atol=REWARD_TOL)
    # against what dm_control's own step returned; touch (hopper) is an acceleration-stage
    # sensor that the state alone does not give (the exact path differs there too)
    keep = _without_acc_stage(exact.spec)
    np.testing.assert_allclose(got_obs[:, keep], obs[:, keep], rtol=0, atol=OBS_TOL)
    np.testing.assert_allclose(got_rew, rewards, rtol=0, atol=REWARD_TOL)
    # states at the edges: large velocities, joints at their limits, angles wound
    far = _extreme(exact.sim, states)
    got_obs, got_rew = fns(far, actions, contexts)
    ref_obs, ref_rew = exact(far, actions, contexts)
    np.testing.assert_allclose(got_obs, ref_obs, rtol=0, atol=OBS_TOL)
    np.testing.assert_allclose(got_rew, ref_rew, rtol=0, atol=REWARD_TOL)


def _without_acc_stage(spec) -> np.ndarray:
    keep, at = [], 0
    for key, size in spec.obs_keys:
        if key not in spec.acc_stage_obs:
            keep += range(at, at + size)
        at += size
    return np.array(keep)


def test_the_comparison_bites(task_data):
    """A deliberately wrong state (qvel reversed, qpos shifted) gives other numbers: the
    equality above is not vacuous."""
    task, (states, actions, contexts, _, _) = task_data
    fns = task_functions(task)
    nq = fns.spec.nq
    wrong = states.copy()
    wrong[:, nq:] = wrong[:, nq:][:, ::-1]
    wrong[:, :nq] += 0.1
    ref_obs, ref_rew = task_functions(task, exact=True)(states, actions, contexts)
    bad_obs, bad_rew = fns(wrong, actions, contexts)
    assert np.abs(bad_obs - ref_obs).max() > 100 * OBS_TOL
    if task not in ("hopper-hop",):  # hopper-hop's reward is 0 on almost every random state
        assert np.abs(bad_rew - ref_rew).max() > 1e-3


@pytest.mark.parametrize("task", ["cheetah-run", "walker-walk", "hopper-hop", "acrobot-swingup"])
def test_kinematics_equal_mujoco(task):
    """Body frames, COMs, sites and the subtree COM velocity of every body, on real states and
    on random far-out ones, against mj_forward + mj_subtreeVel."""
    sim = make_simulator(task)
    m = sim.physics.model.ptr
    kin = PlanarKinematics(m, task)
    states = _real_steps(task, episodes=1, steps=60)[0]
    rng = np.random.default_rng(0)
    noise = np.concatenate([rng.normal(0, 3, (60, m.nq)), rng.normal(0, 30, (60, m.nv))], 1)
    states = np.concatenate([states, noise])
    qpos, qvel = states[:, : m.nq], states[:, m.nq :]
    frames = kin.frames(qpos)
    xmat = kin.xmats(frames, range(m.nbody))
    linvel = {b: kin.subtree_linvel(frames, qvel, b) for b in range(1, m.nbody)}
    d = mujoco.MjData(m)
    worst = 0.0
    for i, s in enumerate(states):
        d.qpos[:], d.qvel[:] = s[: m.nq], s[m.nq :]
        mujoco.mj_forward(m, d)
        mujoco.mj_subtreeVel(m, d)
        for b in range(m.nbody):
            worst = max(worst, np.abs(frames.xpos[b][:, i] - d.xpos[b]).max())
            worst = max(worst, np.abs(frames.xipos[b][:, i] - d.xipos[b]).max())
            worst = max(worst, np.abs(xmat[b][:, i] - d.xmat[b]).max())
            if b:
                worst = max(worst, np.abs(linvel[b][:, i] - d.subtree_linvel[b]).max())
        for site in range(m.nsite):
            worst = max(worst, np.abs(kin.site_xpos(frames, site)[:, i] - d.site_xpos[site]).max())
    assert worst < 1e-10, worst


def test_hopper_touch_is_mujoco_only_where_the_foot_may_touch():
    states, actions, contexts, _, _ = _real_steps("hopper-hop")
    fns = task_functions("hopper-hop")
    obs, _ = fns(states, actions, contexts)
    touching = obs[:, -2:].max(axis=1) > 0
    screened = fns.touch.screen(fns.kin.frames(states[:, : fns.nq]))
    assert touching.any() and (~screened).any()  # both kinds of rows are in the test
    assert not (touching & ~screened).any()  # never a false "no contact"
    assert screened.mean() < touching.mean() + 0.1  # and close to the truth


def test_segment_distance_against_sampling():
    rng = np.random.default_rng(0)
    n = 400
    p1, d1, p2, d2 = (rng.normal(0, 1, (3, n)) for _ in range(4))
    d2[:, :50] = 0  # points
    d1[:, 50:100] = 0
    d2[:, 100:150] = 2.0 * d1[:, 100:150]  # parallel
    got = segment_distance(p1, d1, p2, d2)
    s = np.linspace(0, 1, 401)
    a = p1[:, None, None, :] + d1[:, None, None, :] * s[None, :, None, None]
    b = p2[:, None, None, :] + d2[:, None, None, :] * s[None, None, :, None]
    sampled = np.sqrt(((a - b) ** 2).sum(0)).min(axis=(0, 1))
    assert (got <= sampled + 1e-12).all()  # a lower bound: what the screen needs
    np.testing.assert_allclose(got, sampled, atol=5e-3)


_HINGE_MODEL = """
<mujoco><worldbody><body name="a" {body}>{joint}<geom size="0.1" mass="1"/>
<body name="b" pos="0 0 1"><joint type="hinge" axis="0 1 0"/><geom size="0.1" mass="1"/>
</body></body></worldbody></mujoco>"""


@pytest.mark.parametrize(
    "body, joint, match",
    [
        ("", '<freejoint name="free"/>', "FREE"),
        ("", '<joint type="ball"/>', "BALL"),
        ('quat="0.9 0.1 0 0"', '<joint type="hinge" axis="0 1 0"/>', "rotated"),
        ("", '<joint type="hinge" axis="1 0 0"/>', "not a planar tree"),
    ],
)
def test_kinematics_refuses_what_it_does_not_cover(body, joint, match):
    model = mujoco.MjModel.from_xml_string(_HINGE_MODEL.format(body=body, joint=joint))
    with pytest.raises(ValueError, match=match):
        PlanarKinematics(model)


def test_unvectorized_tasks_and_exact_use_mujoco():
    assert type(task_functions("cheetah-run", exact=True)) is TaskFunctions
    assert not task_functions("quadruped-walk").vectorized
