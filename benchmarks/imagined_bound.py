"""How fast can an imagined step be on one core? The model's arithmetic against this core's
matrix-product rate, beside dm_control's ``env.step``.

    python benchmarks/imagined_bound.py [--tasks cheetah-run walker-walk ...] [--rounds 5]

For each task's model (the one ``imagined_speed.py`` times: shipped, else an untrained default):
the floating-point operations of one control step at N=256 in matrix products (``mm``, ``addmm``,
``bmm``: torch's ``FlopCounterMode``; the element-wise work is not counted), the model step's own
rate (no gradients, one thread), and this core's rate on the products the model is made of
(``[256, w] @ [w, w]`` for each hidden width ``w``) and on one large product (``[1024, 1024] @
[1024, 1024]``, the most a float32 product gets here). ``bound_states_per_s`` is the states per
second if a step did nothing but its products at the small-product rate: an upper bound on any
imagined env of this model on this core, however lean the rest. Its ratio to dm_control's
``env.step`` (timed in the same rounds) says whether a target such as "10x MuJoCo" can be met by
engineering at all, or needs less arithmetic per step (fewer substeps, narrower networks, lower
precision) or another device. Rounds alternate between the measurements; medians are reported.

Writes benchmarks/results/imagined_bound.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imagined_speed import TASKS, model_for, real_rate  # noqa: E402

from mosim_ray.runs.provenance import provenance, write_json  # noqa: E402
from mosim_ray.tasks import make_simulator  # noqa: E402

RESULTS = Path(__file__).parent / "results"
N = 256


def step_inputs(task: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n real states [n, D] of random-action episodes and n random actions [n, U]: where a
    model's soft limits engage and its solves run as they do in an imagined env."""
    sim = make_simulator(task, seed=0)
    rng = np.random.default_rng(0)
    states = []
    while len(states) < n:
        sim.reset(len(states))
        for _ in range(100):
            sim.step(rng.uniform(-1, 1, sim.spec.nu))
            states.append(sim.state())
    action = rng.uniform(-1, 1, (n, sim.spec.nu))
    return torch.tensor(np.array(states[:n]), dtype=torch.float32), torch.tensor(
        action, dtype=torch.float32
    )


def product_flops(step, state, action) -> int:
    """Floating-point operations in matrix products of one ``step(state, action)``."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        step(state, action)
    return int(counter.get_total_flops())


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    fn()
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def gemm_flops_per_s(rows: int, width: int, seconds: float) -> float:
    a, b = torch.randn(rows, width), torch.randn(width, width)
    return rate(lambda: a @ b, seconds) * 2 * rows * width * width


def hidden_widths(model) -> list[int]:
    """The distinct square hidden layers' widths of the model's networks."""
    widths = {
        m.in_features
        for m in model.dynamics.modules()
        if isinstance(m, torch.nn.Linear) and m.in_features == m.out_features
    }
    return sorted(widths) or [64]


def bench_task(task: str, rounds: int, seconds: float) -> dict:
    model, source = model_for(task)
    step = model.dynamics.step
    state, action = step_inputs(task, N)
    flops = product_flops(step, state, action)
    widths = hidden_widths(model)
    timed: dict[str, list[float]] = {}
    with torch.no_grad():
        for _ in range(rounds):
            timed.setdefault("dm_control env.step", []).append(real_rate(task, seconds, True))
            steps = rate(lambda: step(state, action), seconds)
            timed.setdefault("model step states/s", []).append(steps * N)
            for w in widths:
                timed.setdefault(f"gemm {N}x{w}x{w} flop/s", []).append(
                    gemm_flops_per_s(N, w, seconds)
                )
            timed.setdefault("gemm 1024x1024x1024 flop/s", []).append(
                gemm_flops_per_s(1024, 1024, seconds)
            )
    med = {k: float(np.median(v)) for k, v in timed.items()}
    small = min(med[f"gemm {N}x{w}x{w} flop/s"] for w in widths)
    per_state = flops / N
    bound = small / per_state
    real = med["dm_control env.step"]
    entry = {
        "model": source,
        "model_substeps": int(getattr(model.dynamics, "substeps", 1)),
        "hidden_widths": widths,
        "product_flops_per_state_step": per_state,
        "measured": med,
        "rounds": timed,
        "model_step_product_flops_per_s": med["model step states/s"] * per_state,
        "share_of_small_gemm_rate": med["model step states/s"] * per_state / small,
        "bound_states_per_s": bound,
        "bound_ratio_to_dm_control": bound / real,
        "model_step_ratio_to_dm_control": med["model step states/s"] / real,
    }
    print(
        f"{task}: {per_state / 1e6:.2f} MFLOP in products per state step; model step "
        f"{med['model step states/s']:,.0f} states/s ({entry['model_step_ratio_to_dm_control']:.1f}x "
        f"dm_control), products at {entry['share_of_small_gemm_rate']:.0%} of the "
        f"{small / 1e9:.1f} GFLOP/s small-product rate; bound {bound:,.0f} states/s = "
        f"{entry['bound_ratio_to_dm_control']:.1f}x dm_control ({real:,.0f} steps/s)",
        flush=True,
    )
    return entry


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", nargs="+", default=TASKS)
    p.add_argument("--seconds", type=float, default=1.0, help="per measurement per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=str(RESULTS / "imagined_bound.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    command = "python benchmarks/imagined_bound.py " + " ".join(argv)
    load_start = os.getloadavg()[0]
    results = {"command": command, "provenance": provenance(command), "batch": N, "tasks": {}}
    for task in args.tasks:
        results["tasks"][task] = bench_task(task, args.rounds, args.seconds)
    # the machine may be shared: its load during the run says how noisy the rates are
    results["load_average_1min_start_end"] = [load_start, os.getloadavg()[0]]
    write_json(results, args.out)
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
