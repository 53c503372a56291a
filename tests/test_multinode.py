"""A real multi-node Ray cluster on one machine (``ray.cluster_utils.Cluster``): a head and two
worker nodes that advertise ``cluster.yaml``'s role resources. MoSimSAC's actors spread over the
nodes by role, and a worker node removed mid-run loses no real episode."""

import pytest

from mosim_ray.data import EpisodeCollector
from mosim_ray.data.shards import shard_name

pytestmark = pytest.mark.ray

ROLES = {"collector": 2, "rollout": 1}


@pytest.fixture
def cluster():
    import ray
    from conftest import start_local_ray
    from ray.cluster_utils import Cluster

    # the session's local Ray (other tests) steps aside for this cluster, and comes back after
    had_local = ray.is_initialized()
    ray.shutdown()
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    try:
        # 4 logical CPUs a worker: either one alone can take every role back after the other goes
        workers = [c.add_node(num_cpus=4, resources=dict(ROLES)) for _ in range(2)]
        ray.init(address=c.address, log_to_driver=False, configure_logging=False)
        c.wait_for_nodes()
        yield c, workers
    finally:
        ray.shutdown()
        c.shutdown()
        if had_local:
            start_local_ray()


def test_few_shot_spreads_over_nodes_and_survives_losing_one(cluster, tmp_path):
    import ray
    from test_mosim_sac import DATA_STEPS, tiny

    from mosim_ray.runs.schedule import train_schedule

    c, workers = cluster
    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    config = tiny("few_shot", str(data), tmp_path / "work")
    seen: dict[str, set[str]] = {}
    removed = []

    def remove_a_worker_after_round_one(algo, point):
        for role, nodes in algo.nodes().items():
            seen.setdefault(role, set()).update(nodes)
        if point["rounds"] == 1 and not removed:
            assert algo.placement.collector_options["resources"] == {"collector": 1}
            assert algo.placement.env_runner_resources == {"rollout": 1.0}
            worker_ids = {w.node_id for w in workers}
            on_workers = set(algo.nodes()["collectors"]) | set(algo.nodes()["env_runners"])
            assert on_workers <= worker_ids  # role resources keep them off the head
            # remove the node of the env runner and a collector (and maybe the trainer): they
            # come back on the other node. The ModelStore, pinned to the driver's node, stays.
            target = next(w for w in workers if w.node_id in algo.nodes()["env_runners"])
            assert target.node_id in algo.nodes()["collectors"]
            c.remove_node(target)
            removed.append(target.node_id)

    result = train_schedule(
        config, 80, tmp_path / "out", on_eval=remove_a_worker_after_round_one, progress=False
    )
    assert removed
    all_nodes = set().union(*seen.values())
    assert len(all_nodes) >= 2, seen
    # the run finished on the remaining nodes with every real episode, once
    assert result["rounds"] == 2 and result["real_steps"] == 80 and result["real_episodes"] == 4
    assert result["trainer_real_steps"] == DATA_STEPS + 80
    assert ray.cluster_resources().get("rollout", 0) == 1


TO_REMOVE: list = []


def _remove_pending_node() -> None:
    if TO_REMOVE:
        cluster, node = TO_REMOVE.pop()
        cluster.remove_node(node)


def _callback_class():
    from ray import tune

    class RemoveAWorker(tune.Callback):
        def on_trial_complete(self, iteration, trials, trial, **info):
            _remove_pending_node()

    return RemoveAWorker


def RemoveAWorkerAfterTheFirstTrial():
    """A Tune callback removing the pending worker node when the first trial completes."""
    return _callback_class()()


def test_smoke_sweep_keeps_finished_trials_when_a_node_goes(cluster, tmp_path):
    import dataclasses

    from mosim_ray.tune.run import run_sweep
    from mosim_ray.tune.sweep_config import load_sweep, with_params

    c, workers = cluster
    data = tmp_path / "data"
    EpisodeCollector("reacher-easy", 40).write_shard(data / shard_name(0), [0, 1, 2], seed=0)
    sweep = load_sweep("tune_configs/model.yaml", smoke=True)
    sweep = dataclasses.replace(sweep, run=with_params(sweep.run, {"data": str(data)}))
    TO_REMOVE[:] = [(c, workers[0])]  # Tune pickles callbacks: the cluster stays out of them
    summary = run_sweep(
        sweep, str(tmp_path), "sweep", verbose=0, callbacks=[RemoveAWorkerAfterTheFirstTrial()]
    )
    assert not TO_REMOVE, "the node was not removed"
    done = [t for t in summary["trials"] if t["status"] == "ok" and t["mse_h4"] is not None]
    assert len(done) == 2  # the trial finished before the loss is kept; the other still ran
    assert (tmp_path / "sweep" / "trials.md").read_text().count("\n") == 4
