"""SAC learning throughput on CPU, side by side: ours (RLlib), Stable-Baselines3, plain PyTorch.

    python benchmarks/learner_speed.py [--env mosim-real] [--threads 1] [--seconds 12]
        [--rounds 3] [--paired-rounds 5] [--candidates [KEY ...]] [--ablations] [--defaults]
        [--json benchmarks/results/learner_speed.json]

ONE process, ``torch.set_num_threads(--threads)``, a local ``ray.init(num_cpus=2)``. Every
variant is built and warmed up first (past ``--learning-starts`` and 50 updates); then, for
``--rounds`` rounds, each variant trains for ``--seconds`` in turn with a plain-PyTorch floor
measured between variants, so that all see the same drifting load. A slice's ratio uses the mean
of the floors right before and after it; the table gives medians over the rounds. With
``--paired-rounds N``, ``sb3`` and every ``ours/...`` variant then run against ``ours`` with their
rollout fragments (or learner calls) alternating, N blocks of ``--seconds``: each block's ratio
compares two rates measured under the same load, the most precise comparison here.

* ``floor``: a minimal plain-PyTorch SAC update (actor and twin critics 256x256 ReLU, batch 256,
  Adam, auto alpha, Polyak targets) on the env's obs/action sizes: the arithmetic floor.
* ``ours``: ``algorithm_config("sac", ...)`` end to end (env sampling included) at one update per
  env step; ``ours-learner``: its learner alone, K=64 replayed minibatches per learner call.
* ``sb3``: Stable-Baselines3's SAC (``pip install stable-baselines3==2.9.2``, the ``bench``
  extra) on the same env, 256x256 nets, batch 256, one gradient step per env step
  (``train_freq=1, gradient_steps=1``), learning from ``--learning-starts``: updates/s end to end.
* ``--candidates``: ours with parts of its update path as RLlib has them: ``before`` has all of
  them (``module.forward_train``, RLlib's SAC loss with its statistics on every minibatch,
  ``learner_group.update`` per rollout fragment, ``env_runner_group.sync_weights``); the
  ``rllib ...`` rows revert one each; the ``compiled`` rows add ``torch_compile_learner=True``
  (inductor) for RLlib's ``forward_train`` or for the complete update step; ``bfloat16`` runs the
  update's MLPs under CPU autocast (``network_dtype``).
* ``--ablations``: ours with one older fast setting reverted at a time (buffer, critic, update
  step, rollout fragment).
* ``--defaults``: ``SACConfig().environment(env)`` as it comes, and with 256x256 ReLU nets and
  ``fusionnet_hiddens=[]``.

updates/s = gradient steps per wall second (RLlib: learner ``num_module_steps_trained`` / batch;
SB3: ``_n_updates``); env steps/s = sampled env steps per wall second. For each RLlib variant the
JSON keeps RLlib's ``result["timers"]`` and a short cProfile (``--profile-seconds``, after the
rounds): where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from learner_speed_runners import LearnerAloneRunner
from learner_speed_variants import env_spec, spaces, variants
from sac_floor import BATCH, floor_updates_per_second

RESULTS = Path(__file__).parent / "results"


def _summary(slices: list[dict[str, float]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [s[key] for s in slices if key in s]
        return float(np.median(values)) if values else None

    return {
        "updates_per_s": med("updates_per_s"),
        "env_steps_per_s": med("env_steps_per_s"),
        "floor_updates_per_s": med("floor_updates_per_s"),
        "ratio_to_floor": med("ratio_to_floor"),
        "slices": [{k: round(v, 3) for k, v in s.items()} for s in slices],
    }


def side_by_side(
    runners: dict[str, Any], floor: Any, rounds: int, seconds: float
) -> tuple[dict[str, list[dict[str, float]]], list[float]]:
    """``rounds`` round-robin passes: each runner for ``seconds``, a floor after each."""
    slices: dict[str, list[dict[str, float]]] = {name: [] for name in runners}
    floors = [floor()]
    print(f"[floor] {floors[-1]:.1f} updates/s", flush=True)
    for r in range(rounds):
        for name, runner in runners.items():
            row = runner.run(seconds)
            floors.append(floor())
            local = (floors[-2] + floors[-1]) / 2
            row |= {"floor_updates_per_s": local, "ratio_to_floor": row["updates_per_s"] / local}
            slices[name].append(row)
            print(
                f"[round {r + 1}] {name}: {row['updates_per_s']:.1f} updates/s "
                f"(floor {local:.1f}, ratio {row['ratio_to_floor']:.2f}, "
                f"load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    return slices, floors


def paired(a: Any, b: Any, seconds: float) -> dict[str, float]:
    """Updates/s of runners ``a`` and ``b`` with their ``step()`` calls alternating (one rollout
    fragment, or one learner call, each) for ``seconds`` in all: both see the same load."""
    spent, done = [0.0, 0.0], [0, 0]
    order = [(0, a), (1, b)]
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        for i, runner in order:
            t0 = time.perf_counter()
            done[i] += runner.step()
            spent[i] += time.perf_counter() - t0
        order.reverse()  # neither always runs right after the other
    rate_a, rate_b = done[0] / spent[0], done[1] / spent[1]
    return {"updates_per_s": rate_b, "reference_updates_per_s": rate_a, "ratio": rate_b / rate_a}


def paired_rounds(
    runners: dict[str, Any], reference: str, names: list[str], rounds: int, seconds: float
) -> dict[str, dict[str, Any]]:
    """For each name, ``rounds`` blocks of ``paired(reference, name)``; median ratios."""
    out = {}
    for name in names:
        blocks = [paired(runners[reference], runners[name], seconds) for _ in range(rounds)]
        ratios = [blk["ratio"] for blk in blocks]
        out[name] = {
            "reference": reference,
            "ratio_median": float(np.median(ratios)),
            "blocks": [{k: round(v, 3) for k, v in blk.items()} for blk in blocks],
        }
        print(
            f"[paired] {name} / {reference}: {out[name]['ratio_median']:.3f} "
            f"({', '.join(f'{r:.3f}' for r in ratios)}; load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--env",
        default="mosim-real",
        help="gymnasium id (e.g. Pendulum-v1), mosim-real or mosim-imagined",
    )
    p.add_argument("--task", default="reacher-easy")
    p.add_argument("--checkpoint", default="pretrained/reacher-easy", help="mosim-imagined only")
    p.add_argument("--num-envs", type=int, default=16, help="mosim-imagined only")
    p.add_argument("--seconds", type=float, default=12.0, help="timed seconds per slice")
    p.add_argument("--rounds", type=int, default=3, help="round-robin passes over the variants")
    p.add_argument("--learning-starts", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1, help="torch threads in this process")
    p.add_argument("--profile-seconds", type=float, default=4.0, help="0: no cProfile")
    p.add_argument(
        "--candidates",
        nargs="*",
        default=None,
        help="ours with RLlib's update path parts: all, or some of before, rllib-forward, "
        "rllib-loop, rllib-sync, rllib-forward-compiled, lean-forward-compiled, update-compiled",
    )
    p.add_argument("--ablations", action="store_true", help="ours with one setting reverted")
    p.add_argument("--defaults", action="store_true", help="RLlib's default SAC configs too")
    p.add_argument("--skip-sb3", action="store_true", help="no Stable-Baselines3 row")
    p.add_argument(
        "--paired-rounds",
        type=int,
        default=0,
        help="then sb3 and each ours/... variant against ours, fragments alternating: N blocks",
    )
    p.add_argument("--json", default=str(RESULTS / "learner_speed.json"))
    args = p.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv

    os.environ.setdefault("MUJOCO_GL", "disable")
    torch.set_num_threads(args.threads)
    import ray

    from mosim_ray.runs.provenance import provenance

    command = "python benchmarks/learner_speed.py " + " ".join(argv)
    load_start = os.getloadavg()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    if args.env.startswith("mosim-"):
        from mosim_ray.envs.rllib import register_envs

        register_envs()
    env, env_config, _ = env_spec(args)
    obs_dim, act_dim = spaces(env, env_config)

    runners: dict[str, Any] = {}
    try:
        for name, make in variants(args).items():
            print(f"[{name}] building and warming up", flush=True)
            runners[name] = make()
            runners[name].warm_up(max(60.0, 4 * args.seconds))
            if getattr(runners[name], "learner_alone", False):
                alone = name.replace("ours", "ours-learner", 1)
                runners[alone] = LearnerAloneRunner(runners[name])
                runners[alone].warm_up(0)
        if torch.get_num_threads() != args.threads:
            raise RuntimeError(f"a variant changed torch threads to {torch.get_num_threads()}")
        slices, floors = side_by_side(
            runners,
            lambda: floor_updates_per_second(obs_dim, act_dim, args.seconds / 2),
            args.rounds,
            args.seconds,
        )
        pairs: dict[str, Any] = {}
        if args.paired_rounds:
            for reference in ("ours", "ours-learner"):
                names = [
                    n
                    for n in runners
                    if (n.startswith(reference + "/") or (reference, n) == ("ours", "sb3"))
                    and runners[n].can_pair
                ]
                pairs |= paired_rounds(runners, reference, names, args.paired_rounds, args.seconds)
        for runner in runners.values():
            runner.finish(args.profile_seconds)
    finally:
        for runner in runners.values():
            runner.close()
        ray.shutdown()

    rows = {name: {**_summary(slices[name]), **runners[name].info} for name in runners}
    floor = float(np.median(floors))
    report = {
        "provenance": provenance(command),
        "command": command,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "torch_threads": args.threads,
        "env": env,
        "env_config": env_config,
        "obs_dim": obs_dim,
        "act_dim": act_dim,
        "batch": BATCH,
        "seconds_per_slice": args.seconds,
        "rounds": args.rounds,
        "floor": {"updates_per_s_median": floor, "measurements": floors},
        "variants": rows,
        "paired": pairs,
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))

    print(f"\n{env} obs {obs_dim} act {act_dim}, batch {BATCH}, {args.threads} thread(s)")
    print(f"{'variant':52s} {'updates/s':>10s} {'env steps/s':>12s} {'floor':>7s} {'ratio':>6s}")
    print(f"{'floor (plain PyTorch), median':52s} {floor:10.1f} {'':>12s} {floor:7.1f} {1.0:6.2f}")
    for name, row in rows.items():
        steps = row["env_steps_per_s"]
        print(
            f"{name:52s} {row['updates_per_s']:10.1f} "
            f"{'' if steps is None else f'{steps:.1f}':>12s} "
            f"{row['floor_updates_per_s']:7.1f} {row['ratio_to_floor']:6.2f}"
        )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
