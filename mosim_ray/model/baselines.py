"""The baselines that are not ODEs: an MBPO-style ensemble and constant-state prediction."""

from __future__ import annotations

import torch
from torch import nn

from mosim_ray.model.base import DynamicsModel
from mosim_ray.model.config import ModelConfig
from mosim_ray.model.nets import MLP
from mosim_ray.tasks.spec import TaskSpec


class EnsembleDynamics(DynamicsModel):
    """MBPO-style probabilistic MLP ensemble: each member predicts a Gaussian over the normalized
    one-step change of the state; predictions use the members' mean."""

    def __init__(self, spec: TaskSpec, config: ModelConfig):
        super().__init__(spec, config)
        fs, d = self.layout.state_feature_dim, spec.nq + spec.nv
        self.members = nn.ModuleList(
            MLP(fs + spec.nu, 2 * d, config.ensemble_layers, config.ensemble_width)
            for _ in range(config.ensemble_members)
        )

    def _member_outputs(self, state, action):
        nq = self.spec.nq
        x = torch.cat(
            [self.norm.state_features(state[:, :nq], state[:, nq:]), self.norm.action(action)], -1
        )
        out = torch.stack([m(x) for m in self.members])  # [M, B, 2D]
        mean, logvar = out.chunk(2, dim=-1)
        return mean, logvar.clamp(-10, 4)

    def step(self, state, action):
        mean, _ = self._member_outputs(state, action)
        nxt = state + mean.mean(0) * self.norm.delta_std
        return torch.cat(
            [self.layout.normalize_quaternions(nxt[:, : self.spec.nq]), nxt[:, self.spec.nq :]], -1
        )

    @torch.no_grad()
    def member_rollouts(self, state0, actions):
        """Each member's own open-loop future (its mean change per step, no averaging):
        state0 [B, D], actions [B, H, U] -> [M, B, H, D]; the spread across members is the
        ensemble's epistemic uncertainty."""
        m = len(self.members)
        s = state0.repeat(m, 1)  # [M*B, D], member-major
        a = actions.repeat(m, 1, 1)
        b, nq = state0.shape[0], self.spec.nq
        out = []
        for k in range(actions.shape[1]):
            x = torch.cat(
                [self.norm.state_features(s[:, :nq], s[:, nq:]), self.norm.action(a[:, k])], -1
            )
            means = torch.stack(
                [net(x[i * b : (i + 1) * b]).chunk(2, -1)[0] for i, net in enumerate(self.members)]
            ).reshape(m * b, -1)
            nxt = s + means * self.norm.delta_std
            s = torch.cat([self.layout.normalize_quaternions(nxt[:, :nq]), nxt[:, nq:]], -1)
            out.append(s)
        return torch.stack(out, 1).reshape(m, b, actions.shape[1], -1)

    def loss(self, states, actions, weights, normalized=True, step=None):
        """Gaussian negative log-likelihood of one-step changes, over every step of the segment
        (no rollout: ``step`` is not used)."""
        s, a = states[:, :-1].reshape(-1, states.shape[-1]), actions.reshape(-1, actions.shape[-1])
        target = (states[:, 1:].reshape(-1, states.shape[-1]) - s) / self.norm.delta_std
        mean, logvar = self._member_outputs(s, a)
        return (((mean - target) ** 2) * torch.exp(-logvar) + logvar).mean()


class ConstantDynamics(DynamicsModel):
    """The floor: the state never changes."""

    def step(self, state, action):
        return state.clone()

    def loss(self, states, actions, weights, normalized=True, step=None):
        return torch.zeros(())
