"""Building blocks: the paper's residual network and a plain MLP."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """x + Linear(act(Linear(act(x)))), pre-activation."""

    def __init__(self, width: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.act(x))))


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
        return self.out(self.act(self.blocks(self.act(self.inp(x)))))


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
        return self.net(x)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
