import threading
import time

import numpy as np
import pytest

from mosim_ray.actors.collector import collect_shards
from mosim_ray.data import EpisodeCollector, RolloutDataset

pytestmark = pytest.mark.ray


def test_two_actors_write_exactly_the_requested_episodes(ray_local, tmp_path):
    s = collect_shards("cheetah-run", 6, 50, tmp_path, actors=2, seed=1, progress=False)
    assert (s.episodes, s.steps, s.actors, s.actor_restarts) == (6, 300, 2, 0)
    data = RolloutDataset.open(tmp_path)
    assert [e.id for e in data.episodes] == list(range(6))
    # the actors' data equal the plain collector's for the same seed
    plain = EpisodeCollector("cheetah-run", 50).collect([3], seed=1)[0]
    np.testing.assert_array_equal(data.episodes[3].actions, plain["action"][:-1].astype(np.float32))
    # a second call resumes: nothing to do, nothing changed
    again = collect_shards("cheetah-run", 6, 50, tmp_path, actors=2, seed=1, progress=False)
    assert again.reused_shards == again.shards
    with pytest.raises(FileExistsError, match="not part of this collection"):
        collect_shards("cheetah-run", 6, 50, tmp_path, seed=2, progress=False)


def test_killed_actor_loses_nothing_and_duplicates_nothing(ray_local, tmp_path):
    import ray

    killed = []

    def kill_one_when_working():
        deadline = time.time() + 60
        while time.time() < deadline and not list(tmp_path.glob("shard-*.parquet")):
            time.sleep(0.05)
        ray.kill(ray.get_actor("killtest-0"))
        killed.append(True)

    t = threading.Thread(target=kill_one_when_working)
    t.start()
    s = collect_shards(
        "cheetah-run",
        12,
        400,
        tmp_path,
        actors=2,
        seed=0,
        episodes_per_shard=1,
        progress=False,
        run_name="killtest",
    )
    t.join()
    assert killed and s.actor_restarts >= 1
    data = RolloutDataset.open(tmp_path)
    assert [e.id for e in data.episodes] == list(range(12))
    assert all(e.length == 400 for e in data.episodes)
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_policy_fails_clearly_without_retries(ray_local, tmp_path):
    import numpy as np

    from mosim_ray.data import ProcessConfig

    def nan_policy(obs):
        return np.full(6, np.nan)

    with pytest.raises(ValueError, match="non-finite action"):
        collect_shards(
            "cheetah-run",
            2,
            20,
            tmp_path,
            actors=1,
            process=ProcessConfig("policy"),
            policy=nan_policy,
            progress=False,
        )
    assert not list(tmp_path.glob("shard-*.parquet"))
