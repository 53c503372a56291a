"""SAC learning throughput on CPU, side by side: ours (RLlib), Stable-Baselines3, plain PyTorch.

    python benchmarks/learner_speed.py [--env mosim-real] [--threads 1] [--seconds 12]
        [--rounds 3] [--paired-rounds 5] [--candidates [KEY ...]] [--ablations] [--defaults]
        [--json benchmarks/results/learner_speed.json]

ONE process, ``torch.set_num_threads(--threads)``, a local ``ray.init(num_cpus=2)``. Every
variant is built and warmed up first (past ``--learning-starts`` and 50 updates); then, for
``--rounds`` rounds, each variant trains for ``--seconds`` in turn with a plain-PyTorch floor
measured between variants, so that all see the same drifting load. A slice's ratio uses the mean
of the floors right before and after it; the table gives medians over the rounds. With
``--paired-rounds N``, ``sb3`` and every ``ours/...`` variant then run against ``ours`` with their
rollout fragments (or learner calls) alternating, N blocks of ``--seconds``: each block's ratio
compares two rates measured under the same load, the most precise comparison here.

* ``floor``: a minimal plain-PyTorch SAC update (actor and twin critics 256x256 ReLU, batch 256,
  Adam, auto alpha, Polyak targets) on the env's obs/action sizes: the arithmetic floor.
* ``ours``: ``algorithm_config("sac", ...)`` end to end (env sampling included) at one update per
  env step; ``ours-learner``: its learner alone, K=64 replayed minibatches per learner call.
* ``sb3``: Stable-Baselines3's SAC (``pip install stable-baselines3==2.9.2``, the ``bench``
  extra) on the same env, 256x256 nets, batch 256, one gradient step per env step
  (``train_freq=1, gradient_steps=1``), learning from ``--learning-starts``: updates/s end to end.
* ``--candidates``: ours with parts of its update path as RLlib has them: ``before`` has all of
  them (``module.forward_train``, RLlib's SAC loss with its statistics on every minibatch,
  ``learner_group.update`` per rollout fragment, ``env_runner_group.sync_weights``); the
  ``rllib ...`` rows revert one each; the ``compiled`` rows add ``torch_compile_learner=True``
  (inductor) for RLlib's ``forward_train`` or for the complete update step; ``bfloat16`` runs the
  update's MLPs under CPU autocast (``network_dtype``).
* ``--ablations``: ours with one older fast setting reverted at a time (buffer, critic, update
  step, rollout fragment).
* ``--defaults``: ``SACConfig().environment(env)`` as it comes, and with 256x256 ReLU nets and
  ``fusionnet_hiddens=[]``.

updates/s = gradient steps per wall second (RLlib: learner ``num_module_steps_trained`` / batch;
SB3: ``_n_updates``); env steps/s = sampled env steps per wall second. For each RLlib variant the
JSON keeps RLlib's ``result["timers"]`` and a short cProfile (``--profile-seconds``, after the
rounds): where the time goes.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import os
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
# Runners: build once, then train for a few seconds at a time
# --------------------------------------------------------------------------------------------

PROFILE_BUCKETS = {
    # (path suffix, function): label. cumulative seconds; buckets may nest (learner_update
    # contains torch_update, training_iteration contains everything).
    ("learner_group.py", "update"): "learner_update",
    ("sac/learner.py", "update_from_arrays"): "learner_update",
    ("sac/learner.py", "_uncompiled_update"): "torch_update(fwd+bwd+adam)",
    ("torch_learner.py", "_uncompiled_update"): "torch_update(rllib: fwd+bwd+adam)",
    ("learner_connector_pipeline.py", "__call__"): "learner_connector(episodes->batch)",
    ("prioritized_episode_buffer.py", "sample"): "replay_sample",
    ("episode_replay_buffer.py", "sample"): "replay_sample",
    ("sac/buffer.py", "sample"): "replay_sample",
    ("sac/buffer.py", "add"): "replay_add",
    ("single_agent_env_runner.py", "sample"): "env_runner_sample",
    ("sac/algorithm.py", "_sync_weights"): "sync_weights",
    ("env_runner_group.py", "sync_weights"): "sync_weights(rllib)",
    ("metrics_logger.py", "reduce"): "metrics_reduce",
    ("metrics_logger.py", "log_value"): "metrics_log_value",
    ("metrics_logger.py", "aggregate"): "metrics_aggregate",
    ("algorithm.py", "_run_one_training_iteration"): "training_iteration",
}


def _profile(step: Any, seconds: float) -> dict[str, Any]:
    """Cumulative time fractions and top functions of ``step()`` called for ``seconds``."""
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    while time.perf_counter() - t0 < seconds:
        step()
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


class RLlibRunner:
    """An RLlib algorithm trained by whole ``train()`` iterations."""

    def __init__(self, config: Any, learning_starts: int, learner_alone: bool = False) -> None:
        t0 = time.perf_counter()
        self.algo = config.build_algo()
        self.learning_starts = learning_starts
        self.learner_alone = learner_alone
        self.can_pair = hasattr(self.algo.local_replay_buffer, "add_arrays")  # ours only
        self.result: dict | None = None
        self.info: dict[str, Any] = {"build_s": round(time.perf_counter() - t0, 1)}

    def counts(self) -> tuple[float, float]:
        """(env steps sampled, gradient updates) so far."""
        from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME

        algo = self.algo
        steps = algo.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        trained = 0.0
        for mid, res in (self.result or {}).get("learners", {}).items():
            if mid != "__all_modules__" and isinstance(res, dict):
                trained += float(res.get("num_module_steps_trained_lifetime", 0.0))
        return float(steps), trained / algo.config.total_train_batch_size

    def train(self) -> None:
        self.result = self.algo.train()

    def warm_up(self, budget_s: float) -> None:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < budget_s:
            self.train()
            steps, updates = self.counts()
            if steps >= self.learning_starts and updates >= 50:
                break
        self.info["warm_up_s"] = round(time.perf_counter() - t0, 1)
        self.info["params"] = _param_counts(self.algo)

    def run(self, seconds: float) -> dict[str, float]:
        steps0, updates0 = self.counts()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            self.train()
        dt = time.perf_counter() - t0
        steps1, updates1 = self.counts()
        return {
            "updates_per_s": (updates1 - updates0) / dt,
            "env_steps_per_s": (steps1 - steps0) / dt,
            "seconds": dt,
        }

    def step(self) -> int:
        """One ``training_step()`` (one rollout fragment and its updates); updates done."""
        buffer = self.algo.local_replay_buffer
        added = buffer._added
        self.algo.training_step()
        return round((buffer._added - added) * self.algo.config.updates_per_env_step)

    def finish(self, profile_s: float) -> None:
        self.info["timers_s"] = {
            k: round(float(v), 5) for k, v in (self.result or {}).get("timers", {}).items()
        }
        if profile_s > 0:
            self.info["profile"] = _profile(self.train, profile_s)

    def close(self) -> None:
        self.algo.stop()


class LearnerAloneRunner:
    """The learner of an ``RLlibRunner`` (after its warm-up) on K replayed minibatches a call."""

    can_pair = True

    def __init__(self, owner: RLlibRunner, k: int = 64) -> None:
        self.owner, self.k, self.info = owner, k, {"minibatches_per_call": k}

    def step(self) -> int:
        self.update()
        return self.k

    def update(self) -> None:
        algo = self.owner.algo
        b = algo.config.total_train_batch_size
        data = algo.local_replay_buffer.sample(self.k * b)
        timesteps = {"num_env_steps_sampled_lifetime": 0}
        learner = algo._local_learner()
        if learner is not None:
            learner.update_from_arrays(data, minibatch_size=b, timesteps=timesteps)
        else:
            algo._update_learner_group(data, b, timesteps)

    def warm_up(self, budget_s: float) -> None:
        self.update()

    def run(self, seconds: float) -> dict[str, float]:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            self.update()
            n += self.k
        return {"updates_per_s": n / (time.perf_counter() - t0), "seconds": seconds}

    def finish(self, profile_s: float) -> None:
        if profile_s > 0:
            self.info["profile"] = _profile(self.update, profile_s)

    def close(self) -> None:
        pass


class SB3Runner:
    """Stable-Baselines3's SAC, stopped by a callback after a few seconds of ``learn``."""

    def __init__(self, env: Any, learning_starts: int, seed: int = 0) -> None:
        import stable_baselines3
        from stable_baselines3 import SAC

        self.model = SAC(
            "MlpPolicy",
            env,
            policy_kwargs={"net_arch": [HIDDEN, HIDDEN]},
            learning_rate=3e-4,
            buffer_size=1_000_000,
            learning_starts=learning_starts,
            batch_size=BATCH,
            tau=0.005,
            gamma=0.99,
            train_freq=1,
            gradient_steps=1,
            ent_coef="auto_0.2",
            device="cpu",
            seed=seed,
            verbose=0,
        )
        self.learning_starts = learning_starts
        self.info: dict[str, Any] = {"version": stable_baselines3.__version__}
        self.can_pair = True
        self._callback: Any = None

    def _learn(self, seconds: float) -> None:
        from stable_baselines3.common.callbacks import BaseCallback

        class Stop(BaseCallback):
            def _on_training_start(self) -> None:
                self.t0 = time.perf_counter()

            def _on_step(self) -> bool:
                return time.perf_counter() - self.t0 < seconds

        self.model.learn(10**9, callback=Stop(), reset_num_timesteps=False)

    def step(self, env_steps: int = 4) -> int:
        """``env_steps`` turns of ``learn``'s own loop (collect one step, one gradient step),
        without a ``learn`` call's set-up; updates done."""
        m = self.model
        if self._callback is None:
            _, self._callback = m._setup_learn(10**9, None, reset_num_timesteps=False)
            self._callback.on_training_start(locals(), globals())
        before = m._n_updates
        for _ in range(env_steps):
            m.collect_rollouts(
                m.env,
                train_freq=m.train_freq,
                action_noise=m.action_noise,
                callback=self._callback,
                learning_starts=m.learning_starts,
                replay_buffer=m.replay_buffer,
                log_interval=None,
            )
            if m.num_timesteps > m.learning_starts:
                m.train(batch_size=m.batch_size, gradient_steps=m.gradient_steps)
        return m._n_updates - before

    def warm_up(self, budget_s: float) -> None:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < budget_s and self.model._n_updates < 50:
            self._learn(2.0)
        self.info["warm_up_s"] = round(time.perf_counter() - t0, 1)

    def run(self, seconds: float) -> dict[str, float]:
        m = self.model
        updates0, steps0, t0 = m._n_updates, m.num_timesteps, time.perf_counter()
        self._learn(seconds)
        dt = time.perf_counter() - t0
        return {
            "updates_per_s": (m._n_updates - updates0) / dt,
            "env_steps_per_s": (m.num_timesteps - steps0) / dt,
            "seconds": dt,
        }

    def finish(self, profile_s: float) -> None:
        pass

    def close(self) -> None:
        self.model.env.close()


