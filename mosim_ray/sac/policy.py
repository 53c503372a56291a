"""An RLlib policy as a plain ``obs -> action`` function, for code that runs real episodes
outside RLlib (collector actors, the prediction benchmark's policy test set)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

MODULE_PATH = ("learner_group", "learner", "rl_module", "default_policy")


def module_folder(path: str | Path) -> Path:
    """The RLModule folder of an ``algo.save_to_path`` folder (or the module folder itself)."""
    path = Path(path)
    module_dir = path.joinpath(*MODULE_PATH) if (path / MODULE_PATH[0]).is_dir() else path
    if not module_dir.is_dir():
        raise FileNotFoundError(f"{path}: not an RLlib algorithm or module checkpoint")
    return module_dir


class RLlibPolicy:
    """Deterministic action of an RLlib module (an object, an ``algo.save_to_path`` folder or the
    module folder itself), mapped from the module's [-1, 1] to the action bounds, plus optional
    Gaussian noise (``noise`` as a share of the half-range) for more varied test data."""

    def __init__(self, path_or_module, low, high, noise: float = 0.0, seed: int = 0):
        from ray.rllib.core.rl_module.rl_module import RLModule

        if isinstance(path_or_module, (str, Path)):
            module_dir = module_folder(path_or_module)
            self.module = RLModule.from_checkpoint(str(module_dir.resolve()))  # RLlib wants a URI
        else:  # an RLModule object (e.g. the algorithm's current one, sent to a collector actor)
            self.module = path_or_module
        self.low, self.high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)
        self._dist = self.module.get_inference_action_dist_cls()

    def reset(self, rng: np.random.Generator | None = None) -> None:
        if rng is not None:
            self.rng = rng

    @torch.no_grad()
    def __call__(self, obs: np.ndarray) -> np.ndarray:
        batch = torch.as_tensor(np.asarray(obs, np.float32)[None])
        out = self.module.forward_inference({"obs": batch})
        a = self._dist.from_logits(out["action_dist_inputs"]).to_deterministic().sample()
        a = a[0].numpy().astype(np.float64)
        if self.noise:
            a = a + self.noise * self.rng.standard_normal(a.shape)
        a = a.clip(-1, 1)
        return self.low + (a + 1) * 0.5 * (self.high - self.low)
