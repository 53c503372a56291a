"""SAC learning throughput on CPU: our RLlib config vs RLlib's defaults vs plain PyTorch.

    python benchmarks/learner_speed.py [--env mosim-real] [--seconds 20] [--ablations]
        [--json benchmarks/results/learner_speed.json]

All variants run in ONE process, one after another, with ``torch.set_num_threads(--threads)``
(default 1) and a local ``ray.init(num_cpus=2)``:

* ``floor``: a minimal plain-PyTorch SAC update (actor and twin critics 256x256 ReLU, batch
  256, Adam, auto alpha, Polyak targets) on the env's obs/action sizes: the arithmetic floor.
  Measured before and after the RLlib variants; ratios use the mean of the two.
* ``ours``: ``algorithm_config("sac", ...)`` end to end (env sampling included) at one update
  per env step, plus ``ours-learner``: its learner alone on K=64 replayed minibatches per call.
* ``rllib-default``: ``SACConfig().environment(env)`` as it comes; ``rllib-default-256``: the
  same with 256x256 ReLU nets and ``fusionnet_hiddens=[]``. Both start learning at
  ``--learning-starts`` like ours (this does not change their per-step cost).
* ``--ablations``: ours with one fast setting reverted at a time.

updates/s = gradient steps per wall second (RLlib: learner ``num_module_steps_trained`` / batch
size); env steps/s = sampled env steps per wall second. For each RLlib variant the JSON keeps
RLlib's ``result["timers"]`` (EMA-smoothed seconds) and a short cProfile: where the time goes.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import os
import platform
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RESULTS = Path(__file__).parent / "results"
BATCH = 256
HIDDEN = 256


# --------------------------------------------------------------------------------------------
# Plain PyTorch SAC: the floor
# --------------------------------------------------------------------------------------------


def _mlp(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(i, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, o)
    )


def floor_updates_per_second(obs_dim: int, act_dim: int, seconds: float) -> float:
    """Gradient steps per second of a minimal SAC update (Haarnoja et al. 2018, v2)."""
    torch.manual_seed(0)
    pi, q1, q2 = _mlp(obs_dim, 2 * act_dim), _mlp(obs_dim + act_dim, 1), _mlp(obs_dim + act_dim, 1)
    t1, t2 = copy.deepcopy(q1), copy.deepcopy(q2)
    q_params = list(q1.parameters()) + list(q2.parameters())
    t_params = list(t1.parameters()) + list(t2.parameters())
    log_alpha = torch.zeros(1, requires_grad=True)
    opt_q = torch.optim.Adam(q_params, 3e-4)
    opt_pi = torch.optim.Adam(pi.parameters(), 3e-4)
    opt_a = torch.optim.Adam([log_alpha], 3e-4)
    o, o2 = torch.randn(BATCH, obs_dim), torch.randn(BATCH, obs_dim)
    a, r, d = torch.rand(BATCH, act_dim) * 2 - 1, torch.randn(BATCH), torch.zeros(BATCH)

    def act(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = pi(obs).chunk(2, -1)
        log_std = log_std.clamp(-20, 2)
        std = log_std.exp()
        u = mu + std * torch.randn_like(mu)
        logp = (-0.5 * ((u - mu) / std) ** 2 - log_std - 0.9189385).sum(-1)
        logp = logp - (2 * (0.6931472 - u - F.softplus(-2 * u))).sum(-1)
        return torch.tanh(u), logp

    def step() -> None:
        alpha = log_alpha.exp().detach()
        with torch.no_grad():
            a2, lp2 = act(o2)
            x2 = torch.cat([o2, a2], -1)
            y = r + 0.99 * (1 - d) * (torch.min(t1(x2), t2(x2)).squeeze(-1) - alpha * lp2)
        x = torch.cat([o, a], -1)
        lq = F.mse_loss(q1(x).squeeze(-1), y) + F.mse_loss(q2(x).squeeze(-1), y)
        opt_q.zero_grad()
        lq.backward()
        opt_q.step()
        an, lp = act(o)
        xn = torch.cat([o, an], -1)
        for p in q_params:
            p.requires_grad_(False)
        lpi = (alpha * lp - torch.min(q1(xn), q2(xn)).squeeze(-1)).mean()
        opt_pi.zero_grad()
        lpi.backward()
        opt_pi.step()
        for p in q_params:
            p.requires_grad_(True)
        la = -(log_alpha * (lp.detach() - act_dim)).mean()
        opt_a.zero_grad()
        la.backward()
        opt_a.step()
        with torch.no_grad():
            torch._foreach_lerp_(t_params, q_params, 0.005)

    for _ in range(20):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# RLlib variants
# --------------------------------------------------------------------------------------------

PROFILE_BUCKETS = {
    # (file suffix, function): label. cumulative seconds; buckets may nest (learner_update
    # contains torch_update and learner_connector).
    ("learner_group.py", "update"): "learner_update",
    ("torch_learner.py", "_uncompiled_update"): "torch_update(fwd+bwd+adam)",
    ("learner_connector_pipeline.py", "__call__"): "learner_connector(episodes->batch)",
    ("prioritized_episode_buffer.py", "sample"): "replay_sample",
    ("episode_replay_buffer.py", "sample"): "replay_sample",
    ("algorithms.py", "sample"): "replay_sample",
    ("single_agent_env_runner.py", "sample"): "env_runner_sample",
    ("env_runner_group.py", "sync_weights"): "sync_weights",
    ("metrics_logger.py", "reduce"): "metrics_reduce",
    ("algorithm.py", "_run_one_training_iteration"): "training_iteration",
    ("trainable.py", "train"): "train()",
}


def _profile(algo: Any, seconds: float) -> dict[str, Any]:
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    while time.perf_counter() - t0 < seconds:
        algo.train()
    prof.disable()
    stats = pstats.Stats(prof)
    total = max(time.perf_counter() - t0, 1e-9)
    buckets: dict[str, float] = {}
    for (path, _, func), (_, _, _, cum, _) in stats.stats.items():
        for (suffix, name), label in PROFILE_BUCKETS.items():
            if func == name and path.endswith(suffix):
                buckets[label] = buckets.get(label, 0.0) + cum
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    top = [
        {
            "function": f"{Path(path).name}:{line}({func})",
            "tottime_s": round(st[2], 3),
            "calls": st[1],
        }
        for (path, line, func), st in rows
    ]
    return {
        "seconds": round(total, 2),
        "cumulative_fraction": {k: round(v / total, 3) for k, v in sorted(buckets.items())},
        "top_tottime": top,
    }


def _counts(algo: Any, result: dict | None) -> tuple[float, float]:
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME

    env_steps = algo.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
    trained = 0.0
    if result:
        for mid, res in result.get("learners", {}).items():
            if mid != "__all_modules__" and isinstance(res, dict):
                trained += float(res.get("num_module_steps_trained_lifetime", 0.0))
    return float(env_steps), trained / algo.config.total_train_batch_size


def run_rllib(
    name: str, config: Any, seconds: float, learning_starts: int, profile_s: float
) -> dict[str, Any]:
    """End-to-end env steps/s and updates/s of ``config`` after learning has started."""
    print(f"[{name}] building", flush=True)
    algo = config.build_algo()
    try:
        result = None
        t0 = time.perf_counter()
        # Warm up past learning_starts and a few hundred updates, bounded in time.
        while time.perf_counter() - t0 < max(60.0, 4 * seconds):
            result = algo.train()
            steps, updates = _counts(algo, result)
            if steps >= learning_starts and updates >= 50:
                break
        steps0, updates0 = _counts(algo, result)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            result = algo.train()
        dt = time.perf_counter() - t0
        steps1, updates1 = _counts(algo, result)
        row = {
            "updates_per_s": (updates1 - updates0) / dt,
            "env_steps_per_s": (steps1 - steps0) / dt,
            "updates_per_env_step": (updates1 - updates0) / max(steps1 - steps0, 1.0),
            "seconds": round(dt, 2),
            "timers_s": {
                k: round(float(v), 5) for k, v in (result or {}).get("timers", {}).items()
            },
            "params": _param_counts(algo),
        }
        if profile_s > 0:
            row["profile"] = _profile(algo, profile_s)
        if name == "ours":
            row["learner_only_updates_per_s"] = learner_only(algo, seconds)
        print(
            f"[{name}] {row['updates_per_s']:.1f} updates/s, "
            f"{row['env_steps_per_s']:.1f} env steps/s",
            flush=True,
        )
        return row
    finally:
        algo.stop()


def _param_counts(algo: Any) -> dict[str, int]:
    from ray.rllib.core import DEFAULT_MODULE_ID

    module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
    out = {}
    for part in ("pi_encoder", "pi", "qf_encoder", "qf"):
        if hasattr(module, part):
            out[part] = sum(p.numel() for p in getattr(module, part).parameters())
    return out


def learner_only(algo: Any, seconds: float, k: int = 64) -> float:
    """Updates/s of ``algo``'s learner on K replayed minibatches per ``update()`` call."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    buf = algo.local_replay_buffer
    b = algo.config.total_train_batch_size

    def update() -> None:
        cols = {key: torch.from_numpy(v) for key, v in buf.sample(k * b).items()}
        cols["weights"] = torch.ones(k * b)
        cols["n_step"] = torch.ones(k * b)
        batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(cols)}, env_steps=k * b)
        algo.learner_group.update(
            batch=batch,
            minibatch_size=b,
            num_epochs=1,
            shuffle_batch_per_epoch=False,
            timesteps={"num_env_steps_sampled_lifetime": 0},
        )

    update()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        update()
        n += k
    return n / (time.perf_counter() - t0)


