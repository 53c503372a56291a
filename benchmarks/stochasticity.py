"""Chaos and spread (the paper's section 3.3): Lyapunov exponents of real MuJoCo and of the model,
and the spread of an ensemble's futures against the real spread from perturbed initial states.

    python benchmarks/stochasticity.py lyapunov --task acrobot-swingup --checkpoint pretrained/acrobot-swingup
    python benchmarks/stochasticity.py spread --task cheetah-run --checkpoint runs/cheetah-run-ensemble/model

lyapunov: start states from held-out real episodes (step 100 on), Poisson-switching random actions
(the training data's process, a fresh seed), Benettin's method over --steps control steps, the
real system (d0 = 1e-6, float64) and the model (d0 = 1e-4, in float64 arithmetic).
spread: from each start state, the real system is run from --members copies perturbed by
--noise (Gaussian, per dimension, in units of the data's standard deviation) under the same
actions; the ensemble's members predict from the unperturbed state. Reported per horizon: the
mean per-dimension standard deviation across real copies and across members (raw units).
Writes benchmarks/results/<kind>_<task>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from mosim_ray.data import RolloutDataset
from mosim_ray.data.processes import ProcessConfig, make_process
from mosim_ray.eval.lyapunov import lyapunov_model, lyapunov_real
from mosim_ray.model import WorldModel
from mosim_ray.tasks import get_spec, make_simulator

RESULTS = Path(__file__).parent / "results"


def start_states(data_dir: str, n: int, seed: int):
    test = RolloutDataset.open(data_dir).split((0.8, 0.1, 0.1), seed=0)[2]
    rng = np.random.default_rng(seed)
    picks = [(e, int(rng.integers(100, e.length))) for e in rng.choice(test.episodes, n)]
    return (
        np.array([e.states[t] for e, t in picks], dtype=np.float64),
        np.array([e.contexts[t] for e, t in picks], dtype=np.float64),
    )


def random_actions(task: str, n: int, steps: int, seed: int) -> np.ndarray:
    low, high = get_spec(task).action_bounds
    proc = make_process(ProcessConfig(kind="poisson"), low, high)
    out = np.zeros((n, steps, len(low)))
    for i in range(n):
        proc.reset(np.random.default_rng([seed, i]))
        for k in range(steps):
            out[i, k] = proc.act(None)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("kind", choices=["lyapunov", "spread"])
    p.add_argument("--task", default="acrobot-swingup")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--data", default=None, help="real data folder (default data/<task>)")
    p.add_argument("--starts", type=int, default=32)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--members", type=int, default=5)
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=123)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model = WorldModel.load(args.checkpoint or f"pretrained/{args.task}", task=args.task)
    states, contexts = start_states(args.data or f"data/{args.task}", args.starts, args.seed)
    actions = random_actions(args.task, args.starts, args.steps, args.seed)
    sim = make_simulator(args.task)
    out = {
        "task": args.task,
        "checkpoint": args.checkpoint,
        "starts": args.starts,
        "steps": args.steps,
        "command": "python benchmarks/stochasticity.py " + " ".join(argv or sys.argv[1:]),
    }
    if args.kind == "lyapunov":
        real = lyapunov_real(sim, states, contexts, actions)
        pred = lyapunov_model(model, states, actions)
        out.update(
            real_mean=float(real.mean()),
            real_sem=float(real.std() / np.sqrt(len(real))),
            model_mean=float(pred.mean()),
            model_sem=float(pred.std() / np.sqrt(len(pred))),
            real=real.tolist(),
            model=pred.tolist(),
            units="1/s",
        )
        print(
            f"{args.task}: largest Lyapunov exponent, real {out['real_mean']:.4f} ± "
            f"{out['real_sem']:.4f} /s, model {out['model_mean']:.4f} ± {out['model_sem']:.4f} /s "
            f"({args.starts} starts x {args.steps} steps)"
        )
    else:
        members = getattr(model.dynamics, "members", None)
        if members is None:
            raise SystemExit("spread needs an ensemble checkpoint (--kind ensemble)")
        std = RolloutDataset.open(args.data or f"data/{args.task}").states().std(0)
        rng = np.random.default_rng(args.seed)
        horizons = [h for h in (1, 3, 16, 100) if h <= args.steps]
        real_paths = np.zeros((args.starts, args.members, max(horizons), states.shape[1]))
        for i in range(args.starts):
            for m in range(args.members):
                sim.set_state(
                    states[i] + args.noise * std * rng.standard_normal(std.shape), contexts[i]
                )
                for k in range(max(horizons)):
                    sim.step(actions[i, k])
                    real_paths[i, m, k] = sim.state()
        pred = model.dynamics.member_rollouts(
            torch.tensor(states, dtype=torch.float32),
            torch.tensor(actions[:, : max(horizons)], dtype=torch.float32),
        ).numpy()  # [members, N, H, D]
        out["horizons"] = horizons
        out["real_spread"] = [float(real_paths[:, :, h - 1].std(1).mean()) for h in horizons]
        out["model_spread"] = [float(pred[:, :, h - 1].std(0).mean()) for h in horizons]
        for h, r, m in zip(horizons, out["real_spread"], out["model_spread"]):
            print(f"H={h}: real spread {r:.4g}, ensemble spread {m:.4g}")
    path = RESULTS / f"{args.kind}_{args.task}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
