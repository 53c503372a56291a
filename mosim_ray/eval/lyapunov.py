"""Largest Lyapunov exponent of real MuJoCo and of a world model (Benettin's method).

Two nearby states follow the same actions; after every control step their separation is
measured and scaled back to ``d0`` along the direction it grew. The mean log growth per step,
divided by the control time step, is the largest exponent (1/s). Acrobot is chaotic: a model
that predicts it well should reproduce the real exponent (the paper: 1.1738 real, 1.1728 MoSim).
"""

from __future__ import annotations

import numpy as np
import torch

from mosim_ray.model.world_model import WorldModel
from mosim_ray.tasks import Simulator


def _direction(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    u = rng.standard_normal((n, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def lyapunov_real(
    sim: Simulator,
    states: np.ndarray,
    contexts: np.ndarray,
    actions: np.ndarray,
    d0: float = 1e-6,
    seed: int = 0,
) -> np.ndarray:
    """states [N, D], contexts [N, C], actions [N, T, U] -> exponent per trajectory [N] (1/s)."""
    rng = np.random.default_rng(seed)
    n, t = actions.shape[:2]
    x = np.array(states, dtype=np.float64)
    y = x + d0 * _direction(rng, n, x.shape[1])
    logs = np.zeros(n)
    for i in range(n):
        for k in range(t):
            sim.set_state(x[i], contexts[i])
            sim.step(actions[i, k])
            x[i] = sim.state()
            sim.set_state(y[i], contexts[i])
            sim.step(actions[i, k])
            diff = sim.state() - x[i]
            d = np.linalg.norm(diff)
            logs[i] += np.log(d / d0)
            y[i] = x[i] + diff * (d0 / d)
    return logs / (t * sim.spec.control_dt)


@torch.no_grad()
def lyapunov_model(
    model: WorldModel, states: np.ndarray, actions: np.ndarray, d0: float = 1e-4, seed: int = 0
) -> np.ndarray:
    """The same for a world model, in float64 arithmetic (the model runs in double here so that
    a small separation is not rounding noise)."""
    rng = np.random.default_rng(seed)
    dyn = model.dynamics.double()
    try:
        n, t = actions.shape[:2]
        x = torch.tensor(states, dtype=torch.float64)
        y = x + d0 * torch.tensor(_direction(rng, n, x.shape[1]))
        a = torch.tensor(actions, dtype=torch.float64)
        logs = torch.zeros(n, dtype=torch.float64)
        for k in range(t):
            x, y = dyn.step(x, a[:, k]), dyn.step(y, a[:, k])
            diff = y - x
            d = diff.norm(dim=1)
            logs += torch.log(d / d0)
            y = x + diff * (d0 / d)[:, None]
        return (logs / (t * model.spec.control_dt)).numpy()
    finally:
        model.dynamics.float()
