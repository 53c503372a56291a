"""Fixed-step integrators of one control step, as plain loops over a second-order field.

``rk4`` is torchdiffeq's fixed-grid ``rk4`` (the 3/8 rule) over the same time grid, written out:
the same tensor operations in the same order, so the same result bit for bit, without the
solver's per-call setup (grid tensors, interpolation buffer, wrapped field), which costs as much
as a small network's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import torch

from mosim_ray.model.config import ModelConfig
from mosim_ray.tasks.spec import TaskSpec

Field = Callable[[torch.Tensor], torch.Tensor]
"""y [B, D] -> dy/dt [B, D]."""

_ONE_THIRD = 1 / 3  # torchdiffeq's constants, as Python floats like there
_TWO_THIRDS = 2 / 3


def rk4(field: Field, y0: torch.Tensor, dt: float, substeps: int) -> torch.Tensor:
    """y0 [B, D] -> y(dt) [B, D], ``substeps`` 3/8-rule steps, as
    ``torchdiffeq.odeint(field, y0, [0, dt], method="rk4", options={"step_size": dt/substeps})``."""
    y = y0
    for h in _grid_steps(dt, substeps, y0.dtype):
        k1 = field(y)
        k2 = field(y + h * k1 * _ONE_THIRD)
        k3 = field(y + h * (k2 - k1 * _ONE_THIRD))
        k4 = field(y + h * (k1 - k2 + k3))
        y = y + (k1 + 3 * (k2 + k3) + k4) * h * 0.125
    return y


@lru_cache(maxsize=64)
def _grid_steps(dt: float, substeps: int, dtype: torch.dtype) -> tuple[float, ...]:
    """The step lengths of torchdiffeq's fixed grid over [0, dt], computed as it does in ``dtype``
    (arange * step_size, last point set to dt, differences): they need not all equal
    dt / substeps. Each is exact as a Python float (a float32 or float64 value)."""
    t = torch.tensor([0.0, dt], dtype=dtype)
    step_size = dt / substeps
    niters = torch.ceil((t[-1] - t[0]) / step_size + 1).item()
    grid = torch.arange(0, niters, dtype=dtype) * step_size + t[0]
    grid[-1] = t[-1]
    return tuple(float(b - a) for a, b in zip(grid[:-1], grid[1:]))


def resolve_method(spec: TaskSpec, config: ModelConfig) -> tuple[str, int]:
    """(method, substeps) that ``config`` means for this task."""
    method = config.method
    if method == "auto":
        method = "symplectic" if spec.integrator in ("euler", "implicit", "implicitfast") else "rk4"
    if config.substeps is not None:
        return method, config.substeps
    if method == "symplectic" or config.method == "auto":
        return method, spec.physics_substeps
    return method, 1
