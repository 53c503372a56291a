"""Few-shot MoSim RL (the paper's schedule, first implementation): SAC learns in imagination, the
model keeps learning from a trickle of real data collected with the current policy.

Per imagined step budget: every ``model_update_every`` imagined steps the ``ModelTrainerActor``
makes one model update from the real dataset and publishes the weights to the ``ModelStore``;
after every ``imagined_per_round`` imagined steps, Ray tasks run the current policy for
``real_per_round`` real steps in parallel, the trainer ingests them (by episode id: a retried
task never counts twice), and the store publishes the real states that imagined episodes reset
from. Env runners pull both by version. Every count a sample-efficiency claim needs is kept.

This is a driver loop around an RLlib algorithm (``run_few_shot``), run by ``pipelines/few_shot.py``
and sweepable by Tune as a function trainable; it is not (yet) an RLlib ``Algorithm`` subclass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray

from mosim_ray.actors.model_store import model_store
from mosim_ray.actors.model_trainer import ModelTrainerActor
from mosim_ray.data import EpisodeCollector
from mosim_ray.data.processes import ProcessConfig
from mosim_ray.rl.algorithms import algorithm_config
from mosim_ray.rl.envs import IMAGINED, register_envs
from mosim_ray.rl.evaluation import RealEvaluator
from mosim_ray.tasks import get_spec

NEW_EPISODE_IDS = 1_000_000
"""Ids of policy episodes start here, clear of the starting dataset's ids."""


@dataclass(frozen=True)
class FewShotRun:
    task: str = "reacher-easy"
    checkpoint: str = "pretrained/reacher-easy"
    """the zero-shot starting model"""
    data: str = "data/reacher-easy"
    """real shards the model was trained on: the trainer's starting dataset"""
    real_steps: int = 5000
    """real-step budget (collected with the policy, beyond ``data``)"""
    imagined_per_round: int = 5000
    real_per_round: int = 1000
    model_update_every: int = 100
    collectors: int = 2
    collect_noise: float = 0.1
    num_envs: int = 16
    env_runners: int = 0
    time_limit: int = 100
    learning_starts: int = 1000
    eval_episodes: int = 10
    eval_time_limit: int = 1000
    model_batch: int = 256
    model_horizon: int = 16
    model_lr: float = 3e-4
    seed: int = 0
    overrides: dict[str, Any] | None = None


@ray.remote(num_cpus=1, max_retries=3)
def collect_with_policy(
    task: str, steps: int, module, episodes: list[int], seed: int, noise: float
):
    """Real episodes of the current policy (seeded by (seed, episode id): a retry is identical)."""
    import torch

    from mosim_ray.rl.policy import RLlibPolicy

    torch.set_num_threads(1)
    low, high = get_spec(task).action_bounds
    policy = RLlibPolicy(module, low, high, noise=noise, seed=seed)
    collector = EpisodeCollector(task, steps, ProcessConfig(kind="policy"), policy=policy)
    return collector.collect(episodes, seed)


