"""The arithmetic floor of a SAC update on this CPU: a minimal plain-PyTorch SAC step (Haarnoja et
al. 2018, v2: actor and twin critics 256x256 ReLU, batch 256, Adam, automatic temperature, Polyak
targets), timed. ``learner_speed.py`` and ``schedule_speed.py`` measure against it."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 256
HIDDEN = 256


def _mlp(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(i, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, o)
    )


def squash_log_prob(u: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log pi(tanh(u)) of a Gaussian sample u, summed over the last dim: [..., A] -> [...]."""
    logp = (-0.5 * ((u - mu) / log_std.exp()) ** 2 - log_std - 0.9189385).sum(-1)
    return logp - (2 * (0.6931472 - u - F.softplus(-2 * u))).sum(-1)


class FloorAgent:
    """One agent's minimal SAC update on a fixed random batch. ``noise=False`` acts with the
    policy's mean, so two implementations of the same update can be compared exactly."""

    def __init__(self, obs_dim: int, act_dim: int, seed: int = 0, noise: bool = True) -> None:
        torch.manual_seed(seed)
        self.act_dim, self.noise = act_dim, noise
        self.pi = _mlp(obs_dim, 2 * act_dim)
        self.q1, self.q2 = _mlp(obs_dim + act_dim, 1), _mlp(obs_dim + act_dim, 1)
        self.t1, self.t2 = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.q_params = list(self.q1.parameters()) + list(self.q2.parameters())
        self.t_params = list(self.t1.parameters()) + list(self.t2.parameters())
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.opt_q = torch.optim.Adam(self.q_params, 3e-4)
        self.opt_pi = torch.optim.Adam(self.pi.parameters(), 3e-4)
        self.opt_a = torch.optim.Adam([self.log_alpha], 3e-4)
        self.o, self.o2 = torch.randn(BATCH, obs_dim), torch.randn(BATCH, obs_dim)
        self.a = torch.rand(BATCH, act_dim) * 2 - 1
        self.r, self.d = torch.randn(BATCH), torch.zeros(BATCH)

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = self.pi(obs).chunk(2, -1)
        log_std = log_std.clamp(-20, 2)
        u = mu + log_std.exp() * torch.randn_like(mu) if self.noise else mu
        return torch.tanh(u), squash_log_prob(u, mu, log_std)

    def step(self) -> None:
        o, a, r, o2, d = self.o, self.a, self.r, self.o2, self.d
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            a2, lp2 = self.act(o2)
            x2 = torch.cat([o2, a2], -1)
            q_next = torch.min(self.t1(x2), self.t2(x2)).squeeze(-1)
            y = r + 0.99 * (1 - d) * (q_next - alpha * lp2)
        x = torch.cat([o, a], -1)
        lq = F.mse_loss(self.q1(x).squeeze(-1), y) + F.mse_loss(self.q2(x).squeeze(-1), y)
        self.opt_q.zero_grad()
        lq.backward()
        self.opt_q.step()
        an, lp = self.act(o)
        xn = torch.cat([o, an], -1)
        for p in self.q_params:
            p.requires_grad_(False)
        lpi = (alpha * lp - torch.min(self.q1(xn), self.q2(xn)).squeeze(-1)).mean()
        self.opt_pi.zero_grad()
        lpi.backward()
        self.opt_pi.step()
        for p in self.q_params:
            p.requires_grad_(True)
        la = -(self.log_alpha * (lp.detach() - self.act_dim)).mean()
        self.opt_a.zero_grad()
        la.backward()
        self.opt_a.step()
        with torch.no_grad():
            torch._foreach_lerp_(self.t_params, self.q_params, 0.005)


def calls_per_second(step: Callable[[], None], seconds: float) -> float:
    """How many times ``step`` runs a second, over about ``seconds``."""
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - t0)


def floor_updates_per_second(obs_dim: int, act_dim: int, seconds: float) -> float:
    """Gradient steps per second of a minimal SAC update (Haarnoja et al. 2018, v2)."""
    agent = FloorAgent(obs_dim, act_dim)
    for _ in range(20):
        agent.step()
    return calls_per_second(agent.step, seconds)