def _param_counts(algo: Any) -> dict[str, int]:
    from ray.rllib.core import DEFAULT_MODULE_ID

    module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
    out = {}
    for part in ("pi_encoder", "pi", "qf_encoder", "qf"):
        if hasattr(module, part):
            out[part] = sum(p.numel() for p in getattr(module, part).parameters())
    return out


# --------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------


def _env_spec(args: argparse.Namespace) -> tuple[str, dict, str]:
    if args.env == "mosim-imagined":
        cfg = {"task": args.task, "checkpoint": args.checkpoint, "num_envs": args.num_envs}
        return args.env, cfg, "vector_entry_point"
    if args.env == "mosim-real":
        return args.env, {"task": args.task}, "vector_entry_point"
    return args.env, {}, "sync"


def _single_env(env: str, env_config: dict) -> Any:
    """One gymnasium env of ``env`` (for SB3 and the spaces)."""
    import gymnasium as gym

    if env == "mosim-real":
        from mosim_ray.envs.real import RealEnv

        return RealEnv(env_config["task"])
    if env.startswith("mosim-"):
        raise ValueError(f"{env}: no single-env form here; use mosim-real or a gymnasium id")
    return gym.make(env)


def _spaces(env: str, env_config: dict) -> tuple[int, int]:
    if env.startswith("mosim-"):
        from mosim_ray.envs.rllib import make_env

        e = make_env(env, env_config)
        obs = getattr(e, "single_observation_space", e.observation_space)
        act = getattr(e, "single_action_space", e.action_space)
    else:
        e = _single_env(env, env_config)
        obs, act = e.observation_space, e.action_space
    e.close()
    return int(np.prod(obs.shape)), int(np.prod(act.shape))


