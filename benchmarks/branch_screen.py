"""What an on-policy run's imagined branches feed SAC, with and without the velocity screen.

    python benchmarks/branch_screen.py RUN [RUN ...] [--margin 2.0] [--branches 2048]
        [--branch-length 20] [--json benchmarks/results/branch_screen_cheetah-run.json]

RUN: an on-policy run's save (``<run>/checkpoint``, as ``benchmarks/run.py`` keeps it under
``runs/experiments/<name>/seed<N>/run``): its policy, the trainer's model and every real episode
the trainer held. For each, ``--branches`` branches of ``--branch-length`` steps of the saved
policy (exploration actions, as the run samples them) in the saved model, from every real state
the trainer held (``branch_from: dataset``), made as the run makes them (``ImaginedVecEnv`` and
``BranchRollouts``): once as the recipe ran (no screen) and once with ``velocity_margin``. Per
set: transitions kept, branches stopped, the share of transitions where some joint moves faster
than its fastest in the real data, the largest speed, reward mean and maximum, and the saved
critic's Q (the smaller twin) on them, beside the same on the real transitions. With rewards in
[0, 1] and discount 0.99 a sane Q lies in [0, 100].
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from mosim_ray.envs.imagined import ImaginedVecEnv, ResetPool
from mosim_ray.model.world_model import WorldModel
from mosim_ray.runs.provenance import folder_hash, provenance, write_json
from mosim_ray.sac.forward import _critic
from mosim_ray.sac.policy import RLlibPolicy
from mosim_ray.schedules.branches import BranchRollouts
from mosim_ray.schedules.real_segments import module_actions
from mosim_ray.tasks import get_spec


def real_episodes(save: Path) -> list[dict[str, np.ndarray]]:
    files = sorted((save / "trainer" / "episodes").glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"{save}: no trainer episodes (not an on-policy run's save)")
    return [dict(np.load(f)) for f in files]


def real_transitions(episodes: list[dict], low: np.ndarray, high: np.ndarray) -> dict:
    """The real transitions as the run's replay holds them (actions in the module's [-1, 1])."""
    act = np.concatenate([e["actions"] for e in episodes])
    return {
        "obs": np.concatenate([e["observations"][:-1] for e in episodes]),
        "act": module_actions(act, low, high),
        "rew": np.concatenate([e["rewards"] for e in episodes]),
        "nobs": np.concatenate([e["observations"][1:] for e in episodes]),
    }


def critic_q(module, data: dict) -> np.ndarray:
    q1, q2 = _critic(module, "qf"), _critic(module, "qf_twin")
    x = torch.cat(
        [torch.as_tensor(data["obs"], dtype=torch.float32),
         torch.as_tensor(data["act"], dtype=torch.float32)],
        dim=-1,
    )  # fmt: skip
    with torch.no_grad():
        return torch.minimum(q1(x), q2(x)).squeeze(-1).numpy()


def describe(data: dict, q: np.ndarray, fastest: np.ndarray, stopped: int | None) -> dict:
    """Figures of one set of transitions; ``speeds`` [n, nv] of the states reached."""
    speed = data["speeds"]
    too_fast = (speed > fastest).any(axis=1)
    return {
        "transitions": len(speed),
        "branches_stopped": stopped,
        "share_faster_than_real": float(too_fast.mean()),
        "max_speed": float(speed.max()),
        "max_speed_real": float(fastest.max()),
        "reward_mean": float(data["rew"].mean()),
        "reward_max": float(data["rew"].max()),
        "reward_mean_where_faster": float(data["rew"][too_fast].mean()) if too_fast.any() else None,
        "q_median": float(np.median(q)),
        "q_min": float(q.min()),
        "q_max": float(q.max()),
        "q_share_outside_0_100": float(((q < 0) | (q > 100)).mean()),
    }


def branches(env: ImaginedVecEnv, module, pool: ResetPool, length: int, n: int, seed: int):
    """``n`` branches (in batches of the env's size): their kept transitions, with the joint
    speeds of the states they reach, and how many branches stopped early."""
    roll = BranchRollouts(env, length, seed=seed)
    parts, stopped = [], 0
    for _ in range(n // env.num_envs):
        parts.append(roll(module, pool))
        stopped += roll.last_stopped
    data = {k: np.concatenate([p[k] for p in parts]) for k in ("obs", "act", "rew", "nobs")}
    data["speeds"] = np.abs(data["nobs"][:, -env.spec_.nv :])
    return data, stopped


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--margin", type=float, default=2.0)
    p.add_argument("--branches", type=int, default=2048)
    p.add_argument("--branch-length", type=int, default=20)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for run in args.runs:
        save = run / "checkpoint" if (run / "checkpoint").is_dir() else run
        if not (save / "trainer" / "model").is_dir():
            print(f"error: {run}: not an on-policy run's save", file=sys.stderr)
            return 2
        model = WorldModel.load(save / "trainer" / "model")
        spec = get_spec(model.task)
        low, high = (np.asarray(b, np.float64) for b in spec.action_bounds)
        module = RLlibPolicy(save, low, high).module
        episodes = real_episodes(save)
        states = np.concatenate([e["states"] for e in episodes]).astype(np.float64)
        contexts = np.concatenate([e["contexts"] for e in episodes]).astype(np.float64)
        pool = ResetPool(states, contexts)
        fastest = np.abs(states[:, spec.nq :]).max(axis=0)
        real = real_transitions(episodes, low, high)
        qvel = np.concatenate([e["states"][1:] for e in episodes])[:, spec.nq :]
        real["speeds"] = np.abs(qvel)
        if not np.allclose(real["nobs"][:, -spec.nv :], qvel, atol=1e-5):
            print(
                f"error: {model.task}: its observation does not end with the joint velocities; "
                "this benchmark reads them there",
                file=sys.stderr,
            )
            return 2
        row = {
            "run": str(run),
            "task": model.task,
            "save_hash": folder_hash(save / "trainer" / "model"),
            "real_states": len(states),
            "real": describe(real, critic_q(module, real), fastest, None),
        }
        for name, margin in (("unscreened", None), (f"margin_{args.margin:g}", args.margin)):
            env = ImaginedVecEnv(model, num_envs=args.batch, time_limit=args.branch_length)
            if margin is not None:
                env.velocity_bounds = pool.velocity_bounds(spec.nq, margin)
            data, stopped = branches(env, module, pool, args.branch_length, args.branches, seed=0)
            row[name] = describe(data, critic_q(module, data), fastest, stopped)
        rows.append(row)
        print(
            f"{run}: critic's Q median {row['real']['q_median']:.3g} on real transitions; "
            + ", ".join(
                f"{k}: {row[k]['share_faster_than_real']:.1%} faster than real"
                for k in row
                if k.startswith(("unscreened", "margin"))
            )
        )
    result = {
        "provenance": provenance(),
        "margin": args.margin,
        "branches": args.branches,
        "branch_length": args.branch_length,
        "runs": rows,
    }
    if args.json:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
