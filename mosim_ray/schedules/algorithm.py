"""``MoSimSAC``: few-shot and on-policy MoSim RL as an RLlib algorithm.

    config = (MoSimSACConfig()
              .mosim(schedule="few_shot", task="reacher-easy", data="data/reacher-easy")
              .env_runners(num_env_runners=2, num_envs_per_env_runner=16))
    algo = config.build_algo()          # or tune.Tuner(MoSimSAC, param_space=config)
    algo.train()

It is :class:`FastSAC` (RLlib's SAC losses and networks, our fast replay path) whose
``training_step`` runs one of the paper's schedules (``few_shot.FewShot``, ``on_policy.OnPolicy``:
strategy objects behind one interface) around two Ray actors it owns: a ``ModelTrainerActor``
(the world model, its optimizer and the real dataset; restarts resume from its checkpoint) and a
``ModelStore`` (versioned weights and real reset states; env runners pull both when the version
grows, never per step). Every count a sample-efficiency claim needs is in ``result["mosim"]``
(``counts.Counts``), where its time went in the summary's ``seconds`` (``counts.Seconds``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN

from mosim_ray.actors.placement import plan_placement
from mosim_ray.actors.ray_session import start_ray
from mosim_ray.envs.rllib import register_envs
from mosim_ray.sac.algorithm import FastSAC
from mosim_ray.sac.critic_range import divergence_message, far_outside, return_bounds
from mosim_ray.sac.evaluation import RealEvaluator
from mosim_ray.schedules.config import MoSimSACConfig
from mosim_ray.schedules.counts import Counts, RunClock, Seconds
from mosim_ray.schedules.few_shot import FewShot
from mosim_ray.schedules.model_link import ModelLink
from mosim_ray.schedules.on_policy import OnPolicy
from mosim_ray.schedules.run_state import run_state, set_run_state
from mosim_ray.schedules.settings import MoSimSettings
from mosim_ray.tasks import check_task_name
from mosim_ray.tasks.registry import reward_range

log = logging.getLogger(__name__)
NO_RUNNER_TIMEOUT_S = 300
# A trainer's start (a first validation of the model) took over 120 s on a 2-core machine
# running three other jobs: long enough not to fail such a start, short of a hung-looking wait.
PLACE_TIMEOUT_S = 300

MOSIM = "mosim"
"""Result key of the schedule's counters and evaluation."""

