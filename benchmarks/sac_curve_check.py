"""Same SAC, faster: learning curves of RLlib's own SAC and ours at the same number of updates.

    python benchmarks/sac_curve_check.py [--env Pendulum-v1] [--steps 6000] [--seeds 0 1]

"rllib": ``SACConfig`` with our hyperparameters (256x256 ReLU, ``fusionnet_hiddens=[]``, lr 3e-4,
batch 256, initial alpha 0.2, one update per env step through RLlib's own prioritized episode
buffer, learner and ``training_step``). "ours": ``algorithm_config("sac", ...)``. Both learn from
step 1000 with one update per env step; the curve is the mean return of recent training
episodes against env steps (= updates + 1000). Writes benchmarks/results/sac_curve_check.json/.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import ray
import torch

from mosim_ray.sac.presets import algorithm_config

RESULTS = Path(__file__).parent / "results"


def rllib_sac(env: str, seed: int):
    from ray.rllib.algorithms.sac import SACConfig

    config = SACConfig().environment(env)
    config.training(
        gamma=0.99,
        tau=0.005,
        initial_alpha=0.2,
        target_entropy="auto",
        actor_lr=3e-4,
        critic_lr=3e-4,
        alpha_lr=3e-4,
        train_batch_size_per_learner=256,
        num_steps_sampled_before_learning_starts=1000,
        replay_buffer_config={"type": "PrioritizedEpisodeReplayBuffer", "capacity": int(1e6)},
    )
    config.rl_module(
        model_config={
            "fcnet_hiddens": [256, 256],
            "fcnet_activation": "relu",
            "head_fcnet_hiddens": [],
            "fusionnet_hiddens": [],
        }
    )
    config.env_runners(num_env_runners=0)
    config.reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=200)
    config.debugging(seed=seed)
    return config


def curve(config, steps: int) -> dict:
    algo = config.build_algo()
    out = {"env_steps": [], "return_mean": [], "wall_s": []}
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        r = algo.train()
        done = int(r["env_runners"]["num_env_steps_sampled_lifetime"])
        out["env_steps"].append(done)
        out["return_mean"].append(float(r["env_runners"].get("episode_return_mean", np.nan)))
        out["wall_s"].append(time.perf_counter() - t0)
    algo.stop()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--env", default="Pendulum-v1")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out", default=str(RESULTS / "sac_curve_check.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results = {
        "env": args.env,
        "steps": args.steps,
        "runs": {},
        "command": "python benchmarks/sac_curve_check.py " + " ".join(argv or []),
    }
    for seed in args.seeds:
        for name, config in (
            ("rllib", rllib_sac(args.env, seed)),
            (
                "ours",
                algorithm_config(
                    "sac", args.env, seed=seed, min_sample_timesteps_per_iteration=200
                ),
            ),
        ):
            c = curve(config, args.steps)
            results["runs"][f"{name}/seed{seed}"] = c
            tail = np.nanmean(c["return_mean"][-3:])
            print(
                f"{name} seed {seed}: final return {tail:.1f}, {c['wall_s'][-1]:.0f} s", flush=True
            )
    Path(args.out).write_text(json.dumps(results, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for key, c in results["runs"].items():
        ax.plot(
            c["env_steps"],
            c["return_mean"],
            color="C0" if key.startswith("rllib") else "C1",
            label=f"{key} ({c['wall_s'][-1]:.0f} s)",
        )
    ax.set_xlabel("env steps (one update per step after 1,000)")
    ax.set_ylabel("training episode return (mean of recent)")
    ax.set_title(f"{args.env}: RLlib SAC vs ours, same updates")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(Path(args.out).with_suffix(".png"), dpi=120)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
