"""``schedule_speed.py``'s peers at the same updates per real step: ours without a model (the
real-env control) and Stable-Baselines3's SAC, the library most users would reach for."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def control(
    task: str, real_steps: int, updates_per_real_step: int, batch: int, out: Path, dtype: str
) -> dict[str, Any]:
    """Ours, real-env SAC at ``updates_per_real_step``, from 256 random steps: updates/s."""
    from mosim_ray.config import replace_dotted
    from mosim_ray.runs import get_kind

    kind = get_kind("real_sac")
    config = replace_dotted(
        kind.config(task=task, env_steps=real_steps, learning_starts=256, threads=2),
        {
            "overrides.training_intensity": updates_per_real_step * batch,
            "overrides.network_dtype": dtype,
            "eval.every": 10**9,
        },
    )
    result = kind.run(config, out)
    updates = (result["env_steps"] - 256) * updates_per_real_step
    return {
        "env_steps": result["env_steps"],
        "wall_s": result["wall_s"],
        "updates_per_s": updates / result["wall_s"],
    }


def sb3(
    task: str, real_steps: int, updates_per_real_step: int, batch: int
) -> dict[str, Any] | None:
    """Stable-Baselines3's SAC with our network, batch and updates per real step: updates/s;
    None where it is not installed (the ``bench`` extra)."""
    try:
        from stable_baselines3 import SAC
    except ImportError:
        return None
    import torch

    from mosim_ray.envs.real import RealEnv

    torch.set_num_threads(2)
    model = SAC(
        "MlpPolicy",
        RealEnv(task),
        policy_kwargs={"net_arch": [256, 256]},
        batch_size=batch,
        train_freq=1,
        gradient_steps=updates_per_real_step,
        learning_starts=256,
        buffer_size=1_000_000,
        device="cpu",
        seed=0,
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=real_steps)
    wall = time.perf_counter() - start
    updates = (real_steps - 256) * updates_per_real_step
    return {"env_steps": real_steps, "wall_s": wall, "updates_per_s": updates / wall}
