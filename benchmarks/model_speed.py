"""World-model speed on this CPU: parameter counts, training-step time, imagined steps per second,
and each ODE method's integration error against a tight dopri5 reference.

    python benchmarks/model_speed.py [--task cheetah-run] [--checkpoint DIR]

Training step: batch 256, horizon 16, 2 torch threads (as pipelines/train.py). Imagined steps: one
control step for a batch of states, 1 torch thread (as one env runner has). The integration error
uses the trained checkpoint if given (a fresh model's field is not representative), 16-step rollouts
from real states, against dopri5 at rtol=atol=1e-7. Writes benchmarks/results/model_speed_<task>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from mosim_ray.data import EpisodeCollector
from mosim_ray.model import SIZES, ModelConfig, WorldModel
from mosim_ray.model.nets import count_parameters

RESULTS = Path(__file__).parent / "results"
METHODS = [("symplectic", 0), ("euler", 1), ("euler", 4), ("rk4", 1), ("rk4", 2), ("dopri5", 0)]


def real_data(task: str, episodes: int = 4, steps: int = 300):
    eps = EpisodeCollector(task, steps).collect(list(range(episodes)), seed=0)
    s = np.concatenate([np.hstack([e["qpos"], e["qvel"]])[:-1] for e in eps]).astype(np.float32)
    s1 = np.concatenate([np.hstack([e["qpos"], e["qvel"]])[1:] for e in eps]).astype(np.float32)
    a = np.concatenate([e["action"][:-1] for e in eps]).astype(np.float32)
    return s, a, s1


def make(task, data, kind="mosim", method="auto", substeps=0, base: WorldModel | None = None, **kw):
    cfg = ModelConfig(task=task, kind=kind, method=method, substeps=substeps or None, **kw)
    wm = WorldModel.create(cfg)
    if base is not None:
        wm.dynamics.load_state_dict(base.dynamics.state_dict())
    else:
        wm.dynamics.norm.fit(wm.spec, *data)
    return wm


def timeit(fn, min_seconds=1.0, min_reps=3) -> float:
    fn()
    reps, t0 = 0, time.perf_counter()
    while reps < min_reps or time.perf_counter() - t0 < min_seconds:
        fn()
        reps += 1
    return (time.perf_counter() - t0) / reps


def train_step_seconds(wm, s, a, batch=256, horizon=16) -> float:
    d = wm.dynamics
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(s) - horizon - 1, batch)
    rows = starts[:, None] + np.arange(horizon + 1)
    states = torch.as_tensor(s[rows])
    actions = torch.as_tensor(a[rows[:, :-1]])
    w = torch.full((horizon,), 1 / horizon)
    opt = torch.optim.Adam(d.parameters(), 1e-4)

    def step():
        loss = d.loss(states, actions, w)
        opt.zero_grad()
        loss.backward()
        opt.step()

    d.train()
    t = timeit(step, min_seconds=2.0)
    d.eval()
    return t


def imagined_steps_per_second(wm, s, a, batch: int) -> float:
    idx = np.arange(batch) % len(s)
    st, ac = torch.as_tensor(s[idx]), torch.as_tensor(a[idx])
    with torch.no_grad():
        return batch / timeit(lambda: wm.dynamics.step(st, ac))


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="cheetah-run")
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args()
    task = args.task
    s, a, s1 = real_data(task)
    base = WorldModel.load(args.checkpoint, task=task) if args.checkpoint else None
    out: dict = {
        "task": task,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads max",
        "command": f"python benchmarks/model_speed.py --task {task}"
        + (f" --checkpoint {args.checkpoint}" if args.checkpoint else ""),
    }
    out["parameters"] = {
        f"mosim-{size}": count_parameters(make(task, (s, a, s1), size=size).dynamics)
        for size in SIZES
    }
    for kind in ("structure_free", "ensemble"):
        out["parameters"][kind] = count_parameters(make(task, (s, a, s1), kind=kind).dynamics)
    print(json.dumps(out["parameters"]), flush=True)

    rows = []
    for method, sub in METHODS:
        wm = make(task, (s, a, s1), method=method, substeps=sub, base=base)
        torch.set_num_threads(2)
        row = {"method": method, "substeps": sub, "train_step_s": train_step_seconds(wm, s, a)}
        torch.set_num_threads(1)
        for b in (1, 64, 256, 1024):
            row[f"steps_per_s_b{b}"] = imagined_steps_per_second(wm, s, a, b)
        rows.append(row)
        print(json.dumps(row), flush=True)
    for kind in ("structure_free", "ensemble", "constant"):
        wm = make(task, (s, a, s1), kind=kind)
        torch.set_num_threads(2)
        row = {
            "method": kind,
            "substeps": 1,
            "train_step_s": train_step_seconds(wm, s, a) if kind != "constant" else 0.0,
        }
        torch.set_num_threads(1)
        for b in (1, 64, 256, 1024):
            row[f"steps_per_s_b{b}"] = imagined_steps_per_second(wm, s, a, b)
        rows.append(row)
        print(json.dumps(row), flush=True)
    out["speed"] = rows

    # integration error of each method on the same (trained) field, against a tight reference
    ref_model = make(
        task, (s, a, s1), method="dopri5", base=base, rtol=1e-7, atol=1e-7, max_solver_steps=10_000
    )
    idx = np.random.default_rng(1).integers(0, len(s) - 17, 64)
    st0 = torch.as_tensor(s[idx])
    acts = torch.as_tensor(np.stack([a[i : i + 16] for i in idx]))
    truth = torch.as_tensor(np.stack([s1[i : i + 16] for i in idx]))
    with torch.no_grad():
        ref = ref_model.dynamics.rollout(st0, acts)
        errs = []
        for method, sub in METHODS:
            wm = make(task, (s, a, s1), method=method, substeps=sub, base=base)
            pred = wm.dynamics.rollout(st0, acts)
            errs.append(
                {
                    "method": method,
                    "substeps": sub,
                    "mse_vs_reference": float(((pred - ref) ** 2).mean()),
                    "mse_vs_real": float(((pred - truth) ** 2).mean()),
                }
            )
            print(json.dumps(errs[-1]), flush=True)
    out["integration_error"] = errs
    out["reference_mse_vs_real"] = float(((ref - truth) ** 2).mean())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"model_speed_{task}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
