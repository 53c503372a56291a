"""Short imagined branches off real states (on-policy MoSim RL, as in MBPO).

``BranchRollouts`` starts ``env.num_envs`` imagined robots from real states, lets the policy act
for ``length`` steps through the world model, and returns the transitions as replay arrays. A
robot whose prediction diverged or left the density's support stops there: later steps of
that row are not returned, and non-finite values never are.
"""

from __future__ import annotations

import numpy as np
import torch

from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool

KEYS = ("obs", "act", "rew", "nobs", "term")


class BranchRollouts:
    """Transitions of ``length``-step branches of the policy in ``env`` (an ImaginedVecEnv whose
    time limit is ``length``)."""

    def __init__(self, env: ImaginedVecEnv, length: int, seed: int = 0):
        if env.time_limit != length:
            raise ValueError(f"branch env time limit {env.time_limit} != branch length {length}")
        self.env, self.length = env, int(length)
        low = env.single_action_space.low.astype(np.float64)
        high = env.single_action_space.high.astype(np.float64)
        self.low, self.high = low, high
        self.rng = np.random.default_rng(seed)
        self.last_stopped = 0
        """rows of the last call stopped before their last step (diverged, out of support)"""

    @torch.no_grad()
    def __call__(self, module, pool: ResetPool) -> dict[str, np.ndarray]:
        """Arrays keyed obs, act (the module's [-1, 1] actions, as RLlib stores them), rew, nobs,
        term, one row per imagined transition."""
        self.env.set_reset_pool(pool)
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31 - 1)))
        dist_cls = module.get_exploration_action_dist_cls()
        alive = np.ones(self.env.num_envs, dtype=bool)
        stopped = 0
        out: dict[str, list[np.ndarray]] = {k: [] for k in KEYS}
        for _ in range(self.length):
            logits = module.forward_exploration({"obs": torch.as_tensor(obs, dtype=torch.float32)})
            a = dist_cls.from_logits(logits["action_dist_inputs"]).sample().numpy()
            a = np.clip(a.astype(np.float64), -1.0, 1.0)
            env_a = self.low + (a + 1.0) * 0.5 * (self.high - self.low)
            nobs, rew, term, trunc, info = self.env.step(env_a)
            ok = alive & np.isfinite(nobs).all(1) & np.isfinite(rew)
            if "diverged" in info:
                ok &= ~np.asarray(info["diverged"], dtype=bool)
            stopped += int((alive & ~ok).sum())
            for key, value in zip(KEYS, (obs, a, rew, nobs, term)):
                out[key].append(np.asarray(value)[ok])
            alive &= ok & ~np.asarray(term, dtype=bool) & ~np.asarray(trunc, dtype=bool)
            obs = nobs
            if not alive.any():
                break
        self.last_stopped = stopped
        return {
            "obs": np.concatenate(out["obs"]).astype(np.float32),
            "act": np.concatenate(out["act"]).astype(np.float32),
            "rew": np.concatenate(out["rew"]).astype(np.float32),
            "nobs": np.concatenate(out["nobs"]).astype(np.float32),
            "term": np.concatenate(out["term"]).astype(np.float32),
        }
