"""Versioned weight pulls from the named ModelStore actor (real local Ray)."""

import numpy as np
import pytest
import torch

from mosim_ray.model import WorldModel


@pytest.mark.ray
def test_env_pulls_newer_weights_by_version_only(ray_local):
    from mosim_ray.actors.model_store import model_store, publish
    from mosim_ray.envs.rllib import make_env

    store = model_store("test-store-pull")
    trained = WorldModel.load("pretrained/reacher-easy")
    with pytest.raises(ValueError, match="holds no model"):
        make_env("mosim-imagined", {"model_store": "test-store-pull"})
    assert publish(store, trained, version=1) == 1
    with pytest.raises(Exception, match="version must grow"):
        publish(store, trained, version=1)

    env = make_env(
        "mosim-imagined", {"model_store": "test-store-pull", "num_envs": 4, "sync_every": 5}
    )
    assert env.model_version == 1  # the model itself came from the store
    env.reset(seed=0)
    for _ in range(9):
        env.step(np.zeros((4, 2)))
    assert env.counters["weight_pulls"] == 0  # checked twice, nothing newer: nothing moved

    newer = WorldModel.load("pretrained/reacher-easy")
    with torch.no_grad():
        for p in newer.dynamics.parameters():
            p.mul_(0.5)
    publish(store, newer, version=2)
    env.step(np.zeros((4, 2)))  # 10th call: a version check
    assert env.model_version == 2 and env.counters["weight_pulls"] == 1
    got = next(env.model.dynamics.parameters())
    assert torch.equal(got, next(newer.dynamics.parameters()))
    with pytest.raises(ValueError, match="backwards"):
        env.set_weights(newer.dynamics.state_dict(), 1)
    ray_local.kill(store)
