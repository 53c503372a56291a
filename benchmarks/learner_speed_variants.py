"""What ``learner_speed.py`` compares: ours (``algorithm_config("sac", ...)``), Stable-Baselines3,
RLlib's default SAC, and ours with parts of its update path (``--candidates``) or older settings
(``--ablations``) as RLlib has them; and the env each runs on."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from learner_speed_runners import RLlibRunner, SB3Runner


def env_spec(args: argparse.Namespace) -> tuple[str, dict, str]:
    if args.env == "mosim-imagined":
        cfg = {"task": args.task, "checkpoint": args.checkpoint, "num_envs": args.num_envs}
        return args.env, cfg, "vector_entry_point"
    if args.env == "mosim-real":
        return args.env, {"task": args.task}, "vector_entry_point"
    return args.env, {}, "sync"


def single_env(env: str, env_config: dict) -> Any:
    """One gymnasium env of ``env`` (for SB3 and the spaces)."""
    import gymnasium as gym

    if env == "mosim-real":
        from mosim_ray.envs.real import RealEnv

        return RealEnv(env_config["task"])
    if env.startswith("mosim-"):
        raise ValueError(f"{env}: no single-env form here; use mosim-real or a gymnasium id")
    return gym.make(env)


def spaces(env: str, env_config: dict) -> tuple[int, int]:
    if env.startswith("mosim-"):
        from mosim_ray.envs.rllib import make_env

        e = make_env(env, env_config)
        obs = getattr(e, "single_observation_space", e.observation_space)
        act = getattr(e, "single_action_space", e.action_space)
    else:
        e = single_env(env, env_config)
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

    env, env_config, mode = env_spec(args)
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
        out["sb3"] = lambda: SB3Runner(single_env(env, env_config), starts)
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