def _resets(episodes: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    states = np.concatenate([np.hstack([e["qpos"], e["qvel"]]) for e in episodes])
    return states, np.concatenate([e["context"] for e in episodes])


def run_few_shot(
    run: FewShotRun, out: str | Path, on_round: Callable[[dict], None] | None = None
) -> dict[str, Any]:
    """The schedule until ``run.real_steps`` real steps; returns counters, curve and evaluation."""
    if run.real_per_round % run.collectors:
        raise ValueError("real_per_round must be a multiple of collectors (equal episodes)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"few-shot-{out.resolve().name}-{run.seed}"
    store = model_store(f"{name}-store")
    trainer = ModelTrainerActor.options(name=f"{name}-trainer").remote(
        str(run.checkpoint), str(out / "trainer"), run.data,
        {"batch_size": run.model_batch, "horizon": run.model_horizon, "lr": run.model_lr,
         "seed": run.seed}, f"{name}-store",
    )  # fmt: skip
    ray.get(trainer.publish_now.remote())  # version 1: the zero-shot model
    register_envs()
    env_config = {"model_store": f"{name}-store", "task": run.task, "time_limit": run.time_limit,
                  "resets_from_store": True,
                  "sync_every": max(1, run.model_update_every // run.num_envs)}  # fmt: skip
    config = algorithm_config(
        "sac", IMAGINED, env_config, num_env_runners=run.env_runners,
        num_envs_per_env_runner=run.num_envs, vectorize_mode="vector_entry_point",
        seed=run.seed, learning_starts=run.learning_starts, **(run.overrides or {}),
    )  # fmt: skip
    algo = config.build_algo()
    evaluator = RealEvaluator(config, run.task, run.eval_episodes, run.eval_time_limit)
    counts = {"real_steps": 0, "imagined_steps": 0, "model_updates": 0, "policy_updates": 0,
              "rounds": 0, "real_episodes": 0}  # fmt: skip
    curve, t0 = [], time.perf_counter()
    time_in = {"imagined_and_policy": 0.0, "model": 0.0, "real_collection": 0.0, "eval": 0.0}
    steps_per_episode = run.real_per_round // run.collectors
    next_round, version = run.imagined_per_round, 1
    try:
        first = evaluator(algo)
        curve.append({"real_steps": 0, "imagined_steps": 0, "real_return_mean": first.mean,
                      "real_return_std": first.std, "model_version": 1})  # fmt: skip
        while counts["real_steps"] < run.real_steps:
            t = time.perf_counter()
            result = algo.train()
            time_in["imagined_and_policy"] += time.perf_counter() - t
            counts["imagined_steps"] = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
            counts["policy_updates"] = int(result.get("num_gradient_updates_lifetime", 0))
            owed = counts["imagined_steps"] // run.model_update_every - counts["model_updates"]
            t = time.perf_counter()
            if owed > 0:
                state = ray.get(trainer.train.remote(owed))
                counts["model_updates"] += owed
                version = state["version"]
            time_in["model"] += time.perf_counter() - t
            if counts["imagined_steps"] < next_round:
                continue
            # a real round with the current policy, in parallel
            t = time.perf_counter()
            base = NEW_EPISODE_IDS + counts["rounds"] * run.collectors
            module = algo.get_module()
            refs = [collect_with_policy.remote(run.task, steps_per_episode, module, [base + i],
                                               run.seed, run.collect_noise)
                    for i in range(run.collectors)]  # fmt: skip
            episodes = [ep for r in ray.get(refs) for ep in r]
            new = ray.get(trainer.add_episodes.remote(episodes))
            ray.get(store.publish_resets.remote(*_resets(episodes)))
            counts["rounds"] += 1
            counts["real_episodes"] += new
            counts["real_steps"] += new * steps_per_episode
            next_round += run.imagined_per_round
            time_in["real_collection"] += time.perf_counter() - t
            t = time.perf_counter()
            res = evaluator(algo)
            time_in["eval"] += time.perf_counter() - t
            point = {**counts, "real_return_mean": res.mean, "real_return_std": res.std,
                     "model_version": version, "wall_s": time.perf_counter() - t0}  # fmt: skip
            curve.append(point)
            if on_round is not None:
                on_round(point)
        final = evaluator(algo)
        held = ray.get(trainer.state.remote())
        algo.save_to_path(str((out / "policy").resolve()))
    finally:
        algo.stop()
        evaluator.stop()
        ray.kill(trainer, no_restart=True)
        ray.kill(store)
    return {
        "task": run.task,
        "schedule": "few_shot",
        "real_return_mean": final.mean,
        "real_return_std": final.std,
        "real_returns": final.returns.tolist(),
        "eval_episodes": run.eval_episodes,
        **counts,
        "trainer_real_steps": held["real_steps"],
        "trainer_model_version": held["version"],
        "seconds": time_in,
        "wall_s": time.perf_counter() - t0,
        "curve": curve,
        "settings": asdict(run),
    }