def _candidates() -> dict[str, tuple[str, tuple[type, type, dict[str, Any]]]]:
    """key -> (name, (algorithm class, learner class, config overrides)): ours with parts of
    the update path as RLlib has them."""
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner

    from mosim_ray.sac.algorithm import FastSAC
    from mosim_ray.sac.learner import FastSACTorchLearner

    class RLlibLoop(FastSAC):
        """learner_group.update per fragment: RLlib's minibatch iterator and metrics."""

        def _local_learner(self) -> None:
            return None

    class RLlibSync(FastSAC):
        """env_runner_group.sync_weights: numpy copy, object store, set_state."""

        def _weight_pairs(self) -> None:
            return None

    class Before(RLlibLoop, RLlibSync):
        pass

    class RLlibForward(FastSACTorchLearner):
        """RLlib's module.forward_train instead of the lean forward pass."""

        def _lean_forward(self, module_id: Any) -> None:
            return None

    class CompiledForward(RLlibForward):
        """RLlib's forward_train through torch.compile (inductor). RLlib 2.60's own
        ``torch_compile_learner`` (forward_train) skips the modules of a MultiRLModule."""

        def build(self) -> None:
            from ray.rllib.core.rl_module.torch.torch_compile_config import TorchCompileConfig

            super().build()
            for module in self.module.values():
                module.compile(TorchCompileConfig())

    class CompiledLeanForward(FastSACTorchLearner):
        """The lean forward pass through torch.compile (inductor)."""

        def _lean_forward(self, module_id: Any) -> Any:
            lean = super()._lean_forward(module_id)
            if lean is not None and not hasattr(lean, "compiled"):
                lean.compiled = torch.compile(lean.__call__)
            return None if lean is None else lean.compiled

    class RLlibLossAndForward(RLlibForward):
        """... and RLlib's own SAC loss (stats and TD errors on every minibatch)."""

        compute_loss_for_module = SACTorchLearner.compute_loss_for_module

    compile_update = {
        "torch_compile_learner": True,
        "torch_compile_learner_what_to_compile": "complete_update",
    }
    return {
        "before": (
            "ours/before (rllib forward, loss, update loop, weight sync)",
            (Before, RLlibLossAndForward, {}),
        ),
        "rllib-forward": ("ours/rllib forward_train", (FastSAC, RLlibForward, {})),
        "rllib-loop": ("ours/rllib update loop", (RLlibLoop, FastSACTorchLearner, {})),
        "rllib-sync": ("ours/rllib weight sync", (RLlibSync, FastSACTorchLearner, {})),
        "rllib-forward-compiled": (
            "ours/rllib forward_train compiled",
            (FastSAC, CompiledForward, {}),
        ),
        "lean-forward-compiled": (
            "ours/lean forward compiled",
            (FastSAC, CompiledLeanForward, {}),
        ),
        "update-compiled": (
            "ours/update compiled (complete_update)",
            (FastSAC, FastSACTorchLearner, compile_update),
        ),
        "bfloat16": (
            "ours/bfloat16 networks",
            (FastSAC, FastSACTorchLearner, {"network_dtype": "bfloat16"}),
        ),
    }


