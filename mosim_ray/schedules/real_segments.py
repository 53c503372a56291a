"""Real physical states out of RLlib's env runners, cut into episodes the model can train on.

On-policy MoSim RL acts in the real env through RLlib; its env runners hand back episode
*chunks* (a rollout fragment each) whose infos carry the physical state (``RealEnv`` with
``state_in_info``). ``RealSegments`` stitches the chunks of each RLlib episode together and cuts
them into ``Episode`` segments with integer ids of their own, which is what ``ModelTrainer``
takes. Every real step ends up in exactly one segment: the count of steps in segments equals
the count of steps sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mosim_ray.data.reader import Episode


def module_actions(torques: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The robot's torques [N, nu] within ``low``..``high`` as the policy module's [-1, 1]
    actions (float32): what a replay batch holds."""
    return (2 * (torques - low) / (high - low) - 1).astype(np.float32)


@dataclass
class _Open:
    """An RLlib episode being stitched: T+1 states, T actions/rewards, T+1 observations."""

    states: list[np.ndarray]
    actions: list[np.ndarray]
    rewards: list[float]
    observations: list[np.ndarray]
    context: np.ndarray


@dataclass
class RealSegments:
    """Chunks in, ``Episode`` segments out; also the pool of every real state seen."""

    action_low: np.ndarray | None = None
    action_high: np.ndarray | None = None
    """the env's action bounds: RLlib keeps the module's [-1, 1] actions in its episodes, the
    model learns from the torques the robot got (None: they are the same)"""
    first_id: int = 2_000_000
    """segment ids start here, clear of the starting dataset's episode ids"""
    _open: dict[str, _Open] = field(default_factory=dict)
    next_id: int = 0
    """the next segment's id, less ``first_id`` (a resumed run goes on from the saved one)"""
    steps_in_segments: int = 0
    states: list[np.ndarray] = field(default_factory=list)
    contexts: list[np.ndarray] = field(default_factory=list)

    def add(self, chunks: list[Any]) -> list[Episode]:
        """Stitch new chunks; returns the segments of episodes that ended.

        An open episode that gets no chunk in a sample is an orphan (its env runner died and was
        replaced): it is closed and returned, so its steps are not lost.
        """
        seen, done = set(), []
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            infos = chunk.get_infos()
            if "state" not in infos[0]:
                raise ValueError(
                    "real episode chunks carry no physical state: run mosim-real with "
                    "env_config state_in_info=True"
                )
            states = [np.asarray(i["state"], np.float64) for i in infos]
            obs = list(np.asarray(chunk.get_observations(), np.float32))
            acts = list(self._env_actions(np.asarray(chunk.get_actions(), np.float64)))
            rews = [float(r) for r in chunk.get_rewards()]
            key = chunk.id_
            seen.add(key)
            if key in self._open:  # a continuation repeats the last state as its first
                ep = self._open[key]
                ep.states += states[1:]
                ep.observations += obs[1:]
                ep.actions += acts
                ep.rewards += rews
            else:
                ep = self._open[key] = _Open(
                    states, acts, rews, obs, np.asarray(infos[0]["context"], np.float64)
                )
            new_states = states if len(ep.states) == len(states) else states[1:]
            self.states += new_states
            self.contexts += [ep.context] * len(new_states)
            if chunk.is_done:
                done.append(self._close(key))
        for key in list(self._open):
            if key not in seen:
                done.append(self._close(key))
        return [e for e in done if e is not None]

    def cut(self, min_steps: int) -> list[Episode]:
        """Segments of every open episode with at least ``min_steps`` steps; each goes on from
        its last state."""
        out = []
        for key, ep in self._open.items():
            if len(ep.actions) >= min_steps:
                out.append(self._segment(ep))
                self._open[key] = _Open(ep.states[-1:], [], [], ep.observations[-1:], ep.context)
        return out

    def flush(self) -> list[Episode]:
        """Every open episode as a segment (the end of a run)."""
        return [e for e in (self._close(k) for k in list(self._open)) if e is not None]

    def reset_pool(self) -> tuple[np.ndarray, np.ndarray]:
        """(states [M, nq+nv], contexts [M, C]) of every real state seen so far."""
        return np.asarray(self.states), np.asarray(self.contexts)

    def _env_actions(self, a: np.ndarray) -> np.ndarray:
        if self.action_low is None:
            return a.astype(np.float32)
        lo, hi = np.asarray(self.action_low), np.asarray(self.action_high)
        return (lo + (np.clip(a, -1, 1) + 1) * 0.5 * (hi - lo)).astype(np.float32)

    def _close(self, key: str) -> Episode | None:
        ep = self._open.pop(key)
        return self._segment(ep) if ep.actions else None

    def _segment(self, ep: _Open) -> Episode:
        n = len(ep.actions)
        seg = Episode(
            id=self.first_id + self.next_id,
            states=np.asarray(ep.states, np.float32),
            actions=np.asarray(ep.actions, np.float32),
            rewards=np.asarray(ep.rewards, np.float32),
            observations=np.asarray(ep.observations, np.float32),
            contexts=np.repeat(ep.context[None].astype(np.float32), n + 1, axis=0),
        )
        self.next_id += 1
        self.steps_in_segments += n
        return seg
