import numpy as np
import pytest

from mosim_ray.data.processes import ProcessConfig, make_process

LOW, HIGH = -np.ones(3), np.array([1.0, 2.0, 0.5])


def _draw(config, n=4000, seed=0, policy=None):
    proc = make_process(config, LOW, HIGH, policy)
    proc.reset(np.random.default_rng(seed))
    return np.array([proc.act(np.zeros(2)) for _ in range(n)])


@pytest.mark.parametrize("kind", ["uniform", "poisson", "ou"])
def test_seeded_deterministic_and_in_bounds(kind):
    a, b, c = (_draw(ProcessConfig(kind=kind), seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a >= LOW) and np.all(a <= HIGH)


def test_poisson_switching_rate_and_zero_share():
    cfg = ProcessConfig(kind="poisson", switch_every=5, zero_prob=0.3)
    a = _draw(cfg, n=20000)
    changes = np.any(np.diff(a, axis=0) != 0, axis=1)
    # a new draw happens with probability 1/5 per step (and nearly always changes the action)
    assert 0.17 < changes.mean() < 0.23
    zero_rows = np.all(a == 0, axis=1)
    assert 0.25 < zero_rows.mean() < 0.35


def test_ou_is_smoother_than_uniform():
    ou = _draw(ProcessConfig(kind="ou"))
    uni = _draw(ProcessConfig(kind="uniform"))
    assert np.abs(np.diff(ou, axis=0)).mean() < 0.5 * np.abs(np.diff(uni, axis=0)).mean()


def test_policy_process_rejects_non_finite_and_bad_shapes():
    bad = make_process(ProcessConfig(kind="policy"), LOW, HIGH, policy=lambda o: np.full(3, np.nan))
    with pytest.raises(ValueError, match="non-finite"):
        bad.act(np.zeros(2))
    wrong = make_process(ProcessConfig(kind="policy"), LOW, HIGH, policy=lambda o: np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        wrong.act(np.zeros(2))
    with pytest.raises(ValueError, match="needs a policy"):
        make_process(ProcessConfig(kind="policy"), LOW, HIGH)


def test_bad_configs():
    with pytest.raises(ValueError, match="unknown action process 'gauss'"):
        ProcessConfig(kind="gauss")
    with pytest.raises(ValueError, match="zero_prob"):
        ProcessConfig(kind="poisson", zero_prob=1.5)
    with pytest.raises(ValueError, match="finite action bounds"):
        make_process(ProcessConfig(), -np.inf * np.ones(2), np.inf * np.ones(2))