def variants(args: argparse.Namespace) -> dict[str, Any]:
    """name -> runner factory (built in this order; ``ours-learner`` shares ``ours``)."""
    from ray.rllib.algorithms.sac import SACConfig
    from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
    from ray.rllib.core.learner.torch.torch_learner import TorchLearner

    from mosim_ray.sac.learner import FastSACTorchLearner
    from mosim_ray.sac.presets import algorithm_config

    env, env_config, mode = _env_spec(args)
    n_envs = args.num_envs if env == "mosim-imagined" else 1
    common = dict(num_envs_per_env_runner=n_envs, vectorize_mode=mode)
    starts = args.learning_starts

    def ours(algo_class: type | None = None, learner_class: type | None = None, **overrides):
        config = algorithm_config(
            "sac", env, env_config, learning_starts=starts, **common, **overrides
        )
        if algo_class is not None:
            config.algo_class = algo_class
        if learner_class is not None:
            config.training(learner_class=learner_class)
        return config

    def default(nets: bool) -> Any:
        c = SACConfig().environment(env, env_config=env_config)
        c.env_runners(num_envs_per_env_runner=n_envs, gym_env_vectorize_mode=mode)
        c.training(num_steps_sampled_before_learning_starts=starts)
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

    out: dict[str, Any] = {"ours": lambda: RLlibRunner(ours(), starts, learner_alone=True)}
    if not args.skip_sb3:
        out["sb3"] = lambda: SB3Runner(_single_env(env, env_config), starts)
    if args.candidates is not None:
        candidates = _candidates()
        unknown = set(args.candidates) - set(candidates)
        if unknown:
            raise ValueError(f"unknown candidates {sorted(unknown)}; known: {list(candidates)}")
        for key, (name, (algo_class, learner_class, overrides)) in candidates.items():
            if args.candidates and key not in args.candidates:
                continue
            out[name] = lambda a=algo_class, lc=learner_class, o=overrides, alone=key == "before": (
                RLlibRunner(ours(a, lc, **o), starts, learner_alone=alone)
            )
    if args.ablations:
        per = {"type": "PrioritizedEpisodeReplayBuffer", "capacity": int(1e6)}
        per |= {"alpha": 0.6, "beta": 0.4}
        configs = {
            "ours/PER buffer+1 update per call": ours(
                replay_buffer_config=per, rollout_fragment_length=1
            ),
            "ours/rllib critic": ours(concat_q_critic=False),
            "ours/rllib update step": ours(learner_class=RLlibUpdateLearner),
            "ours/fragment 1": ours(rollout_fragment_length=1),
            "ours/fragment 16": ours(rollout_fragment_length=16),
        }
        for name, config in configs.items():
            out[name] = lambda c=config: RLlibRunner(c, starts)
    if args.defaults:
        out["rllib-default"] = lambda: RLlibRunner(default(nets=False), starts)
        out["rllib-default-256"] = lambda: RLlibRunner(default(nets=True), starts)
    return out


