"""Add the MLP-ensemble peer's return to a schedule result written before the peer had run.

    python benchmarks/merge_peer.py benchmarks/results/few_shot_reacher-hard.json \
        benchmarks/results/few_shot_reacher-hard_ensemble.json

(The pipelines do this themselves with ``--ensemble PEER.json`` when the peer ran first.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("result", type=Path, help="result JSON of the MoSim run (rewritten in place)")
    p.add_argument("peer", type=Path, help="result JSON of the same schedule with the ensemble")
    args = p.parse_args(argv)
    result, peer = (json.loads(f.read_text()) for f in (args.result, args.peer))
    for key in ("task", "schedule", "real_steps"):
        if result.get(key) != peer.get(key):
            print(
                f"error: the runs differ in {key}: {result.get(key)!r} against {peer.get(key)!r}",
                file=sys.stderr,
            )
            return 2
    result.update(
        ensemble_real_return_mean=peer["real_return_mean"],
        ensemble_real_return_std=peer["real_return_std"],
        ensemble_result=str(args.peer),
    )
    args.result.write_text(json.dumps(result, indent=1))
    print(
        f"{args.result}: ensemble peer {peer['real_return_mean']:.1f} ± "
        f"{peer['real_return_std']:.1f} (MoSim {result['real_return_mean']:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