def _env_spec(args: argparse.Namespace) -> tuple[str, dict, str]:
    if args.env == "mosim-imagined":
        cfg = {"task": args.task, "checkpoint": args.checkpoint, "num_envs": args.num_envs}
        return args.env, cfg, "vector_entry_point"
    if args.env == "mosim-real":
        return args.env, {"task": args.task}, "vector_entry_point"
    return args.env, {}, "sync"


def _spaces(env: str, env_config: dict) -> tuple[int, int]:
    if env.startswith("mosim-"):
        from mosim_ray.envs.rllib import make_env

        e = make_env(env, env_config)
        obs = getattr(e, "single_observation_space", e.observation_space)
        act = getattr(e, "single_action_space", e.action_space)
    else:
        import gymnasium as gym

        e = gym.make(env)
        obs, act = e.observation_space, e.action_space
    e.close()
    return int(np.prod(obs.shape)), int(np.prod(act.shape))


def variants(args: argparse.Namespace) -> dict[str, Any]:
    from ray.rllib.algorithms.sac import SACConfig
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
    from ray.rllib.core.learner.torch.torch_learner import TorchLearner

    from mosim_ray.sac.learner import FastSACTorchLearner
    from mosim_ray.sac.presets import algorithm_config

    env, env_config, mode = _env_spec(args)
    n_envs = args.num_envs if env == "mosim-imagined" else 1
    common = dict(num_envs_per_env_runner=n_envs, vectorize_mode=mode)

    def ours(**overrides: Any) -> Any:
        return algorithm_config(
            "sac", env, env_config, learning_starts=args.learning_starts, **common, **overrides
        )

    def default(nets: bool) -> Any:
        c = SACConfig().environment(env, env_config=env_config)
        c.env_runners(num_envs_per_env_runner=n_envs, gym_env_vectorize_mode=mode)
        c.training(num_steps_sampled_before_learning_starts=args.learning_starts)
        if nets:
            c.rl_module(
                model_config={
                    "fcnet_hiddens": [256, 256],
                    "fcnet_activation": "relu",
                    "fusionnet_hiddens": [],
                }
            )
        return c

    class RLlibUpdateLearner(FastSACTorchLearner):
        """Ours, but RLlib's four backward passes, per-tensor nan check and looped Adam."""

        compute_gradients = SACTorchLearner.compute_gradients
        apply_gradients = TorchLearner.apply_gradients

        def configure_optimizers_for_module(self, module_id: Any, config: Any = None) -> None:
            SACTorchLearner.configure_optimizers_for_module(self, module_id, config)

    out: dict[str, Any] = {"ours": ours()}
    if not args.skip_defaults:
        out["rllib-default"] = default(nets=False)
        out["rllib-default-256"] = default(nets=True)
    if args.ablations:
        per = {"type": "PrioritizedEpisodeReplayBuffer", "capacity": int(1e6)}
        per |= {"alpha": 0.6, "beta": 0.4}
        out["ours/PER buffer+1 update per call"] = ours(
            replay_buffer_config=per, rollout_fragment_length=1
        )
        out["ours/rllib critic"] = ours(concat_q_critic=False)
        learner = ours()
        learner.training(learner_class=RLlibUpdateLearner)
        out["ours/rllib update step"] = learner
        out["ours/fragment 1"] = ours(rollout_fragment_length=1)
        out["ours/fragment 64"] = ours(rollout_fragment_length=64)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--env",
        default=None,
        help="gymnasium id (e.g. Pendulum-v1), mosim-real or mosim-imagined "
        "(default: mosim-real when mosim_ray.envs.rllib exists, else Pendulum-v1)",
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--checkpoint", default="pretrained/reacher-easy", help="mosim-imagined only")
    p.add_argument("--num-envs", type=int, default=16, help="mosim-imagined only")
    p.add_argument("--seconds", type=float, default=20.0, help="timed seconds per variant")
    p.add_argument("--learning-starts", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1, help="torch threads in this process")
    p.add_argument("--profile-seconds", type=float, default=4.0, help="0: no cProfile")
    p.add_argument("--ablations", action="store_true", help="ours with one setting reverted")
    p.add_argument("--skip-defaults", action="store_true", help="skip RLlib's default configs")
    p.add_argument("--json", default=str(RESULTS / "learner_speed.json"))
    args = p.parse_args(argv)

    os.environ.setdefault("MUJOCO_GL", "disable")
    torch.set_num_threads(args.threads)
    import ray

    if args.env is None:
        try:
            import mosim_ray.envs.rllib  # noqa: F401

            args.env = "mosim-real"
        except ImportError:
            args.env = "Pendulum-v1"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    if args.env.startswith("mosim-"):
        from mosim_ray.envs.rllib import register_envs

        register_envs()
    env, env_config, _ = _env_spec(args)
    obs_dim, act_dim = _spaces(env, env_config)

    # The machine is shared, so the load drifts: every variant is compared with a floor
    # measured right before it (and one after the last), its ratio uses the mean of the two.
    rows: dict[str, Any] = {}
    floors = [floor_updates_per_second(obs_dim, act_dim, args.seconds / 2)]
    print(f"[floor] {floors[-1]:.1f} updates/s", flush=True)
    try:
        for name, config in variants(args).items():
            rows[name] = run_rllib(
                name, config, args.seconds, args.learning_starts, args.profile_seconds
            )
            floors.append(floor_updates_per_second(obs_dim, act_dim, args.seconds / 2))
            print(f"[floor] {floors[-1]:.1f} updates/s", flush=True)
            local = (floors[-2] + floors[-1]) / 2
            rows[name]["floor_updates_per_s"] = local
            rows[name]["ratio_to_floor"] = rows[name]["updates_per_s"] / local
            if "learner_only_updates_per_s" in rows[name]:
                rows[name]["learner_only_ratio_to_floor"] = (
                    rows[name]["learner_only_updates_per_s"] / local
                )
    finally:
        ray.shutdown()
    floor = float(np.median(floors))

    report = {
        "command": "python benchmarks/learner_speed.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "ray": ray.__version__,
        },
        "torch_threads": torch.get_num_threads(),
        "env": env,
        "env_config": env_config,
        "obs_dim": obs_dim,
        "act_dim": act_dim,
        "batch": BATCH,
        "seconds_per_variant": args.seconds,
        "floor": {"updates_per_s_median": floor, "measurements": floors},
        "variants": rows,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))

    print(
        f"\n{env} obs {obs_dim} act {act_dim}, batch {BATCH}, {report['torch_threads']} thread(s)"
    )
    head = f"{'variant':36s} {'updates/s':>10s} {'env steps/s':>12s} {'floor':>7s} {'ratio':>6s}"
    print(head)
    print(f"{'floor (plain PyTorch), median':36s} {floor:10.1f} {'':>12s} {floor:7.1f} {1.0:6.2f}")
    for name, row in rows.items():
        print(
            f"{name:36s} {row['updates_per_s']:10.1f} {row['env_steps_per_s']:12.1f} "
            f"{row['floor_updates_per_s']:7.1f} {row['ratio_to_floor']:6.2f}"
        )
        if "learner_only_updates_per_s" in row:
            print(
                f"{'ours-learner (K=64 per call)':36s} {row['learner_only_updates_per_s']:10.1f} "
                f"{'':>12s} {row['floor_updates_per_s']:7.1f} "
                f"{row['learner_only_ratio_to_floor']:6.2f}"
            )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
