"""Train a MoSim world model (or a baseline) on collected real rollouts.

    python pipelines/train.py --task reacher-easy --data data/reacher-easy --size small --stages 2 \
        --minutes 15 --out runs/reacher-easy

Writes <out>/model (the best checkpoint: WorldModel.load(<out>/model)), train_log.csv, tb/ and
summary.json. --minutes is a wall-clock budget: training ends cleanly with the best weights saved.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from mosim_ray.data import RolloutDataset
from mosim_ray.eval.metrics import format_errors, prediction_errors
from mosim_ray.eval.plots import plot_training_curve
from mosim_ray.model import ModelConfig, WorldModel
from mosim_ray.model.nets import count_parameters
from mosim_ray.train import StagedTrainer, TrainConfig, fit_normalizer


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", required=True)
    p.add_argument("--data", required=True, help="folder of shards written by pipelines/collect.py")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--kind", default="mosim", choices=["mosim", "structure_free", "ensemble", "constant"]
    )
    p.add_argument("--size", default="small", choices=["small", "medium", "large"])
    p.add_argument("--correctors", type=int, default=None)
    p.add_argument("--stages", type=int, default=None, help="stages to train (default: all)")
    p.add_argument("--joint", action="store_true", help="train predictor and correctors together")
    p.add_argument(
        "--method", default="auto", choices=["auto", "symplectic", "rk4", "euler", "dopri5"]
    )
    p.add_argument(
        "--substeps",
        type=int,
        default=None,
        help="solver steps per control step (default: see ModelConfig)",
    )
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--max-updates", type=int, default=None)
    p.add_argument("--horizon", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from <out>/trainer_state.pt (weights, optimizer, stage, "
        "updates); without one, continue from the weights in <out>/model",
    )
    p.add_argument(
        "--obs-noise",
        type=float,
        default=0.0,
        help="Gaussian noise on the training and validation states, as a share of each state "
        "dimension's std (the test episodes stay clean): the paper's noise-robustness setting",
    )
    p.add_argument("--skip-bad-shards", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # before the model is built: same seed, same initial weights
    data = RolloutDataset.open(args.data, skip_bad=args.skip_bad_shards)
    if data.task != args.task:
        print(f"error: {args.data} holds {data.task!r} data, not {args.task!r}", file=sys.stderr)
        return 2
    train, val, test = data.split((0.8, 0.1, 0.1), seed=args.seed)
    train = train.with_state_noise(args.obs_noise, seed=args.seed)
    val = val.with_state_noise(args.obs_noise, seed=args.seed + 1)
    out = Path(args.out)
    if args.resume:
        model = WorldModel.load(out / "model", task=args.task)
    else:
        model = WorldModel.create(
            ModelConfig(
                task=args.task,
                kind=args.kind,
                size=args.size,
                correctors=args.correctors,
                method=args.method,
                substeps=args.substeps,
            )
        )
        fit_normalizer(model, train, args.horizon)
    # what the model has seen of the real world: zero-shot results count these as real steps
    model.info["data"] = {
        "path": str(args.data),
        "episodes": len(data.episodes),
        "real_steps": data.num_steps,
        "train_steps": train.num_steps,
        "process": data.meta.get("process", {}).get("kind"),
        "obs_noise": args.obs_noise,
    }
    config = TrainConfig(
        batch_size=args.batch_size,
        lr=args.lr,
        horizon=args.horizon,
        minutes=args.minutes,
        max_updates=args.max_updates,
        stages=args.stages,
        joint=args.joint,
        seed=args.seed,
    )
    print(
        f"{args.task}: {model.config.kind} ({args.size}), {count_parameters(model.dynamics):,} parameters, "
        f"{len(train.episodes)}/{len(val.episodes)} train/val episodes, {train.num_steps:,} train steps"
    )
    summary = StagedTrainer(model, train, val, config, out).run(
        progress=not args.no_progress, resume=args.resume
    )
    plot_training_curve(
        summary.pop("history", []), out / "train_curve.png", f"{args.task} ({model.config.kind})"
    )
    errors = prediction_errors(model, test, horizons=(3, 16, 100))
    print(
        f"test episodes ({len(test.episodes)}), open-loop prediction error:\n{format_errors(errors)}"
    )
    summary["test_errors"] = [e.as_dict() for e in errors]
    summary.update(
        task=args.task,
        kind=model.config.kind,
        size=model.config.size,
        data=args.data,
        parameters=count_parameters(model.dynamics),
        command=" ".join(sys.argv),
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"done: {summary['updates']} updates in {summary['seconds']:.0f} s, "
        f"validation loss {summary['val_loss']:.3e} -> {out / 'model'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
