"""Model ablations at an equal update budget: ODE methods, the authors' single-step recipe, and
the baselines. Each variant is trained for the same number of updates on the same split and seed,
then judged on held-out real episodes (H = 16 and 100) and timed.

    python benchmarks/model_ablations.py --task reacher-easy --data data/reacher-easy --updates 1500 \
        [--variants symplectic rk4 ...]

Variants: symplectic / euler / rk4 / dopri5 (integration, no corrector); single_step (horizon 1,
raw-state loss: the authors' recipe, with our integrator); mosim_corrector (one corrector, trained
jointly); structure_free (sized like MoSim without corrector); structure_free_matched (sized like
MoSim with one); ensemble. A run adds its variants to an existing result file of the same
budget.
Writes benchmarks/results/model_ablations_<task>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from mosim_ray.data import RolloutDataset
from mosim_ray.eval.metrics import prediction_errors
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.integrators import resolve_method
from mosim_ray.train import StagedTrainer, TrainConfig, fit_normalizer

RESULTS = Path(__file__).parent / "results"
# name -> (ModelConfig overrides, TrainConfig overrides)
VARIANTS: dict[str, tuple[dict, dict]] = {
    "symplectic": ({"method": "symplectic"}, {}),
    "euler": ({"method": "euler", "substeps": 1}, {}),
    "rk4": ({"method": "rk4", "substeps": 1}, {}),
    "dopri5": ({"method": "dopri5"}, {}),
    "single_step": (
        {"method": "auto"},
        {"horizon": 1, "horizon_start": 1, "normalize_loss": False},
    ),
    "mosim_corrector": ({"correctors": 1}, {"joint": True}),
    "structure_free": ({"kind": "structure_free"}, {}),
    # sized like MoSim with one corrector (the structure-free net counts MoSim's parameters)
    "structure_free_matched": ({"kind": "structure_free", "correctors": 1}, {}),
    "ensemble": ({"kind": "ensemble"}, {}),
}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--data", required=True)
    p.add_argument("--updates", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--horizon", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = RolloutDataset.open(args.data)
    train, val, test = data.split((0.8, 0.1, 0.1), seed=0)
    rows = []
    for name in args.variants:
        model_kw, train_kw = VARIANTS[name]
        torch.manual_seed(0)
        cfg = ModelConfig(**{"task": args.task, "correctors": 0, **model_kw})
        wm = WorldModel.create(cfg)
        fit_normalizer(wm, train, args.horizon)
        base = dict(
            batch_size=args.batch_size, horizon=args.horizon, horizon_start=min(2, args.horizon)
        )
        tcfg = TrainConfig(
            **{**base, **train_kw}, max_updates=args.updates, minutes=60, seed=0, patience=10**6
        )
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            StagedTrainer(wm, train, val, tcfg, tmp).run(progress=False)
        seconds = time.perf_counter() - t0
        errs = {e.horizon: e for e in prediction_errors(wm, test, horizons=(16, 100))}
        m, s = resolve_method(wm.spec, cfg) if cfg.kind != "ensemble" else ("one-step MLP", 0)
        row = {
            "variant": name,
            "method": m,
            "substeps": s,
            "train_seconds": seconds,
            "mse_h16": errs[16].mse,
            "mse_h100": errs[100].mse,
            "finite_h100": errs[100].finite_share,
            "solver_fallbacks": getattr(wm.dynamics, "solver_fallbacks", 0),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "task": args.task,
        "updates": args.updates,
        "batch_size": args.batch_size,
        "horizon": args.horizon,
        "machine": f"{platform.machine()}, {args.threads} torch threads",
        "commands": [
            f"python benchmarks/model_ablations.py --task {args.task} --data {args.data} "
            f"--updates {args.updates} --variants {' '.join(args.variants)}"
        ],
        "rows": rows,
    }
    path = RESULTS / f"model_ablations_{args.task}.json"
    if path.exists():  # add to an earlier run with the same budget: variants run now replace theirs
        old = json.loads(path.read_text())
        same = all(old.get(k) == out[k] for k in ("updates", "batch_size", "horizon"))
        if same:
            kept = [r for r in old["rows"] if r.get("variant") not in args.variants]
            out["rows"] = kept + rows
            out["commands"] = old.get("commands", [old.get("command")]) + out["commands"]
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
