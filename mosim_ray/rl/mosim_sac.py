"""``MoSimSAC``: few-shot and on-policy MoSim RL as an RLlib algorithm.

    config = (MoSimSACConfig()
              .mosim(schedule="few_shot", task="reacher-easy", data="data/reacher-easy")
              .env_runners(num_env_runners=2, num_envs_per_env_runner=16))
    algo = config.build_algo()          # or tune.Tuner(MoSimSAC, param_space=config)
    algo.train()

It is :class:`FastSAC` (RLlib's SAC losses and networks, our fast replay path) whose
``training_step`` runs one of the paper's schedules around two Ray actors it owns: a
``ModelTrainerActor`` (the world model, its optimizer and the real dataset; restarts resume from
its checkpoint) and a ``ModelStore`` (versioned weights and real reset states; env runners pull
both when the version grows, never per step).

* **few_shot** - the env runners step ``mosim-imagined`` (R runners x N imagined robots); every
  ``model_update_every`` imagined steps the trainer makes a model update; after every
  ``imagined_per_round`` imagined steps ``PolicyCollector`` actors run the current policy for
  ``real_per_round`` real steps in parallel, the trainer ingests them (by episode id: a retried
  call never counts twice) and the store publishes them as reset states.
* **on_policy** - the env runners step ``mosim-real`` (states in infos); every
  ``model_update_every`` real steps the trainer makes a model update on its replay of real
  segments; ``branches_per_real_step`` imagined branches of ``branch_length`` steps start from
  real states seen so far (the policy's, or with ``branch_from="dataset"`` the trainer's whole
  dataset, starting data included), and each policy update draws ``real_fraction`` of its batch from the
  real transitions and the rest from the imagined ones.

Every count a sample-efficiency claim needs is in ``result["mosim"]``: real steps, imagined
steps, model updates, policy updates, and the model versions the env runners hold.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN

from mosim_ray.actors.collector import PolicyCollector
from mosim_ray.actors.model_store import StorePuller, model_from_store, model_store
from mosim_ray.actors.model_trainer import ModelTrainerActor
from mosim_ray.actors.placement import plan_placement
from mosim_ray.config import MoSimSettings
from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.rl.algorithms import (
    REPLAY_BUFFER_ADD_DATA_TIMER,
    TIMERS,
    FastSAC,
    FastSACConfig,
    TransitionReplayBuffer,
    sac_defaults,
    single_thread_torch,
)
from mosim_ray.rl.branches import BranchRollouts
from mosim_ray.rl.envs import IMAGINED, REAL, density_penalty, penalty_source, register_envs
from mosim_ray.rl.evaluation import RealEvaluator
from mosim_ray.rl.real_segments import RealSegments
from mosim_ray.tasks import check_task_name, get_spec

NEW_EPISODE_IDS = 1_000_000
"""Ids of few-shot policy episodes start here, clear of the starting dataset's ids."""

NO_RUNNER_TIMEOUT_S = 300
PLACE_TIMEOUT_S = 120

MOSIM = "mosim"
"""Result key of the schedule's counters and evaluation."""


class MoSimSACConfig(FastSACConfig):
    """FastSACConfig with our SAC hyperparameters (``sac_defaults``) plus ``.mosim(...)``: the
    schedule and its ratios (``MoSimSettings``). The env follows from the schedule."""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or MoSimSAC)
        self.mosim_settings: dict[str, Any] = {}
        sac_defaults(self)
        self.api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        self.framework("torch")
        self.learners(num_learners=0)
        self.callbacks(on_environment_created=single_thread_torch)

    def mosim(self, **settings: Any) -> MoSimSACConfig:
        """Set schedule fields (see ``mosim_ray.config.MoSimSettings``); unknown names raise."""
        self._check_if_frozen()
        known = {f.name for f in dataclasses.fields(MoSimSettings)}
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"unknown mosim settings {sorted(unknown)}; known: {sorted(known)}")
        merged = {**self.mosim_settings, **settings}
        MoSimSettings(**merged)  # fails now, not in the middle of a run
        self.mosim_settings = merged
        return self

    def _check_if_frozen(self) -> None:
        if getattr(self, "_is_frozen", False):
            raise AttributeError("cannot change a frozen MoSimSACConfig; copy() it first")

    @property
    def settings(self) -> MoSimSettings:
        return MoSimSettings(**self.mosim_settings)


