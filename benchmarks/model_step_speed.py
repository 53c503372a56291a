"""The model's inference step and training step, before and after the speed work, side by side on
one CPU thread.

    python benchmarks/model_step_speed.py [--tasks cheetah-run ...] [--rounds 7] [--compile]

Per task, at N=256 rows:

* inference: ``dynamics.step`` as it was (``mosim_ray.model.reference`` under ``no_grad``, the
  eager baseline) and as it is, under ``inference_mode`` (as the imagined env and ``WorldModel``
  call it) and under ``no_grad``; ``--compile`` adds ``torch.compile`` (CPU inductor) of the step.
* training: one update of batch 256, 16-step rollout loss, backward, gradient clipping, Adam:
  the reference loss with the default Adam (before), the current loss with the default Adam,
  the current loss with fused Adam (kept; and the optimizer step alone, both Adams);
  ``--compile`` adds the compiled step (``CompiledStep``, opt-in ``TrainConfig.compile``).
* fewer substeps (walker, hopper): the step's time with fewer solver substeps than MuJoCo's,
  what they would buy (untrained models: the same cost; the default stays MuJoCo's).
* predictions: the largest difference between the current step and the reference over a
  100-step rollout of every shipped model (and of the compiled step with ``--compile``).
* a loss curve on reacher-easy: ``ModelTrainer.train`` (kept) against the same loop written as
  before (reference loss, default Adam) from the same weights and the same batches, and the
  kept trainer on other batches (the noise a seed makes); ``--compile`` adds the trainer with
  ``compile=True`` on the same batches.

Variants alternate within every round, so that machine noise hits them alike; medians of the
rounds are reported with the load average. The model is the shipped checkpoint where there is
one, else a fresh one of the default config with its normalization fitted (same cost).

Writes benchmarks/results/model_step_speed.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.compiled import CompiledStep
from mosim_ray.model.reference import reference_rollout, reference_step
from mosim_ray.model.world_model import PRETRAINED_DIR

sys.path.insert(0, str(Path(__file__).parent))
from imagined_speed import provenance  # noqa: E402
from model_loss_curve import collect, loss_curve  # noqa: E402

RESULTS = Path(__file__).parent / "results"
TASKS = ["cheetah-run", "walker-walk", "hopper-hop", "reacher-easy", "acrobot-swingup"]
N, HORIZON = 256, 16


def model_for(task: str, eps: list[dict]) -> tuple[WorldModel, str]:
    if (PRETRAINED_DIR / task).is_dir():
        return WorldModel.load(f"pretrained/{task}"), f"pretrained/{task}"
    torch.manual_seed(0)
    wm = WorldModel.create(ModelConfig(task=task))
    s = [np.hstack([e["qpos"], e["qvel"]]) for e in eps]
    actions = np.concatenate([e["action"][:-1] for e in eps])
    wm.dynamics.norm.fit(
        wm.spec, np.concatenate([x[:-1] for x in s]), actions, np.concatenate([x[1:] for x in s])
    )
    return wm, "untrained, default ModelConfig, normalization fitted"


def batches(eps: list[dict], seed: int = 0) -> tuple[torch.Tensor, ...]:
    """States [N, D] and actions [N, U] to step; training segments [N, H+1, D], [N, H, U]."""
    rng = np.random.default_rng(seed)
    s = np.stack([np.hstack([e["qpos"], e["qvel"]]) for e in eps]).astype(np.float32)
    a = np.stack([e["action"][:-1] for e in eps]).astype(np.float32)
    ep, t = rng.integers(len(eps), size=N), rng.integers(a.shape[1] - HORIZON, size=N)
    seg_s = np.stack([s[i, j : j + HORIZON + 1] for i, j in zip(ep, t)])
    seg_a = np.stack([a[i, j : j + HORIZON] for i, j in zip(ep, t)])
    return tuple(map(torch.as_tensor, (seg_s[:, 0], seg_a[:, 0], seg_s, seg_a)))


def alternate(variants: dict[str, Callable[[], object]], rounds: int, reps: int) -> dict:
    """ms per call: every round runs each variant ``reps`` times, variants in turn."""
    for f in variants.values():
        f()  # warm up (allocator, first-call setup)
    ms: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, f in variants.items():
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            ms[name].append((time.perf_counter() - t0) / reps * 1e3)
    return {"median_ms": {k: float(np.median(v)) for k, v in ms.items()}, "rounds_ms": ms}


def compiled_step(dyn) -> Callable:
    """``dyn.step`` through ``torch.compile`` (inductor, CPU); it compiles at its first call."""
    import torch._dynamo

    torch._dynamo.reset()  # a fresh compile, not one cached from another variant
    return torch.compile(dyn.step, dynamic=False)


def bench_inference(wm: WorldModel, s, a, args) -> dict:
    dyn = wm.dynamics

    def before():
        with torch.no_grad():
            return reference_step(dyn, s, a)

    def kept():
        with torch.inference_mode():
            return dyn.step(s, a)

    def kept_no_grad():
        with torch.no_grad():
            return dyn.step(s, a)

    variants = {"before: eager reference": before, "kept: inference_mode": kept}
    variants["current step, no_grad"] = kept_no_grad
    out: dict = {}
    if args.compile:
        fn = compiled_step(dyn)
        t0 = time.perf_counter()
        with torch.inference_mode():
            fn(s, a)
        out["compile_seconds"] = time.perf_counter() - t0

        def compiled():
            with torch.inference_mode():
                return fn(s, a)

        variants["not kept: torch.compile"] = compiled
    reps = max(1, int(20 / getattr(dyn, "substeps", 1)))
    out.update(alternate(variants, args.rounds, reps))
    med = out["median_ms"]
    out["speedup_vs_before"] = {k: med["before: eager reference"] / v for k, v in med.items()}
    return out


def bench_training(wm: WorldModel, seg_s, seg_a, args) -> dict:
    weights = torch.full((HORIZON,), 1.0 / HORIZON)

    def reference_loss(dyn):
        pred = reference_rollout(dyn, seg_s[:, 0], seg_a)
        return (
            ((pred - seg_s[:, 1:]) / dyn.norm.loss_scale).pow(2).mean(dim=(0, 2)) * weights
        ).sum()

    def update(dyn, opt, loss_fn):
        def run():
            loss = loss_fn(dyn)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(dyn.parameters(), 1.0)
            opt.step()

        return run

    def setup(fused: bool):
        dyn = copy.deepcopy(wm.dynamics).train()
        return dyn, torch.optim.Adam(dyn.parameters(), lr=1e-4, fused=fused)

    d0, o0 = setup(False)
    d1, o1 = setup(False)
    d2, o2 = setup(True)
    variants = {
        "before: reference loss, Adam": update(d0, o0, reference_loss),
        "current loss, Adam": update(d1, o1, lambda d: d.loss(seg_s, seg_a, weights)),
        "kept: current loss, fused Adam": update(d2, o2, lambda d: d.loss(seg_s, seg_a, weights)),
    }
    out: dict = {}
    if args.compile:
        d3, o3 = setup(True)
        step = CompiledStep(d3)
        run = update(d3, o3, lambda d: d.loss(seg_s, seg_a, weights, step=step))
        t0 = time.perf_counter()
        run()
        out["compile_seconds"] = time.perf_counter() - t0
        variants["opt-in: compiled step, fused Adam"] = run
    # a few updates a round where one is short (~0.1 s): a single one is at the mercy of noise
    reps = 3 if getattr(wm.dynamics, "substeps", 1) == 1 else 1
    out.update(alternate(variants, args.rounds, reps))
    med = out["median_ms"]
    before = med["before: reference loss, Adam"]
    out["speedup_vs_before"] = {k: before / v for k, v in med.items()}
    # the optimizer step alone (on the gradients the last updates left): too small a part of an
    # update for the timings above to resolve it
    adam = alternate({"Adam": o1.step, "fused Adam": o2.step}, args.rounds, 20)
    out["optimizer_step_median_ms"] = adam["median_ms"]
    return out


def substep_costs(task: str, s, a, args) -> dict:
    """ms per step at N rows with fewer solver substeps than MuJoCo's (what they would buy; the
    default stays MuJoCo's, since fewer change the predictions)."""
    default = WorldModel.create(ModelConfig(task=task)).dynamics.substeps
    counts = sorted({default, *(k for k in (1, 2, 5) if k < default)}, reverse=True)
    models = {k: WorldModel.create(ModelConfig(task=task, substeps=k)).dynamics for k in counts}

    def step(dyn):
        def run():
            with torch.inference_mode():
                return dyn.step(s, a)

        return run

    timed = alternate({f"substeps={k}": step(m) for k, m in models.items()}, args.rounds, 2)
    return {"default_substeps": default, **timed}


