"""SAC's training forward pass for continuous actions, on the RLModule's own networks.

``sac_forward_train`` computes what ``DefaultSACTorchRLModule._forward_train_continuous``
computes (same networks, same action distribution, same random draws in the same order: a test
compares the outputs bit for bit) with each MLP called as its ``nn.Sequential``: no encoder and
head wrappers, no input dicts, and the next state's policy and target critics under ``no_grad``
instead of a detached graph. ``lean_forward_supported`` says when a module is one it knows how to run this way.

``network_dtype="bfloat16"`` runs each MLP under CPU autocast (its matrix products in bfloat16,
weights, gradients, Adam and everything outside the MLPs in float32): on CPUs with AVX512-BF16
the update is faster, and its outputs are no longer RLlib's bit for bit.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from ray.rllib.algorithms.sac.sac_learner import ACTION_DIST_INPUTS_NEXT, QF_PREDS, QF_TWIN_PREDS
from ray.rllib.algorithms.sac.torch.default_sac_torch_rl_module import DefaultSACTorchRLModule
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.torch.encoder import TorchMLPEncoder
from ray.rllib.core.models.torch.heads import TorchMLPHead

from mosim_ray.sac.critic import TorchConcatMLPEncoder

_RLLIB_METHODS = ("_forward_train", "_forward_train_continuous", "_qf_forward_train_helper")
NETWORK_DTYPES = ("float32", "bfloat16")
"""``FastSACConfig.network_dtype`` values"""


def check_network_dtype(dtype: str) -> str:
    if dtype not in NETWORK_DTYPES:
        raise ValueError(f"unknown network_dtype {dtype!r}; choose from {list(NETWORK_DTYPES)}")
    return dtype


def lean_forward_supported(module: Any) -> bool:
    """True for RLlib's SAC module (not overridden) with MLP encoders, the concat critic, plain
    MLP heads, twin critics and a Box action space."""
    if not isinstance(module, DefaultSACTorchRLModule) or module.inference_only:
        return False
    cls = type(module)
    if any(getattr(cls, m) is not getattr(DefaultSACTorchRLModule, m) for m in _RLLIB_METHODS):
        return False
    if not isinstance(module.action_space, gym.spaces.Box) or not module.twin_q:
        return False
    critics = ("qf", "qf_twin", "target_qf", "target_qf_twin")
    heads = [module.pi] + [getattr(module, name) for name in critics]
    encoders = [getattr(module, name + "_encoder") for name in critics]
    return (
        type(module.pi_encoder) is TorchMLPEncoder
        and all(type(e) is TorchConcatMLPEncoder for e in encoders)
        and all(type(h) is TorchMLPHead and not h.clip_log_std for h in heads)
    )


def _critic(module: Any, name: str) -> torch.nn.Sequential:
    """The critic ``name`` (qf, qf_twin, target_qf, ...) as one MLP over concat(obs, action)."""
    return torch.nn.Sequential(
        getattr(module, name + "_encoder").net.mlp, getattr(module, name).net.mlp
    )


class LeanSACForward:
    """``forward_train`` of one SAC module (see the module docstring); built once per module."""

    def __init__(self, module: Any, network_dtype: str = "float32") -> None:
        self.module = module
        nets = [torch.nn.Sequential(module.pi_encoder.net.mlp, module.pi.net.mlp)]
        nets += [_critic(module, n) for n in ("qf", "qf_twin", "target_qf", "target_qf_twin")]
        if check_network_dtype(network_dtype) == "bfloat16":
            nets = [_Autocast(net) for net in nets]
        self.pi, self.q, self.q_twin, self.target, self.target_twin = nets
        self.critic_params = [*nets[1].parameters(), *nets[2].parameters()]
        self.dist_cls = module.get_train_action_dist_cls()

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """batch: obs, new_obs [B, obs_dim], actions [B, act_dim]. Returns RLlib's fwd_out."""
        if not self.module.training:  # RLlib's forward_train sets train mode every call
            self.module.train()
        obs, next_obs = batch[Columns.OBS], batch[Columns.NEXT_OBS]
        x = torch.cat([obs, batch[Columns.ACTIONS]], dim=-1)
        out = {QF_PREDS: self.q(x).squeeze(-1), QF_TWIN_PREDS: self.q_twin(x).squeeze(-1)}
        logits = self.pi(obs)
        out[Columns.ACTION_DIST_INPUTS] = logits
        actions, out["logp_resampled"] = self.dist_cls.from_logits(logits).rsample_and_logp()
        with torch.no_grad():  # the next action only enters the (detached) Bellman target
            logits_next = self.pi(next_obs)
            next_actions, logp_next = self.dist_cls.from_logits(logits_next).sample_and_logp()
        out[ACTION_DIST_INPUTS_NEXT] = logits_next
        out["logp_next_resampled"] = logp_next
        # Q of the fresh action with the critics frozen: the actor loss reaches the policy
        # through the action, never the critics' weights (RLlib's requires_grad switch).
        for p in self.critic_params:
            p.requires_grad_(False)
        try:
            x_new = torch.cat([obs, actions], dim=-1)
            out["q_curr"] = torch.min(self.q(x_new), self.q_twin(x_new)).squeeze(-1)
        finally:
            for p in self.critic_params:
                p.requires_grad_(True)
        with torch.no_grad():
            x_next = torch.cat([next_obs, next_actions], dim=-1)
            q_next = torch.min(self.target(x_next), self.target_twin(x_next))
        out["q_target_next"] = q_next.squeeze(-1)
        return out


class _Autocast(torch.nn.Module):
    """``net`` with its matrix products in bfloat16 (CPU autocast), its output in float32."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = self.net(x)
        return y.float()