def resolve_checkpoint(settings: MoSimSettings) -> str:
    if settings.checkpoint:
        return settings.checkpoint
    from mosim_ray.model.world_model import shipped_model

    return shipped_model(settings.task)


class MoSimSAC(FastSAC):
    """FastSAC running a MoSim schedule (see the module docstring)."""

    @classmethod
    def get_default_config(cls) -> MoSimSACConfig:
        return MoSimSACConfig()

    def __init__(self, config: Any = None, env: Any = None, **kwargs: Any) -> None:
        # The env and its config follow from the schedule, with this run's own actor names (two
        # Tune trials must not share a store); they are set before RLlib freezes the config.
        if isinstance(config, dict):
            default = self.get_default_config()
            config = (
                default.from_state(config)
                if "class" in config
                else (default.update_from_dict(config))
            )
        config = (config or self.get_default_config()).copy(copy_frozen=False)
        settings = config.settings
        check_task_name(settings.task)
        run_id = uuid.uuid4().hex[:8]
        self._names = {"store": f"mosim-{run_id}-store", "trainer": f"mosim-{run_id}-trainer"}
        register_envs()
        if settings.schedule == "few_shot":
            per_runner = max(1, config.num_envs_per_env_runner)
            env_config = {
                "model_store": self._names["store"],
                "task": settings.task,
                "time_limit": settings.imagined_time_limit,
                "resets_from_store": True,
                "task_reset_fraction": settings.task_reset_fraction,
                "task_contexts": settings.task_contexts,
                "sync_every": max(1, settings.model_update_every // per_runner),
            }
            env_config.update(_penalty_keys(settings))
            config.environment(IMAGINED, env_config=env_config)
        else:
            config.environment(REAL, env_config={})
            config.env_config = {
                "task": settings.task,
                "time_limit": settings.real_time_limit,
                "state_in_info": True,
            }
        if not ray.is_initialized():
            ray.init()
        # inside a Tune trial, the trial's placement group already holds the env runners' CPUs
        in_trial = ray.get_runtime_context().get_placement_group_id() is not None
        self.placement = plan_placement(
            ray.cluster_resources(),
            settings.collectors or None,
            config.num_env_runners,
            settings.real_per_round,
            env_runner_cpus=config.num_cpus_per_env_runner,
            free_cpus=ray.available_resources().get("CPU", 0.0),
            runners_reserved=in_trial,
        )
        config.env_runners(
            gym_env_vectorize_mode="vector_entry_point",
            num_cpus_per_env_runner=self.placement.env_runner_cpus,
            custom_resources_per_env_runner=self.placement.env_runner_resources,
        )
        super().__init__(config=config, env=env, **kwargs)

    # --- set-up --------------------------------------------------------------------------------
    def setup(self, config: Any) -> None:
        s: MoSimSettings = self.config.settings
        self.mosim = s
        work = Path(s.work_dir or Path(self.logdir) / "mosim_trainer")
        self._work = work
        self._store = model_store(self._names["store"])
        trainer_config = {
            "batch_size": s.model_batch,
            "horizon": s.model_horizon,
            "lr": s.model_lr,
            "seed": int(self.config.seed or 0),
            "device": s.trainer_device,
        }
        data = str(Path(s.data).resolve()) if s.data else None
        if s.schedule == "few_shot" and data is None:
            raise ValueError("few_shot needs mosim(data=...): the real shards behind the model")
        self._trainer = ModelTrainerActor.options(
            name=self._names["trainer"], **self.placement.trainer_options
        ).remote(
            str(resolve_checkpoint(s)),
            str(work / "trainer"),
            data,
            trainer_config,
            self._names["store"],
        )
        self._wait_placed([self._trainer.node_id.remote()], "model trainer")
        version = ray.get(self._trainer.publish_now.remote())
        self.counts = {
            "real_steps": 0,
            "imagined_steps": 0,
            "model_updates": 0,
            "model_gradient_steps": 0,
            "policy_updates": 0,
            "rounds": 0,
            "real_episodes": 0,
            "real_segments": 0,
            "nonfinite_dropped": 0,
            "density_fits": 0,
        }
        self.model_version = version
        self.seconds = {
            "real_collection": 0.0,
            "model_training": 0.0,
            "imagined_steps": 0.0,
            "policy_updates": 0.0,
            "evaluation": 0.0,
            "density_fitting": 0.0,
        }
        self.curve: list[dict[str, Any]] = []
        self.density_fits: list[dict[str, float]] = []
        if s.density_refit_every and not s.density:
            self._refit_density()  # env runners start with a penalty, not without one
        self.runner_versions: list[int] = []
        self.fresh_errors: list[dict[str, float]] = []
        self._last_eval: dict[str, float] = {}
        self._next_eval = 0
        super().setup(config)
        self._evaluator = RealEvaluator(self.config, s.task, s.eval_episodes, s.eval_time_limit)
        if s.schedule == "few_shot":
            self._collectors = [
                PolicyCollector.options(**self.placement.collector_options).remote(
                    s.task, s.collect_noise, int(self.config.seed or 0)
                )
                for _ in range(self.placement.collectors)
            ]
            self._next_round = s.imagined_per_round
            self._publish_resets()
            self._wait_placed([c.node_id.remote() for c in self._collectors], "collectors")
        else:
            low, high = get_spec(s.task).action_bounds
            self._segments = RealSegments(action_low=low, action_high=high)
            self._imagined_buffer = TransitionReplayBuffer(
                int(self.config.replay_buffer_config.get("capacity", 1_000_000)),
                seed=self.config.seed,
            )
            self._branch_credit = 0.0
            self._branches = self._make_branches(s)
            self._dataset_pool_version = -1
        self._evaluate()

    def _wait_placed(self, refs: list, role: str) -> None:
        try:
            ray.get(refs, timeout=PLACE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise RuntimeError(
                f"the {role} did not start within {PLACE_TIMEOUT_S} s: the cluster has no room "
                f"for {self.placement.line()} (free now: {ray.available_resources()}); give Ray "
                "more CPUs, or fewer collectors / env runners"
            ) from None

    def _make_branches(self, s: MoSimSettings) -> BranchRollouts:
        puller = StorePuller(self._names["store"])
        _, model_config, weights = puller.fetch(0)
        env = ImaginedVecEnv(
            model_from_store(model_config, weights),
            num_envs=s.branch_batch,
            time_limit=s.branch_length,
            weights_source=puller,
            sync_every=1,
            task=s.task,
            penalty=density_penalty(_penalty_keys(s)),
            penalty_source=penalty_source(_penalty_keys(s), puller),
            task_contexts=s.task_contexts,
        )
        env.model_version = self.model_version
        return BranchRollouts(env, s.branch_length, seed=int(self.config.seed or 0))

    # --- one iteration -------------------------------------------------------------------------
    def training_step(self) -> None:
        group = self.env_runner_group
        if group.num_healthy_remote_workers() < self.config.num_env_runners:
            # RLlib replaces failed env runners only between iterations, while one iteration
            # loops here until it has sampled enough: with no healthy runner it never would.
            self.restore_env_runners(group)
            if group.num_healthy_remote_workers() == 0:
                since = self.__dict__.setdefault("_no_runner_since", time.monotonic())
                if time.monotonic() - since > NO_RUNNER_TIMEOUT_S:
                    raise RuntimeError(
                        f"no healthy env runner for {NO_RUNNER_TIMEOUT_S} s: they died for good "
                        "(see the Ray logs) and Ray could not restart them"
                    )
                time.sleep(0.5)  # Ray is restarting them; do not spin
                return
        self.__dict__.pop("_no_runner_since", None)
        if self.mosim.schedule == "few_shot":
            self._few_shot_step()
        else:
            self._on_policy_step()
        self._log_counts()

    def _few_shot_step(self) -> None:
        s = self.mosim
        t = time.perf_counter()
        episodes = self._sample_env_runners()
        with self.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            new_steps = self.local_replay_buffer.add(_finite_only(episodes, self.counts))
        self.counts["imagined_steps"] = self._sampled_lifetime()
        self.seconds["imagined_steps"] += time.perf_counter() - t
        self._policy_updates(new_steps, self.local_replay_buffer.sample)
        self._model_updates(self.counts["imagined_steps"])
        if self.counts["imagined_steps"] >= self._next_round:
            self._real_round()
            self._next_round += s.imagined_per_round
            self._evaluate()

    def _on_policy_step(self) -> None:
        s = self.mosim
        t = time.perf_counter()
        chunks = self._sample_env_runners()
        with self.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            new_steps = self.local_replay_buffer.add(chunks)
        self.counts["real_steps"] = self._sampled_lifetime()
        self._ingest(self._segments.add(chunks))
        self.seconds["real_collection"] += time.perf_counter() - t
        self._model_updates(self.counts["real_steps"])
        t = time.perf_counter()
        self._branch_credit += new_steps * s.branches_per_real_step
        states, contexts = self._branch_pool()
        while self._branch_credit >= s.branch_batch and len(states):
            data = self._branches(self.get_module(), ResetPool(states, contexts))
            self.counts["imagined_steps"] += self._imagined_buffer.add_arrays(data)
            self._branch_credit -= s.branch_batch
        self.seconds["imagined_steps"] += time.perf_counter() - t
        self._policy_updates(new_steps, self._mixed_batch)
        if self.counts["real_steps"] >= self._next_eval:
            self._evaluate()

    def _branch_pool(self) -> tuple[np.ndarray, np.ndarray]:
        """Where branches start (``branch_from``): the policy's real states, or the trainer's
        newest real states (fetched again after each model update, when it has new ones)."""
        if self.mosim.branch_from == "policy":
            return self._segments.reset_pool()
        if self._dataset_pool_version != self.counts["model_updates"]:
            try:
                pool = ray.get(self._trainer.reset_states.remote(self.mosim.reset_states))
            except ValueError:  # no starting data and no segment ingested yet
                return self._segments.reset_pool()
            self._dataset_pool, self._dataset_pool_version = pool, self.counts["model_updates"]
        return self._dataset_pool

    def _mixed_batch(self, n: int) -> dict[str, np.ndarray]:
        """``n`` transitions: ``real_fraction`` real, the rest imagined (all real while there are
        no imagined ones yet)."""
        if len(self._imagined_buffer) == 0:
            return self.local_replay_buffer.sample(n)
        n_real = int(round(n * self.mosim.real_fraction))
        parts = [
            b.sample(k)
            for b, k in ((self.local_replay_buffer, n_real), (self._imagined_buffer, n - n_real))
            if k
        ]
        data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        # the learner splits the array into consecutive minibatches: mix before it does
        perm = np.random.default_rng(self.counts["policy_updates"]).permutation(n)
        return {k: v[perm] for k, v in data.items()}

    # --- the pieces ----------------------------------------------------------------------------
    def _policy_updates(self, new_steps: int, sample) -> None:
        n = self._owed_updates(new_steps * self.config.updates_per_env_step)
        if n:
            t = time.perf_counter()
            self._learn(sample(n * self.config.total_train_batch_size), n)
            self.counts["policy_updates"] += n
            self.seconds["policy_updates"] += time.perf_counter() - t

    def _model_updates(self, steps: int) -> None:
        """The model updates owed after ``steps`` steps (imagined or real) in all."""
        s = self.mosim
        owed = steps // s.model_update_every - self.counts["model_updates"]
        if owed <= 0:
            return
        if s.schedule == "on_policy":
            # open real episodes long enough for a training window go to the trainer now
            self._ingest(self._segments.cut(s.model_horizon + 1))
        t = time.perf_counter()
        state = ray.get(self._trainer.train.remote(owed * s.model_steps_per_update))
        before = self.counts["model_updates"]
        self.counts["model_updates"] += owed
        self.counts["model_gradient_steps"] += owed * s.model_steps_per_update
        self.model_version = int(state["version"])
        self.seconds["model_training"] += time.perf_counter() - t
        every = s.density_refit_every
        if every and s.schedule == "on_policy" and (before // every < (before + owed) // every):
            self._refit_density()

    def _refit_density(self) -> None:
        """The trainer refits the penalty's flow to all its real data; env runners (and the
        on-policy branches) pick the new flow up from the model store with the weights."""
        t = time.perf_counter()
        seed = int(self.config.seed or 0) + self.counts["density_fits"]
        config, state, report = ray.get(
            self._trainer.fit_density.remote(self.mosim.density_steps, seed)
        )
        version = ray.get(self._store.publish_density.remote(config, state))
        self.counts["density_fits"] += 1
        self.density_fits.append(
            {
                "version": version,
                "real_steps": self.counts["real_steps"],
                "transitions": report["transitions"],
                "val_log_prob": report["val_log_prob"],
                "seconds": report["seconds"],
            }
        )
        self.seconds["density_fitting"] += time.perf_counter() - t

    def _ingest(self, episodes: list) -> int:
        """Fresh real episodes (or segments) to the trainer; first the current model's error on
        them, which no training has seen yet. Returns how many were new to the trainer."""
        if not episodes:
            return 0
        err = ray.get(self._trainer.prediction_error.remote(episodes, self.mosim.model_horizon))
        if np.isfinite(err):
            self.fresh_errors.append(
                {
                    "model_version": self.model_version,
                    "mse": err,
                    "real_steps": self.counts["real_steps"],
                }
            )
        new = ray.get(self._trainer.add_episodes.remote(episodes))
        if self.mosim.schedule == "on_policy":
            self.counts["real_segments"] += new
        return new

    def finish(self) -> None:
        """End of a run: open real segments to the trainer, and a last evaluation."""
        if self.mosim.schedule == "on_policy":
            self._ingest(self._segments.flush())
        self._evaluate()

    def _real_round(self) -> None:
        """Few-shot: the current policy for ``real_per_round`` real steps on the collectors."""
        s = self.mosim
        t = time.perf_counter()
        n = len(self._collectors)
        steps = s.real_per_round // n
        base = NEW_EPISODE_IDS + self.counts["rounds"] * n
        module = self.get_module()
        refs = [c.collect.remote(module, [base + i], steps) for i, c in enumerate(self._collectors)]
        episodes = [ep for r in ray.get(refs) for ep in r]
        new = self._ingest(episodes)
        self._publish_resets()
        self.counts["rounds"] += 1
        self.counts["real_episodes"] += new
        self.counts["real_steps"] += new * steps
        self.seconds["real_collection"] += time.perf_counter() - t
        if s.density_refit_every and self.counts["rounds"] % s.density_refit_every == 0:
            self._refit_density()

    def _publish_resets(self) -> None:
        """The newest ``reset_states`` real states of the trainer's dataset (the starting data and
        every round so far) become where imagined episodes start."""
        states, contexts = ray.get(self._trainer.reset_states.remote(self.mosim.reset_states))
        ray.get(self._store.publish_resets.remote(states, contexts))

    def _evaluate(self) -> None:
        t = time.perf_counter()
        res = self._evaluator(self)
        self.seconds["evaluation"] += time.perf_counter() - t
        self._last_eval = {"real_return_mean": res.mean, "real_return_std": res.std}
        self._next_eval = self.counts["real_steps"] + self.mosim.eval_every
        trained_on = self.metrics.peek((ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN), default=np.nan)
        self.curve.append(
            {
                **self.counts,
                **self._last_eval,
                "model_version": self.model_version,
                "train_return_mean": float(trained_on),
                "env_runner_versions": self._env_runner_versions(),
                "seconds": dict(self.seconds),
            }
        )

    def _env_runner_versions(self) -> list[int]:
        """The model version each imagined env runner steps with now."""
        if self.mosim.schedule != "few_shot":
            return [self.model_version]

        def version(runner) -> int:
            env = getattr(runner, "env", None)
            env = getattr(env, "unwrapped", env)
            return int(getattr(env, "model_version", -1))

        local = self.config.num_env_runners == 0  # else the local runner holds no env
        return [
            int(v)
            for v in self.env_runner_group.foreach_env_runner(version, local_env_runner=local)
        ]

    def _log_counts(self) -> None:
        # asking every env runner is a remote round trip: once a second is plenty, not once per
        # rollout fragment (this runs every few dozen imagined steps)
        now = time.monotonic()
        versions = []
        if now - self.__dict__.get("_versions_asked", -1e9) >= 1.0:
            self._versions_asked = now
            versions = self._env_runner_versions()
        if versions:  # none while RLlib replaces a failed env runner
            self.runner_versions.append(min(versions))
            self._versions = {
                "env_runner_version_min": min(versions),
                "env_runner_version_max": max(versions),
            }
        for key, value in {
            **self.counts,
            **self._last_eval,
            "model_version": self.model_version,
            **getattr(self, "_versions", {}),
        }.items():
            self.metrics.log_value((MOSIM, key), value, window=1)
        for key, value in self.seconds.items():
            self.metrics.log_value((MOSIM, "seconds", key), value, window=1)

    def nodes(self) -> dict[str, list[str]]:
        """The Ray node id of every role's actor now (where placement put them)."""

        def node(_) -> str:
            return ray.get_runtime_context().get_node_id()

        remote = self.config.num_env_runners > 0
        return {
            "trainer": [ray.get(self._trainer.node_id.remote())],
            "collectors": ray.get([c.node_id.remote() for c in getattr(self, "_collectors", [])]),
            "env_runners": list(
                self.env_runner_group.foreach_env_runner(node, local_env_runner=not remote)
            ),
        }

    # --- results, checkpoints, shutdown ----------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts, last evaluation, time by activity and the curve (for pipelines' result JSON)."""
        held = ray.get(self._trainer.state.remote())
        return {
            "task": self.mosim.task,
            "schedule": self.mosim.schedule,
            **self._last_eval,
            "eval_episodes": self.mosim.eval_episodes,
            **self.counts,
            "trainer_real_steps": held["real_steps"],
            "trainer_model_version": held["version"],
            "seconds": dict(self.seconds),
            "curve": list(self.curve),
            "fresh_data_error": list(self.fresh_errors),
            "density_fits_log": list(self.density_fits),
            "env_runner_version_min_per_iteration": list(self.runner_versions),
            "placement": dataclasses.asdict(self.placement),
            "settings": dataclasses.asdict(self.mosim),
        }

    def get_state(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        state = super().get_state(*args, **kwargs)
        state[MOSIM] = {
            "counts": dict(self.counts),
            "curve": list(self.curve),
            "seconds": dict(self.seconds),
        }
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if MOSIM in state:
            self.counts.update(state[MOSIM]["counts"])
            self.curve = list(state[MOSIM]["curve"])
            self.seconds.update(state[MOSIM]["seconds"])

    def cleanup(self) -> None:
        for name in ("_evaluator",):
            if getattr(self, name, None) is not None:
                getattr(self, name).stop()
        super().cleanup()
        for actor in [
            *getattr(self, "_collectors", []),
            getattr(self, "_trainer", None),
            getattr(self, "_store", None),
        ]:
            if actor is not None:
                ray.kill(actor, no_restart=True)


def _finite_only(episodes: list[Any], counts: dict[str, int]) -> list[Any]:
    """Drops episode chunks holding a non-finite observation or reward (the imagined env guards
    against them already; this keeps the learner safe whatever the env)."""
    keep = []
    for ep in episodes:
        if len(ep) and not (
            np.isfinite(np.asarray(ep.get_observations(), np.float64)).all()
            and np.isfinite(np.asarray(ep.get_rewards(), np.float64)).all()
        ):
            counts["nonfinite_dropped"] += len(ep)
            continue
        keep.append(ep)
    return keep


def _penalty_keys(s: MoSimSettings) -> dict[str, Any]:
    if not (s.density or s.density_refit_every):
        return {}
    keys = {"penalty_scale": s.penalty_scale, "penalty_c": s.penalty_c, "penalty_s": s.penalty_s}
    if s.density:
        keys["density"] = str(Path(s.density).resolve())
    if s.density_refit_every:
        keys["density_from_store"] = True
    if s.penalty_truncate_below is not None:
        keys["penalty_truncate_below"] = s.penalty_truncate_below
    return keys


__all__ = ["MOSIM", "MoSimSAC", "MoSimSACConfig"]
