"""Where the world model is trustworthy: a normalizing flow over (state, action) of its training data.

The reward penalty ``scale * (sigmoid((log p - c) / s) - 1)`` is about 0 where the training data
was dense and about ``-scale`` far from it, so a policy learning in imagination is kept near
states the model has seen (the authors used c = -30, s = 10 on their flow's log density).

The flow is zuko's masked autoregressive flow (MAF) over standardized inputs: horizontal
translation coordinates are left out (the dynamics do not depend on them, and they grow without
bound), hinge angles enter as they are. ``log_prob`` is the density of the standardized vector.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mosim_ray.model.penalty import PenaltyConfig
from mosim_ray.tasks.registry import get_spec
from mosim_ray.tasks.spec import TaskSpec

FORMAT = 1


@dataclass(frozen=True)
class DensityConfig:
    task: str
    kind: str = "maf"
    """zuko flow: "maf" (masked autoregressive) or "nsf" (neural spline)."""
    transforms: int = 3
    hidden: int = 64


class StateActionDensity(nn.Module):
    """log p(state, action) of a task's data; inputs states [N, nq+nv], actions [N, nu]."""

    def __init__(self, config: DensityConfig):
        super().__init__()
        import zuko

        self.config = config
        spec: TaskSpec = get_spec(config.task)
        keep = [i for i in range(spec.state_dim) if i not in spec.translation_qpos]
        self.register_buffer("keep", torch.tensor(keep, dtype=torch.long))
        d = len(keep) + spec.nu
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("std", torch.ones(d))
        flows = {"maf": zuko.flows.MAF, "nsf": zuko.flows.NSF}
        if config.kind not in flows:
            raise ValueError(f"unknown flow kind {config.kind!r}; choose from {sorted(flows)}")
        self.flow = flows[config.kind](
            features=d, transforms=config.transforms, hidden_features=(config.hidden,) * 2
        )

    def _inputs(self, states, actions) -> torch.Tensor:
        s = torch.as_tensor(np.asarray(states), dtype=torch.float32)
        a = torch.as_tensor(np.asarray(actions), dtype=torch.float32)
        return (torch.cat([s[:, self.keep], a], -1) - self.mean) / self.std

    def log_prob(self, states, actions) -> torch.Tensor:
        """[N] log density of the standardized (state, action)."""
        return self.flow().log_prob(self._inputs(states, actions))

    def fit(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        steps: int = 2000,
        batch: int = 512,
        lr: float = 1e-3,
        seed: int = 0,
        val_share: float = 0.1,
    ) -> dict[str, float]:
        """Maximum likelihood on (states [N, D], actions [N, U]); returns train and held-out
        mean log-likelihood."""
        x = torch.cat(
            [
                torch.as_tensor(states, dtype=torch.float32)[:, self.keep],
                torch.as_tensor(actions, dtype=torch.float32),
            ],
            -1,
        )
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-6))
        x = (x - self.mean) / self.std
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(x), generator=g)
        n_val = max(1, int(val_share * len(x)))
        val, train = x[perm[:n_val]], x[perm[n_val:]]
        opt = torch.optim.Adam(self.flow.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            idx = torch.randint(len(train), (min(batch, len(train)),), generator=g)
            loss = -self.flow().log_prob(train[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            return {
                "train_log_prob": float(self.flow().log_prob(train[:20000]).mean()),
                "val_log_prob": float(self.flow().log_prob(val).mean()),
            }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), path / "density.pt")
        (path / "density.json").write_text(
            json.dumps({"format": FORMAT, "config": asdict(self.config)}, indent=1)
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> StateActionDensity:
        path = Path(path)
        meta_file = path / "density.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"{path}: not a density checkpoint (no density.json)")
        meta = json.loads(meta_file.read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: density format {meta.get('format')}, this reads {FORMAT}")
        model = cls(DensityConfig(**meta["config"]))
        model.load_state_dict(torch.load(path / "density.pt", weights_only=True))
        return model.eval()


def density_to_state(density: StateActionDensity) -> tuple[dict, dict[str, np.ndarray]]:
    """(config as a dict, numpy state dict): what travels between processes and nodes."""
    state = {k: v.detach().cpu().numpy() for k, v in density.state_dict().items()}
    return asdict(density.config), state


def density_from_state(config: dict, state: dict[str, np.ndarray]) -> StateActionDensity:
    density = StateActionDensity(DensityConfig(**config))
    density.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return density.eval()


def fit_to_episodes(
    task: str, episodes: list, steps: int = 1000, max_transitions: int = 200_000, seed: int = 0
) -> tuple[StateActionDensity, dict[str, float]]:
    """A fresh flow fitted to every transition of ``episodes`` (``Episode``: states [T+1, D],
    actions [T, U]); the newest ``max_transitions`` when there are more. Returns the flow and
    its train / held-out log-likelihood."""
    states = np.concatenate([ep.states[:-1] for ep in episodes])[-max_transitions:]
    actions = np.concatenate([ep.actions for ep in episodes])[-max_transitions:]
    torch.manual_seed(seed)
    density = StateActionDensity(DensityConfig(task=task))
    report = density.fit(states, actions, steps=steps, seed=seed)
    return density.eval(), {**report, "transitions": len(states)}


class DensityPenalty:
    """``(states, actions) -> scale * (sigmoid((log p - c) / s) - 1)`` as numpy [N]; also
    remembers the last log p so the env can truncate on it."""

    def __init__(self, density: StateActionDensity, config: PenaltyConfig = PenaltyConfig()):
        if config.s <= 0 or config.scale < 0:
            raise ValueError(f"penalty needs s > 0 and scale >= 0, got {config}")
        self.density, self.config = density, config
        self.last_log_prob: np.ndarray | None = None

    @torch.no_grad()
    def __call__(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        logp = self.density.log_prob(states, actions).double().numpy()
        logp = np.nan_to_num(logp, nan=-np.inf, posinf=np.inf, neginf=-np.inf)
        self.last_log_prob = logp
        c = self.config
        # sigmoid as 0.5 * (1 + tanh(x / 2)): no overflow far from the data, where exp(-x) would
        return c.scale * (0.5 * (1.0 + np.tanh((logp - c.c) / (2.0 * c.s))) - 1.0)

    def out_of_support(self) -> np.ndarray | None:
        """[N] bool: where the last log p fell below ``truncate_below``."""
        if self.config.truncate_below is None or self.last_log_prob is None:
            return None
        return self.last_log_prob < self.config.truncate_below
