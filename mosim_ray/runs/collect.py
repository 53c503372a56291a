"""Collect real MuJoCo rollouts with parallel Ray actors into Parquet shards.

    python pipelines/collect.py --task cheetah-run --episodes 20 --steps 1000 --out data/cheetah-run

The same command again resumes: shards already written with the same settings are kept. The same
seed gives the same bytes whatever the number of actors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mosim_ray.data.processes import ProcessConfig
from mosim_ray.runs.kind import Report, RunKind
from mosim_ray.runs.names import folder_name


@dataclass(frozen=True)
class CollectConfig:
    """Real rollouts of an action process."""

    task: str = "reacher-easy"
    """dm_control task (reacher-easy, cheetah-run, ...) or mjcf:<path to model.xml>"""
    episodes: int = 20
    """number of episodes"""
    steps: int = 1000
    """control steps per episode"""
    process: ProcessConfig = field(default_factory=ProcessConfig)
    """the action process: uniform (i.i.d., the paper's random data), poisson (the original
    MoSim sampler: switch every k steps, zero with probability p) or ou (smooth)"""
    actors: int | None = None
    """collector actors (default: Ray's CPUs)"""
    seed: int = 0
    episodes_per_shard: int | None = None
    """episodes per shard (default: from the episode count alone, so any actor count writes the
    same files)"""

    def __post_init__(self) -> None:
        from mosim_ray.tasks import check_task_name

        check_task_name(self.task)
        if self.episodes < 1 or self.steps < 1:
            raise ValueError(
                f"need episodes >= 1 and steps >= 1, got {self.episodes}, {self.steps}"
            )
        if self.actors is not None and self.actors < 1:
            raise ValueError(f"actors must be >= 1, got {self.actors}")


def run(
    config: CollectConfig, out: str | Path, *, report: Report | None = None, progress: bool = False
) -> dict[str, Any]:
    """Collect into ``out`` (Ray started or joined), read the shards back, return the summary."""
    from mosim_ray.actors.collector import collect_shards
    from mosim_ray.actors.ray_session import start_ray
    from mosim_ray.data import RolloutDataset

    start_ray()
    out = Path(out).resolve()  # the actors write there, from their own working folder
    summary = collect_shards(
        config.task,
        config.episodes,
        config.steps,
        out,
        actors=config.actors,
        process=config.process,
        seed=config.seed,
        episodes_per_shard=config.episodes_per_shard,
        progress=progress,
    )
    data = RolloutDataset.open(out)  # read back: proves the shards are whole
    return {
        **asdict(summary),
        "read_back_episodes": len(data.episodes),
        "read_back_steps": data.num_steps,
        "settings": asdict(config),
    }


def random_data(task: str, episodes: int, steps: int, folder: str | Path, seed: int) -> str:
    """Starting data for a run given none: ``episodes`` random (Poisson-switching) episodes of
    ``task`` in ``folder``, written in this process (a Tune trial may start no actor of its own;
    the same files the collect kind writes with the same seed), kept and reused."""
    from mosim_ray.data.rollout import write_dataset

    write_dataset(task, episodes, steps, folder, ProcessConfig(kind="poisson"), seed)
    return str(Path(folder).resolve())


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['task']}: {result['episodes']} episodes, {result['steps']:,} steps in "
        f"{result['shards']} shards ({result['reused_shards']} reused), {result['seconds']:.1f} s "
        f"with {result['actors']} actors; read back {result['read_back_episodes']} episodes, "
        f"{result['read_back_steps']:,} steps"
    )


def default_out(config: CollectConfig) -> str:
    return f"data/{folder_name(config.task)}"


KIND = RunKind(
    name="collect",
    config=CollectConfig,
    run=run,
    doc=__doc__,
    default_out=default_out,
    summary=summary,
)
