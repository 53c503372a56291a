"""The on-policy schedule: the policy acts in the real env, the model learns as real data comes.

The env runners step ``mosim-real`` (states in infos); every ``trainer.update_every`` real steps
the trainer makes a model update on its replay of real segments; ``branches_per_real_step``
imagined branches of ``branch_length`` steps start from real states seen so far (the policy's,
or with ``branch_from="dataset"`` the trainer's whole dataset, starting data included), and each
policy update draws ``real_fraction`` of its batch from the real transitions and the rest from
the imagined ones.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from ray.rllib.utils.metrics import REPLAY_BUFFER_ADD_DATA_TIMER, TIMERS

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.envs.rllib import REAL, density_penalty, imagined_env_config, penalty_source
from mosim_ray.envs.store_client import StorePuller, model_from_store
from mosim_ray.sac.buffer import TransitionReplayBuffer
from mosim_ray.schedules.branches import BranchRollouts
from mosim_ray.schedules.real_segments import RealSegments, module_actions
from mosim_ray.schedules.relabel import RelabelledTransitions
from mosim_ray.schedules.settings import MoSimSettings, imagined_penalty_keys
from mosim_ray.tasks import get_spec

if TYPE_CHECKING:
    from mosim_ray.schedules.algorithm import MoSimSAC


class OnPolicy:
    """The on-policy schedule inside ``MoSimSAC`` (see the module docstring)."""

    def __init__(self, settings: MoSimSettings):
        self.s = settings
        self.has_data = settings.data is not None
        """whether the trainer holds real data to train on"""

    def configure(self, config: Any, store: str) -> None:
        """The env runners' env: the real task, handing its physical states out in infos."""
        self.store = store
        config.environment(REAL, env_config={})
        config.env_config = {
            "task": self.s.task,
            "time_limit": self.s.on_policy.real_time_limit,
            "state_in_info": True,
        }

    def setup(self, algo: MoSimSAC) -> None:
        low, high = get_spec(self.s.task).action_bounds
        self.segments = RealSegments(action_low=low, action_high=high)
        capacity = int(algo.config.replay_buffer_config.get("capacity", 1_000_000))
        self.imagined = TransitionReplayBuffer(capacity, seed=algo.config.seed)
        self.branch_credit = 0.0
        self.branches = self.make_branches(algo)
        self.dataset_pool = None
        if self.s.on_policy.branch_from == "dataset" and self.s.data:
            self.dataset_pool = algo.model.reset_states(self.s.reset_states)
        if self.s.on_policy.preload_real and self.s.data:
            algo.local_replay_buffer.add_arrays(starting_transitions(self.s.task, self.s.data))
        self.relabelled = None
        if self.s.on_policy.relabel_fraction:
            self.relabelled = RelabelledTransitions(self.s.task, capacity, seed=algo.config.seed)
            if self.s.on_policy.preload_real and self.s.data:
                self.relabelled.add_episodes(RolloutDataset.open(self.s.data).episodes)

    def make_branches(self, algo: MoSimSAC) -> BranchRollouts:
        s = self.s
        puller = StorePuller(self.store)
        _, model_config, weights = puller.fetch(0)
        env_config = imagined_env_config(imagined_penalty_keys(s.penalty))
        env = ImaginedVecEnv(
            model_from_store(model_config, weights),
            num_envs=s.on_policy.branch_batch,
            time_limit=s.on_policy.branch_length,
            weights_source=puller,
            sync_every=1,
            task=s.task,
            penalty=density_penalty(env_config),
            penalty_source=penalty_source(env_config, puller),
            task_contexts=s.task_contexts,
        )
        env.model_version = algo.model_version
        return BranchRollouts(env, s.on_policy.branch_length, seed=algo.seed)

    def step(self, algo: MoSimSAC) -> None:
        o = self.s.on_policy
        t = time.perf_counter()
        chunks = algo._sample_env_runners()
        with algo.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            new_steps = algo.local_replay_buffer.add(chunks)
        algo.counts.real_steps = algo._sampled_lifetime()
        self.ingest(algo, self.segments.add(chunks))
        algo.seconds.real_collection += time.perf_counter() - t
        algo.model_updates(algo.counts.real_steps)
        t = time.perf_counter()
        self.branch_credit += new_steps * o.branches_per_real_step
        if self.branch_credit >= o.branch_batch:  # the pool of every real state costs O(steps)
            states, contexts = self.branch_pool(algo)
            pool = ResetPool(states, contexts) if len(states) else None
            if pool is not None and o.velocity_margin is not None:
                bounds = pool.velocity_bounds(get_spec(self.s.task).nq, o.velocity_margin)
                self.branches.env.velocity_bounds = bounds
            while self.branch_credit >= o.branch_batch and pool is not None:
                data = self.branches(algo.get_module(), pool)
                algo.counts.imagined_steps += self.imagined.add_arrays(data)
                algo.counts.branches_stopped += self.branches.last_stopped
                self.branch_credit -= o.branch_batch
        algo.seconds.imagined_steps += time.perf_counter() - t
        algo.policy_updates(new_steps, lambda n: self.mixed_batch(algo, n))
        if algo.evaluation_due():
            algo.evaluate()

    def ingest(self, algo: MoSimSAC, segments: list) -> None:
        """Real segments to the trainer (no wait: they queue behind an update in flight). Their
        ids are new by construction, so each counts once."""
        if segments:
            if self.relabelled is not None:
                self.relabelled.add_episodes(segments)
            algo.model.ingest(segments, algo.counts.real_steps)
            algo.counts.real_segments += len(segments)
            self.has_data = True

    def ready_to_train(self, algo: MoSimSAC) -> bool:
        """Open real episodes long enough for a training window go to the trainer first; without
        starting data, model updates wait (owed, not dropped) until the first window is in."""
        self.ingest(algo, self.segments.cut(self.s.trainer.horizon + 1))
        return self.has_data

    def after_confirm(self, algo: MoSimSAC) -> None:
        """With ``branch_from="dataset"``, the branches' pool is the trainer's newest real states,
        fetched now, while the trainer is idle (between updates)."""
        if self.s.on_policy.branch_from == "dataset":
            self.dataset_pool = algo.model.reset_states(self.s.reset_states)

    def after_model_updates(self, algo: MoSimSAC, before: int) -> None:
        every = self.s.penalty.refit_every
        if every and before // every < algo.counts.model_updates // every:
            algo.refit_density()

    def branch_pool(self, algo: MoSimSAC) -> tuple[np.ndarray, np.ndarray]:
        """Where branches start (``branch_from``): the policy's real states, or the trainer's
        newest real states as of the last confirmed model update (before the first one, and with
        no starting data, the policy's)."""
        if self.s.on_policy.branch_from == "dataset" and self.dataset_pool is not None:
            return self.dataset_pool
        return self.segments.reset_pool()

    def mixed_batch(self, algo: MoSimSAC, n: int) -> dict[str, np.ndarray]:
        """``n`` transitions: ``real_fraction`` real, the rest imagined (all real while there are
        no imagined ones yet); ``relabel_fraction`` of the real ones under fresh goals."""
        o = self.s.on_policy
        n_real = n if len(self.imagined) == 0 else int(round(n * o.real_fraction))
        n_relabelled = 0
        if self.relabelled is not None and len(self.relabelled):
            n_relabelled = int(round(n_real * o.relabel_fraction))
        if n_real == n and not n_relabelled:
            return algo.local_replay_buffer.sample(n)
        sources = (
            (algo.local_replay_buffer, n_real - n_relabelled),
            (self.relabelled, n_relabelled),
            (self.imagined, n - n_real),
        )
        parts = [b.sample(k) for b, k in sources if k]
        data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        # the learner splits the array into consecutive minibatches: mix before it does
        perm = np.random.default_rng(algo.counts.policy_updates).permutation(n)
        return {k: v[perm] for k, v in data.items()}

    def finish(self, algo: MoSimSAC) -> None:
        """Open real segments go to the trainer."""
        self.ingest(algo, self.segments.flush())

    def before_save(self, algo: MoSimSAC) -> None:
        """Open real segments go to the trainer: a resumed run's env runners start new episodes,
        and the saved trainer must hold every real step counted so far."""
        self.ingest(algo, self.segments.flush())

    def get_state(self) -> dict[str, Any]:
        return {
            "imagined": self.imagined.get_state(),
            "imagined_rng": self.imagined._rng.bit_generator.state,
            "branch_credit": self.branch_credit,
            "branch_rng": self.branches.rng.bit_generator.state,
            "has_data": self.has_data,
            # segment ids go on from here: an id the trainer already holds would be ignored
            "next_segment_id": self.segments.next_id,
            "visited": self.segments.reset_pool(),
            "relabelled": None if self.relabelled is None else self.relabelled.get_state(),
        }

    def set_state(self, algo: MoSimSAC, state: dict[str, Any]) -> None:
        self.imagined.set_state(state["imagined"])
        self.imagined._rng.bit_generator.state = state["imagined_rng"]
        self.branch_credit = state["branch_credit"]
        self.branches.rng.bit_generator.state = state["branch_rng"]
        self.has_data = state["has_data"]
        self.segments.next_id = state["next_segment_id"]
        if self.relabelled is not None:
            self.relabelled.set_state(state["relabelled"])
        states, contexts = state["visited"]
        self.segments.states, self.segments.contexts = list(states), list(contexts)
        if self.s.on_policy.branch_from == "dataset" and self.has_data:
            self.dataset_pool = algo.model.reset_states(self.s.reset_states)

    def runner_versions(self, algo: MoSimSAC) -> list[int]:
        """Branches step with the newest published model."""
        return [algo.model_version]


