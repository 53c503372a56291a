"""Building blocks: the paper's residual network and a plain MLP.

The forwards call ``F.linear``/``F.silu`` on the submodules' weights instead of calling the
submodules: the same operations (an ``nn.Linear`` is ``F.linear``, an ``nn.SiLU`` is ``F.silu``),
so outputs and gradients are bit for bit those of the module calls. They reach submodules and
weights through the ``_modules``/``_parameters`` dicts: ``Module.__call__`` and
``Module.__getattr__`` cost about 1 µs each, and a small network at a few hundred rows spends
about as long in them as in its arithmetic.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResidualBlock(nn.Module):
    """x + Linear(act(Linear(act(x)))), pre-activation."""

    def __init__(self, width: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        return x + _linear(F.silu(_linear(F.silu(x), m["fc1"])), m["fc2"])


class ResNet(nn.Module):
    """Linear -> activation -> residual blocks -> Linear. x: [B, n_in] -> [B, n_out]."""

    def __init__(self, n_in: int, n_out: int, blocks: int, width: int, out_scale: float = 1.0):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.act = nn.SiLU()
        self.out = nn.Linear(width, n_out)
        if out_scale != 1.0:
            # a new corrector starts close to zero (not at it, so gradients reach every layer):
            # it barely disturbs the predictor it is added to
            with torch.no_grad():
                self.out.weight.mul_(out_scale)
                self.out.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        h = F.silu(_linear(x, m["inp"]))
        for block in m["blocks"]._modules.values():
            h = block.forward(h)
        return _linear(F.silu(h), m["out"])


class MLP(nn.Module):
    """``layers`` hidden layers of ``width``. x: [B, n_in] -> [B, n_out]."""

    def __init__(self, n_in: int, n_out: int, layers: int, width: int):
        super().__init__()
        mods: list[nn.Module] = []
        d = n_in
        for _ in range(layers):
            mods += [nn.Linear(d, width), nn.SiLU()]
            d = width
        mods.append(nn.Linear(d, n_out))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for mod in self._modules["net"]._modules.values():
            x = _linear(x, mod) if isinstance(mod, nn.Linear) else F.silu(x)
        return x


def _linear(x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    p = layer._parameters
    return F.linear(x, p["weight"], p["bias"])


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
