"""ModelTrainer: continual training, no double counting, versioned publishing, resume after kill."""

import numpy as np
import pytest

from mosim_ray.data import EpisodeCollector, RolloutDataset
from mosim_ray.data.shards import shard_name
from mosim_ray.model import WorldModel
from mosim_ray.train import ContinualConfig, ModelTrainer

CFG = ContinualConfig(batch_size=32, horizon=4, lr=1e-3)


@pytest.fixture(scope="module")
def reacher_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    EpisodeCollector("reacher-easy", 60).write_shard(folder / shard_name(0), [0, 1, 2], seed=0)
    return folder


def test_train_continues_and_publishes_growing_versions(reacher_data, tmp_path):
    published = []
    model = WorldModel.load("pretrained/reacher-easy")
    before = [p.clone() for p in model.dynamics.parameters()]
    trainer = ModelTrainer(
        model,
        RolloutDataset.open(reacher_data),
        CFG,
        tmp_path,
        publish=lambda m, v: published.append(v),
    )
    first = trainer.train(5)
    second = trainer.train(5)
    assert published == [1, 2] and second["updates"] == 10 and np.isfinite(second["loss"])
    assert any(not p.equal(b) for p, b in zip(model.dynamics.parameters(), before))
    # the same folder resumes: version, updates, optimizer and data come back
    again = ModelTrainer(WorldModel.load("pretrained/reacher-easy"), None, CFG, tmp_path)
    assert (again.version, again.updates, len(again.episodes)) == (2, 10, 3)
    for p, q in zip(again.model.dynamics.parameters(), model.dynamics.parameters()):
        assert p.equal(q)
    assert again.train(1)["version"] == 3
    assert first["real_steps"] == 180


def test_checkpoints_write_each_episode_once_and_restore_it_exactly(reacher_data, tmp_path):
    import torch

    trainer = ModelTrainer(
        WorldModel.load("pretrained/reacher-easy"), RolloutDataset.open(reacher_data), CFG, tmp_path
    )
    trainer.train(1)
    files = sorted((tmp_path / ModelTrainer.EPISODES).glob("*.npz"))
    assert [f.name for f in files] == ["0.npz", "1.npz", "2.npz"]
    written = {f.name: f.stat().st_mtime_ns for f in files}
    trainer.add_episodes(EpisodeCollector("reacher-easy", 30).collect([7], seed=1))
    trainer.train(1)
    after = {f.name: f.stat().st_mtime_ns for f in (tmp_path / ModelTrainer.EPISODES).glob("*")}
    assert after == {**written, "7.npz": after["7.npz"]}  # old files untouched, no temporaries
    state = torch.load(tmp_path / ModelTrainer.STATE, weights_only=False)
    assert "episodes" not in state and state["episode_ids"] == [0, 1, 2, 7]
    again = ModelTrainer(WorldModel.load("pretrained/reacher-easy"), None, CFG, tmp_path)
    assert sorted(again.episodes) == [0, 1, 2, 7]
    for i, ep in trainer.episodes.items():
        for key, value in vars(ep).items():
            np.testing.assert_array_equal(getattr(again.episodes[i], key), value)
    # a state written with its episodes inside it (before episode files) still resumes
    state["episodes"] = {i: vars(e) for i, e in trainer.episodes.items()}
    del state["episode_ids"]
    torch.save(state, tmp_path / ModelTrainer.STATE)
    for f in (tmp_path / ModelTrainer.EPISODES).glob("*"):
        f.unlink()
    old = ModelTrainer(WorldModel.load("pretrained/reacher-easy"), None, CFG, tmp_path)
    assert old.num_steps == trainer.num_steps and old.train(1)["version"] == 3
    assert len(list((tmp_path / ModelTrainer.EPISODES).glob("*.npz"))) == 4


def test_new_episodes_count_once(reacher_data):
    trainer = ModelTrainer(
        WorldModel.load("pretrained/reacher-easy"), RolloutDataset.open(reacher_data), CFG
    )
    new = EpisodeCollector("reacher-easy", 30).collect([7, 8], seed=1)
    assert trainer.add_episodes(new) == 2
    assert trainer.add_episodes(new) == 0  # re-sent: not counted twice
    assert trainer.num_steps == 180 + 60
    assert trainer.train(2)["real_steps"] == 240


def test_reset_states_are_the_newest_real_states(reacher_data):
    trainer = ModelTrainer(
        WorldModel.load("pretrained/reacher-easy"), RolloutDataset.open(reacher_data), CFG
    )
    new = EpisodeCollector("reacher-easy", 30).collect([7], seed=1)
    trainer.add_episodes(new)
    states, contexts = trainer.reset_states(31 + 61 + 10)
    assert states.shape == (102, 4) and contexts.shape[0] == 102
    np.testing.assert_allclose(states[:31], trainer.episodes[7].states)  # newest first
    np.testing.assert_allclose(states[31:92], trainer.episodes[2].states)
    assert len(trainer.reset_states(10_000)[0]) == 31 + 3 * 61  # everything, once


@pytest.mark.ray
def test_killed_trainer_actor_resumes_and_versions_never_go_backwards(ray_local, tmp_path):
    from mosim_ray.actors.model_store import model_store
    from mosim_ray.actors.model_trainer import ModelTrainerActor

    ray = ray_local
    store = model_store("test-trainer-store")
    trainer = ModelTrainerActor.options(num_cpus=0).remote(
        "pretrained/reacher-easy",
        str(tmp_path / "trainer"),
        None,
        {"batch_size": 16, "horizon": 4},
        "test-trainer-store",
    )
    eps = EpisodeCollector("reacher-easy", 30).collect([0, 1], seed=0)
    assert ray.get(trainer.add_episodes.remote(eps)) == 2
    assert ray.get(trainer.train.remote(3))["version"] == 1
    assert ray.get(trainer.train.remote(3))["version"] == 2
    ray.kill(trainer, no_restart=False)  # Ray restarts it with the same arguments
    state = ray.get(trainer.state.remote())
    assert state["version"] == 2 and state["updates"] == 6 and state["episodes"] == [0, 1]
    assert ray.get(trainer.train.remote(2))["version"] == 3
    assert ray.get(store.get_version.remote()) == 3
    ray.kill(trainer, no_restart=True)
    ray.kill(store)


def test_trainer_device_is_checked_before_any_training(reacher_data):
    import torch

    def make(device):
        return ModelTrainer(
            WorldModel.load("pretrained/reacher-easy"),
            RolloutDataset.open(reacher_data),
            ContinualConfig(device=device),
        )

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    auto = make("auto")
    assert auto.device.type == expected
    assert next(auto.model.dynamics.parameters()).device.type == expected
    assert np.isfinite(auto.train(1)["loss"])
    with pytest.raises(ValueError, match="device"):
        make("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            make("cuda")


def test_trainer_compile_reaches_the_trainer_of_a_run(reacher_data):
    from mosim_ray.config import replace_dotted
    from mosim_ray.runs import get_kind
    from mosim_ray.schedules.model_link import trainer_config

    kind = get_kind("on_policy")
    config = kind.config(task="reacher-easy", real_steps=100)
    assert trainer_config(config.settings(), seed=3)["compile"] is False
    compiled = replace_dotted(config, {"trainer.compile": True}).settings()
    fields = trainer_config(compiled, seed=3)
    assert fields["compile"] is True and fields["seed"] == 3
    trainer = ModelTrainer(
        WorldModel.load("pretrained/reacher-easy"),
        RolloutDataset.open(reacher_data),
        ContinualConfig(**fields),
    )
    assert trainer.step is not None  # the compiled step, what train() rolls out with