# --------------------------------------------------------------------------------------------
# Side by side
# --------------------------------------------------------------------------------------------


def _summary(slices: list[dict[str, float]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [s[key] for s in slices if key in s]
        return float(np.median(values)) if values else None

    return {
        "updates_per_s": med("updates_per_s"),
        "env_steps_per_s": med("env_steps_per_s"),
        "floor_updates_per_s": med("floor_updates_per_s"),
        "ratio_to_floor": med("ratio_to_floor"),
        "slices": [{k: round(v, 3) for k, v in s.items()} for s in slices],
    }


def side_by_side(
    runners: dict[str, Any], floor: Any, rounds: int, seconds: float
) -> tuple[dict[str, list[dict[str, float]]], list[float]]:
    """``rounds`` round-robin passes: each runner for ``seconds``, a floor after each."""
    slices: dict[str, list[dict[str, float]]] = {name: [] for name in runners}
    floors = [floor()]
    print(f"[floor] {floors[-1]:.1f} updates/s", flush=True)
    for r in range(rounds):
        for name, runner in runners.items():
            row = runner.run(seconds)
            floors.append(floor())
            local = (floors[-2] + floors[-1]) / 2
            row |= {"floor_updates_per_s": local, "ratio_to_floor": row["updates_per_s"] / local}
            slices[name].append(row)
            print(
                f"[round {r + 1}] {name}: {row['updates_per_s']:.1f} updates/s "
                f"(floor {local:.1f}, ratio {row['ratio_to_floor']:.2f}, "
                f"load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    return slices, floors


def paired(a: Any, b: Any, seconds: float) -> dict[str, float]:
    """Updates/s of runners ``a`` and ``b`` with their ``step()`` calls alternating (one rollout
    fragment, or one learner call, each) for ``seconds`` in all: both see the same load."""
    spent, done = [0.0, 0.0], [0, 0]
    order = [(0, a), (1, b)]
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        for i, runner in order:
            t0 = time.perf_counter()
            done[i] += runner.step()
            spent[i] += time.perf_counter() - t0
        order.reverse()  # neither always runs right after the other
    rate_a, rate_b = done[0] / spent[0], done[1] / spent[1]
    return {"updates_per_s": rate_b, "reference_updates_per_s": rate_a, "ratio": rate_b / rate_a}


def paired_rounds(
    runners: dict[str, Any], reference: str, names: list[str], rounds: int, seconds: float
) -> dict[str, dict[str, Any]]:
    """For each name, ``rounds`` blocks of ``paired(reference, name)``; median ratios."""
    out = {}
    for name in names:
        blocks = [paired(runners[reference], runners[name], seconds) for _ in range(rounds)]
        ratios = [blk["ratio"] for blk in blocks]
        out[name] = {
            "reference": reference,
            "ratio_median": float(np.median(ratios)),
            "blocks": [{k: round(v, 3) for k, v in blk.items()} for blk in blocks],
        }
        print(
            f"[paired] {name} / {reference}: {out[name]['ratio_median']:.3f} "
            f"({', '.join(f'{r:.3f}' for r in ratios)}; load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--env",
        default="mosim-real",
        help="gymnasium id (e.g. Pendulum-v1), mosim-real or mosim-imagined",
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--checkpoint", default="pretrained/reacher-easy", help="mosim-imagined only")
    p.add_argument("--num-envs", type=int, default=16, help="mosim-imagined only")
    p.add_argument("--seconds", type=float, default=12.0, help="timed seconds per slice")
    p.add_argument("--rounds", type=int, default=3, help="round-robin passes over the variants")
    p.add_argument("--learning-starts", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1, help="torch threads in this process")
    p.add_argument("--profile-seconds", type=float, default=4.0, help="0: no cProfile")
    p.add_argument(
        "--candidates",
        nargs="*",
        default=None,
        help="ours with RLlib's update path parts: all, or some of before, rllib-forward, "
        "rllib-loop, rllib-sync, rllib-forward-compiled, lean-forward-compiled, update-compiled",
    )
    p.add_argument("--ablations", action="store_true", help="ours with one setting reverted")
    p.add_argument("--defaults", action="store_true", help="RLlib's default SAC configs too")
    p.add_argument("--skip-sb3", action="store_true", help="no Stable-Baselines3 row")
    p.add_argument(
        "--paired-rounds",
        type=int,
        default=0,
        help="then sb3 and each ours/... variant against ours, fragments alternating: N blocks",
    )
    p.add_argument("--json", default=str(RESULTS / "learner_speed.json"))
    args = p.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv

    os.environ.setdefault("MUJOCO_GL", "disable")
    torch.set_num_threads(args.threads)
    import ray

    from mosim_ray.runs.provenance import provenance

    command = "python benchmarks/learner_speed.py " + " ".join(argv)
    load_start = os.getloadavg()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    if args.env.startswith("mosim-"):
        from mosim_ray.envs.rllib import register_envs

        register_envs()
    env, env_config, _ = _env_spec(args)
    obs_dim, act_dim = _spaces(env, env_config)

    runners: dict[str, Any] = {}
    try:
        for name, make in variants(args).items():
            print(f"[{name}] building and warming up", flush=True)
            runners[name] = make()
            runners[name].warm_up(max(60.0, 4 * args.seconds))
            if getattr(runners[name], "learner_alone", False):
                alone = name.replace("ours", "ours-learner", 1)
                runners[alone] = LearnerAloneRunner(runners[name])
                runners[alone].warm_up(0)
        if torch.get_num_threads() != args.threads:
            raise RuntimeError(f"a variant changed torch threads to {torch.get_num_threads()}")
        slices, floors = side_by_side(
            runners,
            lambda: floor_updates_per_second(obs_dim, act_dim, args.seconds / 2),
            args.rounds,
            args.seconds,
        )
        pairs: dict[str, Any] = {}
        if args.paired_rounds:
            for reference in ("ours", "ours-learner"):
                names = [
                    n
                    for n in runners
                    if (n.startswith(reference + "/") or (reference, n) == ("ours", "sb3"))
                    and runners[n].can_pair
                ]
                pairs |= paired_rounds(runners, reference, names, args.paired_rounds, args.seconds)
        for runner in runners.values():
            runner.finish(args.profile_seconds)
    finally:
        for runner in runners.values():
            runner.close()
        ray.shutdown()

    rows = {name: {**_summary(slices[name]), **runners[name].info} for name in runners}
    floor = float(np.median(floors))
    report = {
        "provenance": provenance(command),
        "command": command,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "torch_threads": args.threads,
        "env": env,
        "env_config": env_config,
        "obs_dim": obs_dim,
        "act_dim": act_dim,
        "batch": BATCH,
        "seconds_per_slice": args.seconds,
        "rounds": args.rounds,
        "floor": {"updates_per_s_median": floor, "measurements": floors},
        "variants": rows,
        "paired": pairs,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))

    print(f"\n{env} obs {obs_dim} act {act_dim}, batch {BATCH}, {args.threads} thread(s)")
    print(f"{'variant':52s} {'updates/s':>10s} {'env steps/s':>12s} {'floor':>7s} {'ratio':>6s}")
    print(f"{'floor (plain PyTorch), median':52s} {floor:10.1f} {'':>12s} {floor:7.1f} {1.0:6.2f}")
    for name, row in rows.items():
        steps = row["env_steps_per_s"]
        print(
            f"{name:52s} {row['updates_per_s']:10.1f} "
            f"{'' if steps is None else f'{steps:.1f}':>12s} "
            f"{row['floor_updates_per_s']:7.1f} {row['ratio_to_floor']:6.2f}"
        )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
