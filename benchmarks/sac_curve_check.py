"""Same SAC, faster: learning curves of RLlib's own SAC and ours at the same number of updates.

    python benchmarks/sac_curve_check.py [--env Pendulum-v1] [--steps 6000] [--seeds 0 1]
        [--arms rllib ours ours-bfloat16 ours-fragment1 ours-fragment16]

"rllib": ``SACConfig`` with our hyperparameters (256x256 ReLU, ``fusionnet_hiddens=[]``, lr 3e-4,
batch 256, initial alpha 0.2, one update per env step through RLlib's own prioritized episode
buffer, learner and ``training_step``). "ours": ``algorithm_config("sac", ...)``;
"ours-bfloat16": ours with ``network_dtype="bfloat16"`` (the update's MLPs under CPU autocast);
"ours-fragmentK": ours with rollout fragments of K env steps instead of the default 4 (how stale
the behaviour policy may be: up to K updates).
All learn from
step 1000 with one update per env step; the curve is the mean return of recent training
episodes against env steps (= updates + 1000). Writes benchmarks/results/sac_curve_check.json/.png
with, per run, the summary the comparison reads: the first iteration above ``--good`` and the
median and mean return, and the iterations at ``--collapse`` or below, after ``--late`` steps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


ARMS = ("rllib", "ours", "ours-bfloat16", "ours-fragment1", "ours-fragment16")


def arm_config(name: str, env: str, seed: int):
    """The algorithm config of arm ``name`` (one of ``ARMS``)."""
    if name == "rllib":
        return rllib_sac(env, seed)
    dtype = "bfloat16" if name == "ours-bfloat16" else "float32"
    config = algorithm_config(
        "sac", env, seed=seed, min_sample_timesteps_per_iteration=200, network_dtype=dtype
    )
    if name.startswith("ours-fragment"):
        config.env_runners(rollout_fragment_length=int(name.removeprefix("ours-fragment")))
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


def summarize(run: dict, good: float, late: int, collapse: float) -> dict:
    """First env step with return above ``good``; late (after ``late`` steps) median, mean and
    number of iterations at ``collapse`` or below."""
    steps, ret = np.asarray(run["env_steps"]), np.asarray(run["return_mean"], float)
    above = np.flatnonzero(ret > good)
    tail = ret[(steps > late) & np.isfinite(ret)]
    return {
        "first_above_good": int(steps[above[0]]) if len(above) else None,
        "late_median": float(np.median(tail)),
        "late_mean": float(np.mean(tail)),
        "late_iterations": int(len(tail)),
        "late_collapses": int(np.sum(tail <= collapse)),
        "wall_s": float(run["wall_s"][-1]),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--env", default="Pendulum-v1")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--good", type=float, default=-200.0, help="return that counts as learned")
    p.add_argument("--late", type=int, default=4000, help="env steps after which returns count")
    p.add_argument("--collapse", type=float, default=-1000.0, help="a late return this low")
    p.add_argument("--arms", nargs="+", choices=ARMS, default=["rllib", "ours"])
    p.add_argument("--out", default=str(RESULTS / "sac_curve_check.json"))
    args = p.parse_args(argv)
    from mosim_ray.runs.provenance import provenance

    command = "python benchmarks/sac_curve_check.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    torch.set_num_threads(1)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results = {
        "env": args.env,
        "steps": args.steps,
        "runs": {},
        "summary": {},
        "command": command,
        "provenance": provenance(command),
        "load_average_start": os.getloadavg(),
    }
    for seed in args.seeds:
        for name in args.arms:
            c = curve(arm_config(name, args.env, seed), args.steps)
            results["runs"][f"{name}/seed{seed}"] = c
            summary = summarize(c, args.good, args.late, args.collapse)
            results["summary"][f"{name}/seed{seed}"] = summary
            print(f"{name} seed {seed}: {summary}", flush=True)
    results["load_average_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(results, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for key, c in results["runs"].items():
        ax.plot(
            c["env_steps"],
            c["return_mean"],
            color=f"C{ARMS.index(key.split('/')[0])}",
            label=f"{key} ({c['wall_s'][-1]:.0f} s)",
        )
    ax.set_xlabel("env steps (one update per step after 1,000)")
    ax.set_ylabel("training episode return (mean of recent)")
    ax.set_title(f"{args.env}: {' vs '.join(args.arms)}, same updates")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(Path(args.out).with_suffix(".png"), dpi=120)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
