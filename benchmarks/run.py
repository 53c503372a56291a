"""Run experiments' missing seeds: ``benchmarks/experiments/<name>.yaml`` ->
``benchmarks/results/<name>/seed<N>.json``.

    python benchmarks/run.py sac_cheetah-run                 # every seed the file lists
    python benchmarks/run.py sac_cheetah-run --seeds 0-2     # a range (or a list: 0,3,4)
    python benchmarks/run.py sac_cheetah-run --jobs 2        # two seeds side by side (1 thread each)
    python benchmarks/run.py sac_cheetah-run --pause-at 40000   # each seed to its save at 40k
    python benchmarks/run.py sac_reacher-hard sac_cheetah-run --jobs 2   # several, in order
    python benchmarks/run.py sac_cheetah-run --status        # what is left; runs nothing
    python benchmarks/run.py --status                        # a line for every experiment

Stop it at any time (Ctrl-C or SIGTERM); the same command goes on (finished seeds skipped,
built inputs reused, a seed's unfinished run started again); a seed another process is running
is skipped with a message (exit status 1). Commit finished seed files as they land. A long
seed keeps ``benchmarks/results/<name>/partial/seed<N>.json`` (its curve to its last save) on the
way, which the report counts at the step counts it has passed; ``--pause-at`` stops each seed once that file
holds an evaluation at or past the count, to take every seed to 40k before any goes to 100k.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_seeds(text: str) -> list[int]:
    """``0-4`` or ``0,2`` or both (``0-2,7``) -> the seeds in order."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        if not (lo.isdigit() and (hi.isdigit() or not sep)) or (sep and int(hi) < int(lo)):
            raise ValueError(f"--seeds: {part!r} is not a seed or a range (e.g. 0-4 or 0,2)")
        seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    return seeds


def print_every_status() -> int:
    """One line per experiment file: how many of its seeds are finished, on their way, not
    started."""
    from mosim_ray.config import ConfigError
    from mosim_ray.experiments.spec import load_experiment
    from mosim_ray.experiments.status import status

    for path in sorted((HERE / "experiments").glob("*.yaml")):
        try:
            exp = load_experiment(path)
        except (ConfigError, ValueError) as e:
            print(f"{path.stem}: cannot be read: {e}")
            continue
        print(status(exp, list(exp.seeds)).splitlines()[0])
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "names", nargs="*", help="experiment names (files in benchmarks/experiments/), in order"
    )
    p.add_argument(
        "--seeds", default=None, help="seeds to run, e.g. 0-4 or 0,2 (default: each file's)"
    )
    p.add_argument("--jobs", type=int, default=1, help="seeds run side by side, one thread each")
    p.add_argument("--threads", type=int, default=None, help="torch threads of each run")
    p.add_argument(
        "--pause-at",
        type=int,
        default=None,
        help="stop each seed at its first save that holds an evaluation at or past this many "
        "real steps (the same command without it goes on from there)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--status",
        action="store_true",
        help="run nothing; say per seed what is finished, on its way (and whether its run is on "
        "this machine to go on from) or not started, and what finished seeds took",
    )
    args = p.parse_args(argv)
    import os

    os.chdir(HERE.parent)  # experiment files name run files relative to the repository
    from mosim_ray.config import ConfigError
    from mosim_ray.experiments.runner import SeedBusy, missing_seeds, run_seed
    from mosim_ray.experiments.spec import load_experiment
    from mosim_ray.experiments.status import status

    if args.pause_at is not None and args.pause_at < 1:
        print("error: --pause-at must be a positive number of real steps", file=sys.stderr)
        return 2
    if not args.names and not args.status:
        print("error: name an experiment (files in benchmarks/experiments/)", file=sys.stderr)
        return 2
    if not args.names:  # every experiment, its summary line
        return print_every_status()
    work = []  # (experiment, seed) in order
    try:
        for name in args.names:
            exp = load_experiment(HERE / "experiments" / f"{name}.yaml")
            seeds = parse_seeds(args.seeds) if args.seeds else list(exp.seeds)
            if args.status:
                print(status(exp, seeds))
                continue
            todo = missing_seeds(exp, seeds)
            print(
                f"{exp.name}: {len(seeds) - len(todo)} of {len(seeds)} seeds done; running {todo}"
            )
            work += [(exp, seed) for seed in todo]
    except (ConfigError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not work:
        return 0
    from mosim_ray.actors.ray_session import interrupt_on_sigterm, start_ray

    interrupt_on_sigterm()
    if args.jobs > 1 and len(work) > 1:
        return run_side_by_side([(e.name, s) for e, s in work], args.jobs, args.pause_at)
    try:
        start_ray()
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    command = " ".join(["python benchmarks/run.py", *(argv or sys.argv[1:])])
    skipped = 0
    for exp, seed in work:
        changes = {"threads": args.threads} if args.threads else None
        try:
            data = run_seed(
                exp,
                seed,
                progress=not args.no_progress,
                command=command,
                changes=changes,
                pause_at=args.pause_at,
            )
        except (FileExistsError, FileNotFoundError) as e:  # a run folder not as its files say
            print(f"error: {e}", file=sys.stderr)
            return 2
        except SeedBusy as e:  # the others go on; this one is the other process's
            print(f"skipped: {e}", file=sys.stderr)
            skipped += 1
            continue
        done = (
            f"{outcome(data)} ({data['wall_s']:.0f} s)"
            if data
            else "paused (its last save holds an evaluation past --pause-at)"
        )
        print(f"{exp.name} seed {seed}: {done}", flush=True)
    return 1 if skipped else 0


def outcome(data: dict) -> str:
    """A finished seed in a few words: its last evaluation, else its model's errors."""
    final = data.get("final") or {}
    if "return_mean" in final:
        return f"return {final['return_mean']:.1f} at {final['real_steps']:,} real steps"
    errors = {k: v for k, v in data.get("figures", {}).items() if k.startswith("mse_h")}
    return ", ".join(f"{k} {v:.4g}" for k, v in errors.items()) or "done"


def run_side_by_side(work: list[tuple[str, int]], jobs: int, pause_at: int | None) -> int:
    """(experiment, seed) pairs in ``jobs`` processes at once, each with one torch thread."""
    import time

    pending, running, failed = list(work), [], 0
    while pending or running:
        while pending and len(running) < jobs:
            name, seed = pending.pop(0)
            cmd = [
                sys.executable,
                __file__,
                name,
                "--seeds",
                str(seed),
                "--threads",
                "1",
                "--no-progress",
                *(["--pause-at", str(pause_at)] if pause_at is not None else []),
            ]
            running.append(subprocess.Popen(cmd))
        try:
            time.sleep(1)
        except KeyboardInterrupt:  # each seed stops at its own pace, its last save kept
            for proc in running:
                proc.terminate()
            for proc in running:
                proc.wait()
            raise
        for proc in [p for p in running if p.poll() is not None]:
            running.remove(proc)
            failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("stopped: the same command goes on from each seed's last save", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # a reader that closed early (``--status | head``): stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
