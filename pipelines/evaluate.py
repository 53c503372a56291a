"""Multi-step prediction error of a saved world model on real rollouts (horizons 3, 16, 100).

    python pipelines/evaluate.py --checkpoint runs/reacher-easy/model --data data/reacher-easy-test

--data may be the training folder: with --split test only the held-out test episodes (the same
seeded split pipelines/train.py uses) are scored.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from mosim_ray.data import RolloutDataset
from mosim_ray.eval.metrics import error_by_step, format_errors, prediction_errors
from mosim_ray.eval.plots import plot_error_by_step
from mosim_ray.model import WorldModel


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--checkpoint", required=True, help="checkpoint directory or pretrained/<task>")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="all", choices=["all", "test"])
    p.add_argument("--seed", type=int, default=0, help="split seed (as given to train.py)")
    p.add_argument("--horizons", type=int, nargs="+", default=[3, 16, 100])
    p.add_argument("--segments", type=int, default=256)
    p.add_argument("--json", default=None, help="also write the errors to this file")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--plot", default=None, help="write error-against-step plot (PNG) here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = WorldModel.load(args.checkpoint)
    data = RolloutDataset.open(args.data)
    if data.task != model.task:
        print(f"error: model is for {model.task!r}, data is {data.task!r}", file=sys.stderr)
        return 2
    if args.split == "test":
        data = data.split((0.8, 0.1, 0.1), seed=args.seed)[2]
    errors = prediction_errors(model, data, tuple(args.horizons), args.segments)
    print(
        f"{model.task} ({model.config.kind}, {len(data.episodes)} episodes)\n{format_errors(errors)}"
    )
    if args.plot:
        curves = error_by_step(model, data, max(args.horizons), args.segments)
        plot_error_by_step(
            {model.config.kind: curves["model"], "constant": curves["constant"]},
            args.plot,
            f"{model.task}: open-loop error on real rollouts",
        )
        print(f"plot: {args.plot}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "checkpoint": args.checkpoint,
                    "data": args.data,
                    "split": args.split,
                    "errors": [e.as_dict() for e in errors],
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
