"""``FastSACTorchLearner``: RLlib's SAC learner with a lean forward pass, one backward pass, fused
Adam, a target update after every gradient step, a choice of critic loss, and
``update_from_arrays``: K gradient steps on one array batch without RLlib's per-minibatch
machinery."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.sac.sac_learner import (
    LOGPS_KEY,
    QF_LOSS_KEY,
    QF_MAX_KEY,
    QF_MEAN_KEY,
    QF_MIN_KEY,
    QF_PREDS,
    QF_TWIN_LOSS_KEY,
    QF_TWIN_PREDS,
    TD_ERROR_MEAN_KEY,
)
from ray.rllib.algorithms.sac.torch.sac_torch_learner import SACTorchLearner
from ray.rllib.core import COMPONENT_OPTIMIZER
from ray.rllib.core.learner.learner import POLICY_LOSS_KEY, Learner
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import (
    ALL_MODULES,
    MODULE_TRAIN_BATCH_SIZE_MEAN,
    NUM_ENV_STEPS_TRAINED,
    NUM_ENV_STEPS_TRAINED_LIFETIME,
    NUM_MODULE_STEPS_TRAINED,
    NUM_MODULE_STEPS_TRAINED_LIFETIME,
    TD_ERROR_KEY,
    WEIGHTS_SEQ_NO,
)

from mosim_ray.sac.forward import LeanSACForward, lean_forward_supported
from mosim_ray.sac.losses import SACLosses, check_target_bounds, sac_losses

LOG_ALPHA_STATE = "curr_log_alpha"
"""the learner state's key for each module's log temperature"""


class FastSACTorchLearner(SACTorchLearner):
    """RLlib's SAC torch learner with one backward pass and a target update per gradient step.

    The forward pass is RLlib's ``DefaultSACTorchRLModule.forward_train`` on the module's own
    networks, run by ``forward.LeanSACForward`` where the module is one it knows (same outputs,
    fewer Python layers; RLlib's own otherwise). The losses are RLlib's (``losses.sac_losses``)
    with the critic loss of ``config.critic_loss`` ("huber", RLlib's, when the config has no
    such field).
    """

    def build(self) -> None:
        super().build()
        self._target_pairs: dict[Any, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
        self._lean_forwards: dict[Any, tuple[Any, LeanSACForward | None]] = {}
        # update_from_arrays logs loss statistics for the last of its K steps only, and no
        # per-sample TD errors (only prioritized replay reads them).
        self._log_loss_stats = True
        self._log_td_errors = True
        # checked once here, not at every loss computation
        self._target_bounds = check_target_bounds(
            getattr(self.config, "critic_target_bounds", None)
        )

    def configure_optimizers_for_module(self, module_id: Any, config: Any = None) -> None:
        super().configure_optimizers_for_module(module_id, config)
        # Same Adam (RLlib's eps=1e-7), as one fused kernel per optimizer instead of a Python
        # loop of ~10 small ops per parameter tensor (torch's CPU default is the loop).
        for _, optim in self.get_optimizers_for_module(module_id):
            for group in optim.param_groups:
                group["fused"] = True
                group["foreach"] = False
            optim.defaults["fused"] = True
            optim.defaults["foreach"] = False

    # --- state --------------------------------------------------------------------------------
    def get_state(
        self, components: Any = None, *, not_components: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        state = super().get_state(components, not_components=not_components, **kwargs)
        # RLlib's SAC learner keeps the temperature outside the module and the optimizer state
        # (only its Adam moments are there): a run resumed from a save would start again at the
        # initial temperature. It goes with the optimizer state, which weight syncs leave out.
        if self._check_component(COMPONENT_OPTIMIZER, components, not_components):
            state[LOG_ALPHA_STATE] = {
                mid: t.detach().cpu().numpy().copy() for mid, t in self.curr_log_alpha.items()
            }
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        with torch.no_grad():  # in place: the temperature's optimizer holds this very tensor
            for mid, value in state.get(LOG_ALPHA_STATE, {}).items():
                self.curr_log_alpha[mid].copy_(torch.as_tensor(value))

    # --- losses ---------------------------------------------------------------------------------
    def compute_loss_for_module(
        self, *, module_id: Any, config: Any, batch: Any, fwd_out: dict
    ) -> torch.Tensor:
        kind = getattr(config, "critic_loss", "huber")
        if not isinstance(self._module[module_id].action_space, gym.spaces.Box):
            if kind != "huber":
                raise ValueError(f"critic_loss={kind!r} needs a Box action space; use 'huber'")
            return super().compute_loss_for_module(
                module_id=module_id, config=config, batch=batch, fwd_out=fwd_out
            )
        losses = sac_losses(
            fwd_out,
            batch,
            log_alpha=self.curr_log_alpha[module_id],
            target_entropy=self.target_entropy[module_id],
            gamma=config.gamma,
            twin_q=config.twin_q,
            kind=kind,
            target_bounds=self._target_bounds,
        )
        self._temp_losses[(module_id, POLICY_LOSS_KEY)] = losses.actor
        self._temp_losses[(module_id, QF_LOSS_KEY)] = losses.critic
        self._temp_losses[(module_id, "alpha_loss")] = losses.alpha
        total = losses.actor + losses.critic + losses.alpha
        if losses.critic_twin is not None:
            self._temp_losses[(module_id, QF_TWIN_LOSS_KEY)] = losses.critic_twin
            total = total + losses.critic_twin
        if self._log_loss_stats or self._log_td_errors:
            self._log_losses(module_id, fwd_out, losses)
        return total

    def _log_losses(self, module_id: Any, fwd_out: dict, losses: SACLosses) -> None:
        """RLlib's SAC statistics (same keys, window 1) and per-sample TD errors."""
        with torch.no_grad():
            td_error = torch.abs(fwd_out[QF_PREDS] - losses.target)
            if losses.critic_twin is not None:
                td_error = 0.5 * (td_error + torch.abs(fwd_out[QF_TWIN_PREDS] - losses.target))
        if self._log_td_errors:
            self.metrics.log_value((module_id, TD_ERROR_KEY), td_error, reduce="item_series")
        if not self._log_loss_stats:
            return
        log_alpha = self.curr_log_alpha[module_id].detach()
        stats = {
            POLICY_LOSS_KEY: losses.actor,
            QF_LOSS_KEY: losses.critic,
            "alpha_loss": losses.alpha,
            "alpha_value": torch.exp(log_alpha)[0],
            "log_alpha_value": log_alpha[0],
            "target_entropy": self.target_entropy[module_id],
            LOGPS_KEY: torch.mean(fwd_out["logp_resampled"]),
            QF_MEAN_KEY: torch.mean(fwd_out["q_curr"]),
            QF_MAX_KEY: torch.max(fwd_out["q_curr"]),
            QF_MIN_KEY: torch.min(fwd_out["q_curr"]),
            TD_ERROR_MEAN_KEY: torch.mean(td_error),
        }
        if losses.critic_twin is not None:
            stats[QF_TWIN_LOSS_KEY] = losses.critic_twin
        self.metrics.log_dict(stats, key=module_id, window=1)

    # --- one gradient step ----------------------------------------------------------------------
    def compute_gradients(self, loss_per_module: dict[Any, torch.Tensor], **kwargs) -> dict:
        # critic, twin-critic, actor and alpha losses touch disjoint parameters (the actor loss
        # sees the critics with requires_grad=False, alpha and the targets are detached), so the
        # gradient of their sum equals the four separate gradients of RLlib's four
        # ``backward(retain_graph=True)`` calls, for one graph traversal.
        for optim in self._optimizer_parameters:
            optim.zero_grad(set_to_none=True)
        total = None
        for module_id in set(loss_per_module) - {ALL_MODULES}:
            for optim_name, _ in self.get_optimizers_for_module(module_id):
                loss = self._temp_losses.pop((module_id, optim_name + "_loss"))
                total = loss if total is None else total + loss
        assert not self._temp_losses
        if total is not None:
            total.backward()
        return {pid: p.grad for pid, p in self._params.items() if p.grad is not None}

    def apply_gradients(self, gradients_dict: dict) -> None:
        # RLlib checks every gradient tensor for nan/inf with its own isfinite().all() (a
        # Python round trip each, ~2 ms per SAC update); one fused norm check finds the same.
        grads = list(gradients_dict.values())
        if (
            not grads
            or self._lr_scheduler_classes is not None
            or self._grad_scalers is not None
            or not torch.isfinite(torch.stack(torch._foreach_norm(grads))).all()
        ):
            return super().apply_gradients(gradients_dict)
        for pid, grad in gradients_dict.items():
            self._params[pid].grad = grad
        for module_id, optimizer_names in self._module_optimizers.items():
            for optimizer_name in optimizer_names:
                self.get_optimizer(module_id, optimizer_name).step()

    def _pairs(self, module_id: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if module_id not in self._target_pairs:
            main, target = [], []
            for main_net, target_net in (
                self.module[module_id].unwrapped().get_target_network_pairs()
            ):
                main += [t for t in main_net.state_dict(keep_vars=True).values()]
                target += [t for t in target_net.state_dict(keep_vars=True).values()]
            self._target_pairs[module_id] = (main, target)
        return self._target_pairs[module_id]

    def _lean_forward(self, module_id: Any) -> LeanSACForward | None:
        """The lean forward pass of ``module_id``'s module, None where RLlib's must run."""
        module = self.module[module_id]
        cached = self._lean_forwards.get(module_id)
        if cached is None or cached[0] is not module:
            lean = None
            dtype = getattr(self.config, "network_dtype", "float32")
            if self.config.num_learners <= 1 and lean_forward_supported(module):
                lean = LeanSACForward(module, dtype)
            elif dtype != "float32":
                raise ValueError(
                    f"network_dtype {dtype} needs the lean forward pass: RLlib's SAC module with "
                    "MLP networks, twin critics and continuous actions, on one local learner"
                )
            cached = self._lean_forwards[module_id] = (module, lean)
        return cached[1]

    def _uncompiled_update(self, batch: dict, **kwargs):
        lean = {mid: self._lean_forward(mid) for mid in batch}
        if all(f is not None for f in lean.values()):
            # TorchLearner._uncompiled_update with the lean forward pass (no DDP here).
            self._compute_off_policyness(batch)
            fwd_out = {mid: lean[mid](b) for mid, b in batch.items()}
            loss_per_module = self.compute_losses(fwd_out=fwd_out, batch=batch)
            gradients = self.compute_gradients(loss_per_module)
            self.apply_gradients(self.postprocess_gradients(gradients))
            out = (fwd_out, loss_per_module, {})
        else:
            out = super()._uncompiled_update(batch, **kwargs)
        with torch.no_grad():
            for module_id in batch:
                main, target = self._pairs(module_id)
                tau = self.config.get_config_for_module(module_id).tau
                # target <- target + tau * (main - target), the Polyak average of SAC.
                torch._foreach_lerp_(target, main, tau)
        return out

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        # Skip DQNLearner's once-per-update() target sync: _uncompiled_update already did one
        # per gradient step, which is what tau=0.005 assumes.
        Learner.after_gradient_based_update(self, timesteps=timesteps)

    # --- K steps on one array batch -------------------------------------------------------------
    def update_from_arrays(
        self,
        data: dict[str, np.ndarray],
        *,
        minibatch_size: int,
        timesteps: dict[str, Any] | None = None,
    ) -> dict:
        """``n // minibatch_size`` gradient steps, one per consecutive slice of ``data``.

        data: RLlib columns (obs, actions, rewards, new_obs, terminateds), [n, ...] each, for the
        learner's only module. The steps are ``update(batch=..., minibatch_size=...,
        num_epochs=1, shuffle_batch_per_epoch=False)``'s, without its per-minibatch batch
        objects, timers and metrics: loss statistics come from the last step (RLlib logs them
        with window 1, so its reduce keeps the last one too), TD errors are not logged. Returns
        ``metrics.reduce()``, as ``update`` does.
        """
        self._check_is_built()
        module_ids = list(self.module.keys())
        if len(module_ids) != 1:
            raise ValueError(f"update_from_arrays needs one module, the learner has {module_ids}")
        (module_id,) = module_ids
        timesteps = timesteps or {}
        self.before_gradient_based_update(timesteps=timesteps)
        self._weights_seq_no += 1
        cols = {k: torch.as_tensor(v, device=self._device) for k, v in data.items()}
        n = len(cols[SampleBatch.REWARDS])
        steps = n // minibatch_size
        if steps < 1:
            raise ValueError(f"{n} transitions hold no minibatch of {minibatch_size}")
        self._log_td_errors = False
        try:
            for i in range(steps):
                self._log_loss_stats = i == steps - 1
                s = slice(i * minibatch_size, (i + 1) * minibatch_size)
                _, loss_per_module, _ = self._update(
                    {module_id: {k: v[s] for k, v in cols.items()}}
                )
        finally:
            self._log_loss_stats = self._log_td_errors = True
        trained = steps * minibatch_size
        self._log_metrics(MultiAgentBatch({module_id: SampleBatch(cols)}, env_steps=trained))
        self._log_steps_trained(module_id, trained, minibatch_size)
        for mid, loss in loss_per_module.items():
            self.metrics.log_value((mid, self.TOTAL_LOSS_KEY), loss, window=1)
        self.after_gradient_based_update(timesteps=timesteps)
        return self.metrics.reduce()

    def _log_steps_trained(self, module_id: Any, trained: int, minibatch_size: int) -> None:
        """The counters ``Learner._log_steps_trained_metrics`` logs over all minibatches."""
        log = self.metrics.log_value
        log((module_id, WEIGHTS_SEQ_NO), self._weights_seq_no, window=1)
        log((module_id, MODULE_TRAIN_BATCH_SIZE_MEAN), minibatch_size, reduce="mean")
        log((module_id, NUM_MODULE_STEPS_TRAINED), trained, reduce="sum")
        lifetime = {"reduce": "lifetime_sum", "with_throughput": True}
        log((module_id, NUM_MODULE_STEPS_TRAINED_LIFETIME), trained, **lifetime)
        log((ALL_MODULES, NUM_MODULE_STEPS_TRAINED), trained, reduce="sum", with_throughput=True)
        log((ALL_MODULES, NUM_MODULE_STEPS_TRAINED_LIFETIME), trained, **lifetime)
        log((ALL_MODULES, NUM_ENV_STEPS_TRAINED), trained, reduce="sum", with_throughput=True)
        log((ALL_MODULES, NUM_ENV_STEPS_TRAINED_LIFETIME), trained, **lifetime)
