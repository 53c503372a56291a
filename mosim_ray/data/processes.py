"""Action processes that drive real rollouts: random data for world-model training, or a policy.

Every process is deterministic given the ``np.random.Generator`` passed to ``reset``. Actions are
drawn inside the task's bounds ``[low, high]`` (shape [nu]).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Policy = Callable[[np.ndarray], np.ndarray]
"""Maps an observation [obs_dim] to an action [nu]."""


@dataclass(frozen=True)
class ProcessConfig:
    """Which action process to run, with its parameters (JSON-able: it goes into shard metadata)."""

    kind: str = "uniform"
    """uniform | poisson | ou | policy"""
    switch_every: float = 5.0
    """poisson: mean number of steps between new actions (the original MoSim code's k)."""
    zero_prob: float = 0.3
    """poisson: probability that a new action is all zeros (the original code's p)."""
    ou_theta: float = 0.15
    """ou: mean-reversion rate per step."""
    ou_sigma: float = 0.3
    """ou: noise scale per step, as a fraction of the half-range of each action."""

    def __post_init__(self):
        if self.kind not in PROCESS_KINDS:
            raise ValueError(
                f"unknown action process {self.kind!r}; known: {', '.join(PROCESS_KINDS)}"
            )
        if self.switch_every < 1:
            raise ValueError(f"switch_every must be >= 1 step, got {self.switch_every}")
        if not 0 <= self.zero_prob <= 1:
            raise ValueError(f"zero_prob must be in [0, 1], got {self.zero_prob}")
        if not 0 < self.ou_theta <= 1 or self.ou_sigma < 0:
            raise ValueError(
                f"need 0 < ou_theta <= 1 and ou_sigma >= 0, got {self.ou_theta}, {self.ou_sigma}"
            )


class ActionProcess:
    """Base: ``reset(rng)`` at each episode start, then ``act(obs)`` once per control step."""

    def __init__(self, low: np.ndarray, high: np.ndarray):
        self.low, self.high = np.asarray(low, float), np.asarray(high, float)
        self.rng = np.random.default_rng(0)
        if self.needs_bounds and not (
            np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))
        ):
            raise ValueError(
                f"{type(self).__name__} needs finite action bounds, got low={self.low.tolist()} "
                f"high={self.high.tolist()} (give the model's actuators a ctrlrange)"
            )

    needs_bounds = True

    def reset(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def act(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _uniform(self) -> np.ndarray:
        return self.rng.uniform(self.low, self.high)


class UniformProcess(ActionProcess):
    """I.i.d. uniform actions: the paper's "random" data."""

    def act(self, obs):
        return self._uniform()


class PoissonProcess(ActionProcess):
    """The original MoSim sampler: each step, with probability 1/k draw a new action (uniform,
    replaced by zeros with probability p), otherwise hold the last one. Switching times are a
    Bernoulli (discrete Poisson) process with mean interval k."""

    def __init__(self, low, high, switch_every: float, zero_prob: float):
        super().__init__(low, high)
        self.k, self.p = switch_every, zero_prob
        self.current = np.zeros_like(self.low)

    def reset(self, rng):
        super().reset(rng)
        self.current = self._draw()

    def _draw(self) -> np.ndarray:
        a = self._uniform()
        return np.zeros_like(a) if self.rng.random() < self.p else a

    def act(self, obs):
        if self.rng.random() < 1.0 / self.k:
            self.current = self._draw()
        return self.current.copy()


class OUProcess(ActionProcess):
    """A smooth Ornstein-Uhlenbeck process around the middle of the action range, clipped to it."""

    def __init__(self, low, high, theta: float, sigma: float):
        super().__init__(low, high)
        self.theta, self.sigma = theta, sigma
        self.mid, self.half = (self.low + self.high) / 2, (self.high - self.low) / 2
        self.x = np.zeros_like(self.low)

    def reset(self, rng):
        super().reset(rng)
        self.x = self.rng.uniform(-1, 1, size=self.low.shape)

    def act(self, obs):
        self.x += -self.theta * self.x + self.sigma * self.rng.standard_normal(self.x.shape)
        self.x = np.clip(self.x, -1, 1)
        return self.mid + self.half * self.x


class PolicyProcess(ActionProcess):
    """Any callable policy (observation -> action). Non-finite actions raise; the simulator clips
    actions to the bounds (MuJoCo would clamp them anyway) and the clipped action is recorded.
    A policy with a ``reset(rng)`` method (recurrent or stochastic) is reset at each episode."""

    needs_bounds = False

    def __init__(self, low, high, policy: Policy):
        super().__init__(low, high)
        self.policy = policy

    def reset(self, rng):
        super().reset(rng)
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset(rng)

    def act(self, obs):
        action = np.asarray(self.policy(obs), dtype=np.float64).reshape(-1)
        if action.shape != self.low.shape:
            raise ValueError(
                f"policy returned an action of shape {action.shape}, need {self.low.shape}"
            )
        if not np.all(np.isfinite(action)):
            raise ValueError(f"policy returned a non-finite action {action.tolist()}")
        return action


PROCESS_KINDS = ("uniform", "poisson", "ou", "policy")


def make_process(
    config: ProcessConfig, low: np.ndarray, high: np.ndarray, policy: Policy | None = None
) -> ActionProcess:
    """Build the action process ``config.kind`` for actions in [low, high]."""
    if config.kind == "policy":
        if policy is None:
            raise ValueError("action process 'policy' needs a policy callable")
        return PolicyProcess(low, high, policy)
    if policy is not None:
        raise ValueError(f"a policy was given but the action process is {config.kind!r}")
    if config.kind == "uniform":
        return UniformProcess(low, high)
    if config.kind == "poisson":
        return PoissonProcess(low, high, config.switch_every, config.zero_prob)
    return OUProcess(low, high, config.ou_theta, config.ou_sigma)
