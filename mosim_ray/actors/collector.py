"""Parallel real-rollout collection on Ray: ``RolloutCollector`` actors write Parquet shards.

The driver plans the shards up front (shard i holds a fixed list of episode ids), hands one shard at a
time to each idle actor, and re-queues the shard of an actor that dies: since a shard is seeded by its
episode ids alone and written atomically, a re-run writes the same bytes, and the run ends with
exactly the requested episodes, none twice, none partial.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import ray
from ray.exceptions import RayActorError
from tqdm.auto import tqdm

from mosim_ray.data.processes import Policy, ProcessConfig
from mosim_ray.data.reader import ShardError
from mosim_ray.data.rollout import (
    EpisodeCollector,
    ShardResult,
    default_episodes_per_shard,
    plan_shards,
)
from mosim_ray.data.shards import SHARD_GLOB, read_shard_metadata, shard_name
from mosim_ray.tasks import check_task_name

RolloutCollector = ray.remote(EpisodeCollector)
"""``EpisodeCollector`` as a Ray actor (one simulator per actor)."""


@dataclass(frozen=True)
class CollectionSummary:
    task: str
    out: str
    episodes: int
    steps: int
    shards: int
    reused_shards: int
    actors: int
    actor_restarts: int
    seconds: float
    first_shard_seconds: float
    """From the call to the first shard on disk (actor start-up included)."""

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")

    def line(self) -> str:
        return (
            f"{self.task}: {self.episodes} episodes, {self.steps:,} steps in {self.shards} shards "
            f"({self.reused_shards} reused) -> {self.out} | {self.seconds:.1f} s, "
            f"{self.steps_per_second:,.0f} steps/s, {self.actors} actors, "
            f"{self.actor_restarts} restarted, first shard after {self.first_shard_seconds:.1f} s"
        )


def collect_shards(
    task: str,
    episodes: int,
    steps: int,
    out: str | Path,
    actors: int | None = None,
    process: ProcessConfig = ProcessConfig(),
    seed: int = 0,
    episodes_per_shard: int | None = None,
    policy: Policy | None = None,
    resume: bool = True,
    progress: bool = True,
    max_actor_restarts: int = 8,
    run_name: str | None = None,
) -> CollectionSummary:
    """Collect ``episodes`` episodes of ``steps`` steps of ``task`` into shards under ``out``.

    ``actors`` defaults to the CPUs Ray has. Shards already in ``out`` that hold exactly the planned
    episodes with the same settings are kept (``resume``); any other shard there is an error.
    Actors are named ``<run_name>-<i>`` (visible in the Ray dashboard). Ray must be initialized.
    """
    check_task_name(task)
    if episodes < 1 or steps < 1:
        raise ValueError(f"need episodes >= 1 and steps >= 1, got {episodes}, {steps}")
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_shards(episodes, episodes_per_shard or default_episodes_per_shard(episodes))
    todo = _shards_to_write(out, plan, task, steps, process, seed, resume)
    reused = len(plan) - len(todo)
    cpus = max(1.0, ray.cluster_resources().get("CPU", 1.0))
    n_actors = max(1, min(actors or int(cpus), len(todo) or 1))
    # More actors than CPUs would leave some unscheduled forever; share the CPUs instead.
    actor_opts = {"num_cpus": min(1.0, cpus / n_actors), "max_restarts": 0}

    run_name = run_name or f"collect-{uuid.uuid4().hex[:8]}"
    started = 0

    def start_actor():
        nonlocal started
        started += 1
        name = f"{run_name}-{started - 1}"
        return RolloutCollector.options(name=name, **actor_opts).remote(
            task, steps, process, policy
        )

    pending = deque(todo)
    idle = [start_actor() for _ in range(n_actors if todo else 0)]
    inflight: dict[ray.ObjectRef, tuple[object, int]] = {}
    results: list[ShardResult] = []
    restarts = 0
    first_shard = None
    bar = tqdm(
        total=len(todo) and sum(len(plan[i]) for i in todo),
        unit="ep",
        desc=f"collect {task}",
        disable=not progress,
    )
    try:
        while pending or inflight:
            while idle and pending:
                actor, index = idle.pop(), pending.popleft()
                ref = actor.write_shard.remote(str(out / shard_name(index)), plan[index], seed)
                inflight[ref] = (actor, index)
            [ref], _ = ray.wait(list(inflight), num_returns=1)
            actor, index = inflight.pop(ref)
            try:
                result = ray.get(ref)
            except RayActorError as e:
                ray.kill(actor)  # dead, or unreachable but perhaps still running: stop it for good
                restarts += 1
                if getattr(e, "actor_init_failed", False) or restarts > max_actor_restarts:
                    raise  # a constructor that fails will fail again
                pending.appendleft(index)
                idle.append(start_actor())
                continue
            except Exception:
                ray.kill(
                    actor
                )  # the episode itself failed (bad policy, unstable physics): no retry
                raise
            first_shard = first_shard or time.perf_counter() - t0
            results.append(result)
            idle.append(actor)
            bar.update(len(result.episodes))
    finally:
        bar.close()
        for actor, _ in inflight.values():
            ray.kill(actor)
        for actor in idle:
            ray.kill(actor)
        # A killed actor can leave its hidden temporary file behind; readers ignore it anyway.
        for tmp in out.glob(".shard-*.tmp"):
            tmp.unlink(missing_ok=True)
    return CollectionSummary(
        task=task,
        out=str(out),
        episodes=episodes,
        steps=episodes * steps,
        shards=len(plan),
        reused_shards=reused,
        actors=n_actors,
        actor_restarts=restarts,
        seconds=time.perf_counter() - t0,
        first_shard_seconds=first_shard or 0.0,
    )


def _shards_to_write(
    out: Path,
    plan: list[list[int]],
    task: str,
    steps: int,
    process: ProcessConfig,
    seed: int,
    resume: bool,
) -> list[int]:
    """Indices of planned shards not already in ``out``; raises on anything else found there."""
    expected = {shard_name(i): eps for i, eps in enumerate(plan)}
    todo = set(range(len(plan)))
    for f in sorted(out.glob(SHARD_GLOB)):
        try:
            meta = read_shard_metadata(f)
        except ShardError:
            if f.name in expected:
                continue  # a damaged shard of this plan: written again
            raise
        same = (
            f.name in expected
            and meta.get("task") == task
            and meta.get("steps") == steps
            and meta.get("seed") == seed
            and meta.get("process") == asdict(process)
            and meta.get("episodes") == expected[f.name]
        )
        if not same:
            raise FileExistsError(
                f"{out} already holds {f.name}, which is not part of this collection "
                f"(another task, seed, process or episode count); use an empty --out folder"
            )
        if resume:
            todo.discard(int(f.stem.split("-")[1]))
    return sorted(todo)


class _PolicyEpisodes:
    """Real episodes of a given RLlib policy, seeded by (seed, episode id): a retried call after
    a restart returns the same episodes, which the trainer then ignores by id."""

    def __init__(self, task: str, noise: float = 0.1, seed: int = 0):
        import torch

        torch.set_num_threads(1)  # one core per collector: more threads fight the learner
        self.task, self.noise, self.seed = task, float(noise), int(seed)

    def collect(self, module, episodes: list[int], steps: int) -> list[dict]:
        from mosim_ray.sac.policy import RLlibPolicy
        from mosim_ray.tasks import get_spec

        low, high = get_spec(self.task).action_bounds
        policy = RLlibPolicy(module, low, high, noise=self.noise, seed=self.seed)
        collector = EpisodeCollector(self.task, steps, ProcessConfig(kind="policy"), policy=policy)
        return collector.collect(episodes, self.seed)

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()


PolicyCollector = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)(_PolicyEpisodes)
"""Runs the current policy in the real env (few-shot rounds); Ray restarts a killed one and
retries its call."""
