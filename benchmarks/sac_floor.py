"""The arithmetic floor of a SAC update on this CPU: a minimal plain-PyTorch SAC step (Haarnoja et
al. 2018, v2: actor and twin critics 256x256 ReLU, batch 256, Adam, automatic temperature, Polyak
targets), timed. ``learner_speed.py`` and ``schedule_speed.py`` measure against it."""

from __future__ import annotations

import copy
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 256
HIDDEN = 256


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