def prediction_difference(wm: WorldModel, eps: list[dict], args) -> dict:
    """Largest |current - reference| (and relative to |reference| + 1e-6) over 100 steps from
    N real states under the recorded actions."""
    s = torch.as_tensor(np.concatenate([np.hstack([e["qpos"], e["qvel"]])[:1] for e in eps]))
    a = torch.as_tensor(np.stack([e["action"][:100] for e in eps]))
    reps = -(-N // len(eps))
    s, a = s.repeat(reps, 1)[:N].float(), a.repeat(reps, 1, 1)[:N].float()
    with torch.no_grad():
        ref = reference_rollout(wm.dynamics, s, a)
        variants = {"kept": wm.dynamics.rollout(s, a)}
        if args.compile:
            fn = compiled_step(wm.dynamics)
            x, out = s, []
            for t in range(a.shape[1]):
                x = fn(x, a[:, t])
                out.append(x)
            variants["not kept: torch.compile"] = torch.stack(out, 1)
    result = {"steps": a.shape[1], "rows": N, "reference_finite": bool(torch.isfinite(ref).all())}
    for name, pred in variants.items():
        diff = (pred - ref).abs()
        result[name] = {
            "bit_identical": bool(torch.equal(pred, ref)),
            "max_abs_diff": float(diff.max()),
            "max_rel_diff": float((diff / (ref.abs() + 1e-6)).max()),
        }
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", nargs="+", default=TASKS)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--compile", action="store_true", help="also time torch.compile (slow)")
    p.add_argument("--curve-updates", type=int, default=200, help="0: no loss curve")
    p.add_argument("--out", default=str(RESULTS / "model_step_speed.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    results = {
        **provenance(argv, script="benchmarks/model_step_speed.py"),
        "torch_threads": 1,
        "rows": N,
        "training_horizon": HORIZON,
        "tasks": {},
    }
    for task in args.tasks:
        eps = collect(task, 6)
        wm, source = model_for(task, eps)
        s, a, seg_s, seg_a = batches(eps)
        entry = {"model": source, "substeps": int(getattr(wm.dynamics, "substeps", 1))}
        entry["inference"] = bench_inference(wm, s, a, args)
        entry["training"] = bench_training(wm, seg_s, seg_a, args)
        if source.startswith("pretrained"):
            entry["prediction_difference"] = prediction_difference(wm, eps, args)
        if entry["substeps"] > 1:
            entry["fewer_substeps"] = substep_costs(task, s, a, args)
        results["tasks"][task] = entry
        print_task(task, entry)
    if args.curve_updates:
        results["loss_curve"] = c = loss_curve(args.curve_updates, args.compile)
        print(f"\nloss curve ({c['task']}, {c['updates']} updates), vs before on seed 0:")
        for k, v in c["mean_rel_diff_to_before_seed0"].items():
            print(f"  {k:>16}: mean rel diff {v:.2e}, last 50 mean {c['last50_mean'][k]:.5f}")
    # the machine may be shared: its load says how noisy the numbers are
    results["load_average_start_end"] = [list(load_start), list(os.getloadavg())]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"-> {out}")
    return 0


def print_task(task: str, entry: dict) -> None:
    print(f"\n{task} ({entry['model']}, {entry['substeps']} substeps)")
    for part in ("inference", "training"):
        r = entry[part]
        for k, v in r["median_ms"].items():
            print(f"  {part:>9} {k:>36}: {v:8.2f} ms  ({r['speedup_vs_before'][k]:.2f}x)")
        if "compile_seconds" in r:
            print(f"  {part:>9} compile: {r['compile_seconds']:.1f} s")
        if "optimizer_step_median_ms" in r:
            adam = r["optimizer_step_median_ms"]
            print("  optimizer step: " + ", ".join(f"{k} {v:.2f} ms" for k, v in adam.items()))
    if "fewer_substeps" in entry:
        med = entry["fewer_substeps"]["median_ms"]
        print("  fewer substeps: " + ", ".join(f"{k} {v:.2f} ms" for k, v in med.items()))
    if "prediction_difference" in entry:
        d = entry["prediction_difference"]
        print("  prediction difference: " + json.dumps({k: d[k] for k in d if k != "steps"}))


if __name__ == "__main__":
    raise SystemExit(main())
