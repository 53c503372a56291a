"""Where MoSim's roles run: resource requests and counts that follow from the cluster.

The roles are the model trainer, the real-rollout collectors and the RLlib env runners (the
learner runs in the driver). ``plan_placement(ray.cluster_resources(), ...)`` gives:

* the trainer one GPU when the cluster has one, and the ``trainer`` custom resource when nodes
  advertise it (``cluster.yaml``'s GPU worker type);
* collectors the ``collector`` resource and env runners the ``rollout`` resource where nodes
  advertise them (``cluster.yaml``'s CPU worker type), so they land on worker nodes;
* counts from the cluster's CPUs when not given (one CPU is left to the driver);
* CPU requests scaled down to fractions when the roles ask for more CPUs than the cluster has
  beside the driver's one (a 2-core laptop): every actor can then start, and they share the cores instead of waiting
  forever for a CPU that never frees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_CPU = 0.01


@dataclass(frozen=True)
class Placement:
    collectors: int
    env_runners: int
    trainer_options: dict[str, Any]
    """``ActorClass.options(**trainer_options)``"""
    collector_options: dict[str, Any]
    env_runner_cpus: float
    env_runner_resources: dict[str, float]
    """RLlib's ``custom_resources_per_env_runner``"""

    def line(self) -> str:
        return (
            f"placement: trainer {self.trainer_options}, {self.collectors} collectors "
            f"{self.collector_options}, {self.env_runners} env runners x "
            f"{self.env_runner_cpus:.2f} CPU {self.env_runner_resources or ''}"
        )


def default_counts(resources: dict[str, float], real_per_round: int = 1000) -> tuple[int, int]:
    """(collectors, env runners) for a cluster: half the spare CPUs each, at most 16 runners;
    collectors divide ``real_per_round`` into equal episodes of at least 100 steps."""
    spare = max(0, int(resources.get("CPU", 1)) - 1)  # one CPU for the driver and its learner
    env_runners = min(16, spare // 2) if spare >= 4 else 0
    most = max(1, min(int(resources.get("collector", spare // 2 or 2)), real_per_round // 100))
    collectors = next(n for n in range(most, 0, -1) if real_per_round % n == 0)
    return collectors, env_runners


def plan_placement(
    resources: dict[str, float],
    collectors: int | None = None,
    env_runners: int | None = None,
    real_per_round: int = 1000,
    env_runner_cpus: float = 1.0,
    free_cpus: float | None = None,
    runners_reserved: bool = False,
) -> Placement:
    """Requests for every role.

    ``resources`` is ``ray.cluster_resources()`` (counts and role resources); ``free_cpus``
    (``ray.available_resources()["CPU"]``, default: the cluster's CPUs less one for the driver)
    is what the trainer, the collectors and, unless ``runners_reserved`` (a Tune trial's
    placement group already holds them), the env runners must share.
    """
    auto_collectors, auto_runners = default_counts(resources, real_per_round)
    collectors = auto_collectors if collectors is None else int(collectors)
    env_runners = auto_runners if env_runners is None else int(env_runners)
    if collectors < 0 or env_runners < 0:
        raise ValueError("collectors and env_runners must be >= 0")
    gpu = resources.get("GPU", 0) >= 1
    trainer_cpu = 1.0
    runner_demand = 0.0 if runners_reserved else env_runners * env_runner_cpus
    demand = trainer_cpu + collectors + runner_demand
    if free_cpus is None:
        free_cpus = max(float(resources.get("CPU", 1)) - 1.0, 0.5)
    scale = min(1.0, free_cpus / demand) if demand else 1.0

    def cpu(n: float) -> float:
        # round down: rounding up could ask for more than is free
        return max(MIN_CPU, int(n * scale * 100) / 100)

    # an explicit strategy keeps the trainer out of a Tune trial's placement group (Ray would
    # otherwise capture it there, where RLlib reserved nothing for it)
    trainer: dict[str, Any] = {"num_cpus": cpu(trainer_cpu), "scheduling_strategy": "DEFAULT"}
    if gpu:
        trainer["num_gpus"] = 1
    if resources.get("trainer", 0) > 0:
        trainer["resources"] = {"trainer": 1}
    # spread: one node's loss costs the fewest collectors, and real collection uses every node
    collector: dict[str, Any] = {"num_cpus": cpu(1.0), "scheduling_strategy": "SPREAD"}
    if resources.get("collector", 0) > 0:
        collector["resources"] = {"collector": 1}
    runner_resources = {"rollout": 1.0} if resources.get("rollout", 0) > 0 else {}
    runner_cpus = env_runner_cpus if runners_reserved else cpu(env_runner_cpus)
    return Placement(collectors, env_runners, trainer, collector, runner_cpus, runner_resources)