def starting_transitions(task: str, data: str) -> dict[str, np.ndarray]:
    """Every transition of the starting data as replay arrays (obs, act in the module's [-1, 1],
    rew, nobs, term), observation and reward computed by ``task``'s functions from the stored
    physical states: the same as the stored ones for the same task, the task's own for another
    task of the same robot (reacher-hard on reacher-easy data)."""
    from mosim_ray.envs.task_functions import task_functions

    functions = task_functions(task)
    low, high = (np.asarray(b, np.float64) for b in get_spec(task).action_bounds)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "nobs", "term")}
    for ep in RolloutDataset.open(data).episodes:
        states = ep.states.astype(np.float64)
        acts = ep.actions.astype(np.float64)
        ctx = ep.contexts.astype(np.float64)
        # the first observation: the reset state as reached from itself under the first action
        obs, _, _ = functions.transition(states[:1], states[:1], acts[:1], ctx[:1])
        nobs, rew, term = functions.transition(states[:-1], states[1:], acts, ctx[1:])
        cols["obs"].append(np.concatenate([obs, nobs[:-1]]))
        cols["nobs"].append(nobs)
        cols["act"].append(module_actions(acts, low, high))
        cols["rew"].append(rew.astype(np.float32))
        cols["term"].append(term.astype(np.float32))
    return {k: np.concatenate(v).astype(np.float32) for k, v in cols.items()}
