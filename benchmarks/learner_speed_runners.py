"""The variants ``learner_speed.py`` times, behind one interface (``warm_up``; ``run`` for some
seconds; ``step``, one rollout fragment or learner call, for paired blocks; ``finish``; ``close``):
an RLlib algorithm trained by ``train()`` iterations, its learner alone, and Stable-Baselines3's
SAC."""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path
from typing import Any

from sac_floor import BATCH, HIDDEN

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