SCHEDULE_CLASSES = {"few_shot": FewShot, "on_policy": OnPolicy}


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
                else default.update_from_dict(config)
            )
        config = (config or self.get_default_config()).copy(copy_frozen=False)
        settings = config.settings
        check_task_name(settings.task)
        run_id = uuid.uuid4().hex[:8]
        self._names = {"store": f"mosim-{run_id}-store", "trainer": f"mosim-{run_id}-trainer"}
        self.schedule = SCHEDULE_CLASSES[settings.schedule](settings)
        register_envs()
        self.schedule.configure(config, self._names["store"])
        start_ray()
        # inside a Tune trial, the trial's placement group already holds the env runners' CPUs
        in_trial = ray.get_runtime_context().get_placement_group_id() is not None
        self.placement = plan_placement(
            ray.cluster_resources(),
            settings.few_shot.collectors or None,
            config.num_env_runners,
            settings.few_shot.real_per_round,
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
        self.counts, self.seconds, self.clock = Counts(), Seconds(), RunClock()
        self.mosim = s
        self.seed = int(self.config.seed or 0)
        work = Path(s.work_dir or Path(self.logdir) / "mosim_trainer")
        self.model = ModelLink(s, self._names, self.placement.trainer_options, self.seed, work)
        self.wait_placed([self.model.trainer.node_id.remote()], "model trainer")
        self.model.start()
        self.curve: list[dict[str, Any]] = []
        self.density_fits: list[dict[str, float]] = []
        if s.penalty.refit_every and not s.penalty.density:
            self.refit_density()  # env runners start with a penalty, not without one
        self.runner_versions: list[int] = []
        self._last_eval: dict[str, float] = {}
        self._next_eval = 0
        super().setup(config)
        self._evaluator = RealEvaluator(
            self.config, s.task, s.eval.episodes, s.eval.time_limit, self.eval_seed
        )
        self.schedule.setup(self)
        self.evaluate()

    def wait_placed(self, refs: list, role: str) -> None:
        try:
            ray.get(refs, timeout=PLACE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise RuntimeError(
                f"the {role} did not start within {PLACE_TIMEOUT_S} s: either the cluster has no "
                f"room for {self.placement.line()} (free now: {ray.available_resources()}), or "
                "its start (loading the model and data, a first validation) is slow on a busy "
                "machine; give Ray more CPUs, fewer collectors / env runners, or a quieter machine"
            ) from None

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
        self.schedule.step(self)
        self._log_counts()

    # --- the pieces both schedules use ---------------------------------------------------------
    def policy_updates(self, new_steps: int, sample) -> None:
        """The policy updates owed after ``new_steps`` new env steps, on batches from ``sample``."""
        n = self._owed_updates(new_steps * self.config.updates_per_env_step)
        if n:
            t = time.perf_counter()
            self._learn(sample(n * self.config.total_train_batch_size), n)
            self.counts.policy_updates += n
            self.seconds.policy_updates += time.perf_counter() - t

    def model_updates(self, steps: int) -> None:
        """The model updates owed after ``steps`` steps (imagined or real) in all; they wait
        while the trainer holds no real data to train on. The previous update is confirmed first
        (its weights released to the env runners and branches), then the new one starts; with
        ``trainer.overlap`` the learner goes on while it trains."""
        t = self.mosim.trainer
        owed = steps // t.update_every - self.counts.model_updates
        if owed <= 0 or not self.schedule.ready_to_train(self):
            return
        self.confirm_model()
        self.model.update(owed * t.steps_per_update)
        before = self.counts.model_updates
        self.counts.model_updates += owed
        self.counts.model_gradient_steps += owed * t.steps_per_update
        if not t.overlap:
            self.confirm_model()
        self.schedule.after_model_updates(self, before)

    def confirm_model(self) -> None:
        """The update in flight, if any, done and released; the schedule hears of it."""
        times = self.model.confirm()
        if times is not None:
            self.seconds.waiting += times[0]
            self.seconds.model_training += times[1]
            self.schedule.after_confirm(self)

    @property
    def eval_seed(self) -> int:
        """The seed of this run's real evaluation starts."""
        return self.mosim.eval.starts_seed(self.seed)

    @property
    def model_version(self) -> int:
        """The newest model version the env runners and branches may use."""
        return self.model.version

    def refit_density(self) -> None:
        """The trainer refits the penalty's flow to all its real data; env runners (and the
        on-policy branches) pick the new flow up from the model store with the weights."""
        start = time.perf_counter()
        seed = self.seed + self.counts.density_fits
        version, report = self.model.refit_density(self.mosim.penalty.refit_steps, seed)
        self.counts.density_fits += 1
        keys = ("transitions", "val_log_prob", "seconds")
        fit = {"version": version, "real_steps": self.counts.real_steps}
        self.density_fits.append({**fit, **{k: report[k] for k in keys}})
        self.seconds.density_fitting += time.perf_counter() - start

    def finish(self) -> None:
        """End of a run: what the schedule still holds to the trainer, the update in flight
        confirmed, and a last evaluation unless this real-step count has one (its one figure)."""
        self.schedule.finish(self)
        self.confirm_model()
        if not self.curve or self.curve[-1]["real_steps"] != self.counts.real_steps:
            self.evaluate()

    def evaluate(self) -> None:
        start = time.perf_counter()
        res = self._evaluator(self)
        self.seconds.evaluation += time.perf_counter() - start
        self.clock.tick(self.seconds)
        self._last_eval = {"real_return_mean": res.mean, "real_return_std": res.std}
        every = self.mosim.eval.every  # the next multiple, as saves go: a save there holds it
        self._next_eval = (self.counts.real_steps // every + 1) * every
        trained_on = self.metrics.peek((ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN), default=np.nan)
        bounds = self.q_bounds
        # once a run: an earlier point of the curve (a resumed run's too) that was far outside
        # has warned already
        warned = bounds and any(far_outside(p.get("q_mean", np.nan), bounds) for p in self.curve)
        if bounds and far_outside(self.last_q_mean, bounds) and not warned:
            clipped = self.config.critic_target_bounds is not None
            q, steps = self.last_q_mean, self.counts.real_steps
            log.warning(divergence_message(q, bounds, steps, clipped))
        self.curve.append(
            {
                **self.counts.as_dict(),
                **self._last_eval,
                "model_version": self.model_version,
                "train_return_mean": float(trained_on),
                # a diverged critic (far past what the rewards allow) shows here long before
                # the real return says why nothing is learned
                "q_mean": self.last_q_mean,
                **({"q_bounds": list(bounds)} if bounds else {}),
                "env_runner_versions": self.schedule.runner_versions(self),
                "seconds": self.seconds.as_dict(),
            }
        )

    @property
    def q_bounds(self) -> tuple[float, float] | None:
        """The discounted returns the task's rewards allow (None where its range is unknown)."""
        rewards = reward_range(self.mosim.task)
        return None if rewards is None else return_bounds(rewards, self.config.gamma)

    def evaluation_due(self) -> bool:
        return self.counts.real_steps >= self._next_eval

    def _log_counts(self) -> None:
        # asking every env runner is a remote round trip: once a second is plenty, not once per
        # rollout fragment (this runs every few dozen imagined steps)
        now = time.monotonic()
        versions = []
        if now - self.__dict__.get("_versions_asked", -1e9) >= 1.0:
            self._versions_asked = now
            versions = self.schedule.runner_versions(self)
        if versions:  # none while RLlib replaces a failed env runner
            lo, hi = min(versions), max(versions)
            self.runner_versions.append(lo)
            self._versions = {"env_runner_version_min": lo, "env_runner_version_max": hi}
        values = {
            **self.counts.as_dict(),
            **self._last_eval,
            "model_version": self.model_version,
            **getattr(self, "_versions", {}),
        }
        for key, value in values.items():
            self.metrics.log_value((MOSIM, key), value, window=1)
        self.clock.tick(self.seconds)
        for key, value in self.seconds.as_dict().items():
            self.metrics.log_value((MOSIM, "seconds", key), value, window=1)

    def nodes(self) -> dict[str, list[str]]:
        """The Ray node id of every role's actor now (where placement put them)."""

        def node(_) -> str:
            return ray.get_runtime_context().get_node_id()

        remote = self.config.num_env_runners > 0
        collectors = getattr(self.schedule, "collectors", [])
        return {
            "trainer": [self.model.node()],
            "collectors": ray.get([c.node_id.remote() for c in collectors]),
            "env_runners": list(
                self.env_runner_group.foreach_env_runner(node, local_env_runner=not remote)
            ),
        }

    # --- results, checkpoints, shutdown ----------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts, last evaluation, time by activity and the curve (for the run's result JSON)."""
        held = self.model.state()
        self.clock.tick(self.seconds, (held["pid"], held["cpu_seconds"]))
        return {
            "task": self.mosim.task,
            "schedule": self.mosim.schedule,
            **self._last_eval,
            "eval_episodes": self.mosim.eval.episodes,
            "eval_seed": self.eval_seed,
            **self.counts.as_dict(),
            "trainer_real_steps": held["real_steps"],
            "trainer_model_version": held["version"],
            "seconds": self.seconds.as_dict(),
            "curve": list(self.curve),
            "fresh_data_error": list(self.model.fresh_data_errors()),
            "density_fits_log": list(self.density_fits),
            "env_runner_version_min_per_iteration": list(self.runner_versions),
            "placement": dataclasses.asdict(self.placement),
            "settings": dataclasses.asdict(self.mosim),
        }

    def get_state(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        state = super().get_state(*args, **kwargs)
        if hasattr(self, "model"):
            state[MOSIM] = run_state(self)
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if MOSIM in state:
            set_run_state(self, state[MOSIM])

    def cleanup(self) -> None:
        if getattr(self, "_evaluator", None) is not None:
            self._evaluator.stop()
        super().cleanup()
        for actor in getattr(getattr(self, "schedule", None), "collectors", []):
            ray.kill(actor, no_restart=True)
        if getattr(self, "model", None) is not None:
            self.model.kill()


__all__ = ["MOSIM", "MoSimSAC", "MoSimSACConfig"]
