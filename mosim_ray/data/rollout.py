"""Real rollouts: one episode at a time, and a plain collector that writes whole shards.

Episodes are seeded by (seed, episode id) alone, so the same seed gives the same bytes whichever
process or actor runs an episode, and in whatever order.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mosim_ray.data.processes import ActionProcess, Policy, ProcessConfig, make_process
from mosim_ray.data.shards import episodes_to_table, shard_metadata, shard_name, write_shard
from mosim_ray.tasks import Simulator, make_simulator


def episode_seeds(seed: int, episode: int) -> tuple[int, np.random.Generator]:
    """(environment reset seed, action-process generator) of one episode."""
    env_ss, proc_ss = np.random.SeedSequence([seed, episode]).spawn(2)
    return int(env_ss.generate_state(1)[0]), np.random.default_rng(proc_ss)


@dataclass(frozen=True)
class Push:
    """Every velocity multiplied by ``factor`` just before control step ``at``: a state outside
    the range the episode's own actions reach, to test how far a model extrapolates."""

    at: int
    factor: float


def run_episode(
    sim: Simulator,
    process: ActionProcess,
    steps: int,
    seed: int,
    episode: int,
    push: Push | None = None,
) -> dict[str, np.ndarray]:
    """Run one episode of ``steps`` control steps. With ``push``, row ``push.at`` holds the pushed
    state, so the step into it is no physics: the prediction benchmark drops every row before it.

    Returns per-row arrays (T+1 rows, see ``shards``): episode [T+1], step [T+1], qpos [T+1, nq],
    qvel [T+1, nv], action [T+1, nu], observation [T+1, obs_dim], context [T+1, context_dim],
    reward [T+1], last [T+1].
    """
    if steps < 1:
        raise ValueError(f"steps per episode must be >= 1, got {steps}")
    spec = sim.spec
    env_seed, rng = episode_seeds(seed, episode)
    sim.reset(env_seed)
    process.reset(rng)
    n = steps + 1
    states = np.zeros((n, spec.state_dim))
    obs = np.zeros((n, spec.obs_dim), np.float32)
    ctx = np.zeros((n, spec.context_dim))
    actions = np.zeros((n, spec.nu))
    rewards = np.zeros(n)
    states[0], obs[0], ctx[0] = sim.state(), sim.observation(), sim.context()
    for t in range(steps):
        if push is not None and t == push.at:
            pushed = sim.state()
            pushed[spec.nq :] *= push.factor
            sim.set_state(pushed)
            states[t], obs[t], ctx[t] = sim.state(), sim.observation(), sim.context()
        action = sim.check_action(process.act(obs[t]))  # clipped: record what was applied
        rewards[t] = sim.step(action)
        actions[t] = action
        states[t + 1], obs[t + 1], ctx[t + 1] = sim.state(), sim.observation(), sim.context()
        if not np.isfinite(states[t + 1]).all():
            raise FloatingPointError(
                f"{spec.name}: physics produced a non-finite state at episode {episode} step {t + 1}"
            )
    last = np.zeros(n, bool)
    last[-1] = True
    return {
        "episode": np.full(n, episode, np.int64),
        "step": np.arange(n, dtype=np.int32),
        "qpos": states[:, : spec.nq],
        "qvel": states[:, spec.nq :],
        "action": actions,
        "observation": obs,
        "context": ctx,
        "reward": rewards,
        "last": last,
    }


@dataclass(frozen=True)
class ShardResult:
    path: str
    episodes: tuple[int, ...]
    steps: int
    seconds: float


class EpisodeCollector:
    """Runs episodes of one task with one action process and writes them as shards
    (``physics_steps``: one MuJoCo step per recorded step, ``SuiteSimulator``).

    Plain Python: ``actors.collector.RolloutCollector`` is this class as a Ray actor.
    """

    def __init__(
        self,
        task: str,
        steps: int,
        process: ProcessConfig = ProcessConfig(),
        policy: Policy | None = None,
        push: Push | None = None,
        physics_steps: bool = False,
    ):
        self.sim = make_simulator(task, physics_steps=physics_steps)
        self.push = push
        self.spec = self.sim.spec
        self.steps = steps
        self.process_config = process
        low, high = self.spec.action_bounds
        self.process = make_process(process, low, high, policy)

    def collect(self, episodes: list[int], seed: int) -> list[dict[str, np.ndarray]]:
        return [
            run_episode(self.sim, self.process, self.steps, seed, e, self.push) for e in episodes
        ]

    def metadata(self, episodes: list[int], seed: int) -> dict:
        return shard_metadata(
            self.spec,
            process=asdict(self.process_config),
            seed=seed,
            steps=self.steps,
            episodes=list(episodes),
            **({"push": asdict(self.push)} if self.push else {}),
        )

    def write_shard(self, path: str | Path, episodes: list[int], seed: int) -> ShardResult:
        """Collect ``episodes`` and write them to ``path`` (atomically)."""
        t0 = time.perf_counter()
        table = episodes_to_table(self.spec, self.collect(episodes, seed))
        write_shard(path, table, self.metadata(episodes, seed))
        return ShardResult(
            str(path), tuple(episodes), len(episodes) * self.steps, time.perf_counter() - t0
        )

    def ready(self) -> bool:
        return True


def default_episodes_per_shard(episodes: int) -> int:
    # Depends on the episode count only, so the same seed gives the same files with any actor count.
    return max(1, min(10, math.ceil(episodes / 8)))


def plan_shards(episodes: int, per_shard: int) -> list[list[int]]:
    return [list(range(i, min(i + per_shard, episodes))) for i in range(0, episodes, per_shard)]


def write_dataset(
    task: str,
    episodes: int,
    steps: int,
    folder: str | Path,
    process: ProcessConfig = ProcessConfig(),
    seed: int = 0,
) -> Path:
    """``episodes`` episodes of ``task`` written to ``folder`` in this process, shard by shard: the
    same files ``actors.collector.collect_shards`` writes with the same seed (shards already
    there are kept). For small datasets, and where no Ray actor may start (inside a Tune trial)."""
    folder = Path(folder)
    collector = EpisodeCollector(task, steps, process)
    for i, ids in enumerate(plan_shards(episodes, default_episodes_per_shard(episodes))):
        path = folder / shard_name(i)
        if not path.is_file():
            collector.write_shard(path, ids, seed)
    return folder
