"""Goal relabelling of real transitions (the model-free control's fresh goals): real physics,
the task's own scoring, goals from the task's resets."""

import dataclasses

import numpy as np
import pytest
from ray.rllib.policy.sample_batch import SampleBatch as B

from mosim_ray.config import ConfigError
from mosim_ray.data import EpisodeCollector, RolloutDataset
from mosim_ray.data.shards import shard_name
from mosim_ray.schedules.relabel import GOALS, RelabelledTransitions


def test_relabelled_transitions_are_real_physics_scored_under_fresh_goals(tmp_path):
    EpisodeCollector("reacher-easy", 40).write_shard(tmp_path / shard_name(0), [0, 1], seed=0)
    episodes = RolloutDataset.open(str(tmp_path)).episodes
    relabelled = RelabelledTransitions("reacher-easy", seed=0)
    assert relabelled.add_episodes(episodes) == 80 and len(relabelled) == 80
    assert len(np.unique(relabelled.goals, axis=0)) == GOALS

    # under its own episode's goal a replayed transition is what the real env returned
    ep = episodes[1]
    one = RelabelledTransitions("reacher-easy", seed=1)
    one.add_episodes([dataclasses.replace(ep, states=ep.states[7:9], actions=ep.actions[7:8])])
    one.goals = ep.contexts[:1].astype(np.float64)
    got = one.sample(3)
    np.testing.assert_allclose(got[B.OBS], np.repeat(ep.observations[7:8], 3, 0), atol=1e-5)
    np.testing.assert_allclose(got[B.NEXT_OBS], np.repeat(ep.observations[8:9], 3, 0), atol=1e-5)
    np.testing.assert_allclose(got[B.REWARDS], np.repeat(ep.rewards[7], 3), atol=1e-6)
    assert np.abs(got[B.ACTIONS]).max() <= 1

    # under fresh goals the arm's own part of the observation stays real, the target moves
    batch = relabelled.sample(500)
    arm = np.concatenate([e.observations[:-1, :2] for e in episodes])
    assert np.isin(batch[B.OBS][:, 0], arm[:, 0]).all()
    to_target = np.concatenate([e.observations[:-1, 2:4] for e in episodes])
    assert np.isin(batch[B.OBS][:, 2], to_target[:, 0]).mean() < 0.05

    with pytest.raises(ConfigError, match="no goal"):
        RelabelledTransitions("cheetah-run")
