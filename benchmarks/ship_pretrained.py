"""Ship the equal-budget models of a task as ``mosim_ray/pretrained/<task>`` (MoSim with the MJCF's
physics) and ``mosim_ray/pretrained/<task>-structure_free``: seed 0 of
``model_mosim_joint_training_mjcf_physics_<task>`` and of ``model_structure_free_<task>``, the
same 50k real random steps and the same gradient steps each (10,000; 3,000 on walker-walk),
whose errors BENCHMARKS.md's equal-budget table reports.

    python benchmarks/ship_pretrained.py reacher-easy cheetah-run   # trains a missing seed 0 first
    python benchmarks/ship_pretrained.py --check                    # shipped files = manifest

The weights are copied byte for byte; the config is the run's, its task spec written by this
version (``TaskSpec.to_json``). ``mosim_ray/pretrained/manifest.json`` records, per shipped name,
the experiment, its seed file and the weights' SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "mosim_ray" / "pretrained"
MANIFEST = PRETRAINED / "manifest.json"
SEED = 0


def experiments(task: str) -> dict[str, str]:
    """Shipped name -> the experiment whose seed 0 it is."""
    return {
        task: f"model_mosim_joint_training_mjcf_physics_{task}",
        f"{task}-structure_free": f"model_structure_free_{task}",
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ship(name: str, experiment: str) -> dict[str, str]:
    """Copy the experiment's seed-0 model to ``pretrained/<name>``; its manifest entry."""
    from mosim_ray.tasks.spec import TaskSpec

    source = ROOT / "runs" / "experiments" / experiment / f"seed{SEED}" / "run" / "model"
    result = Path("benchmarks") / "results" / experiment / f"seed{SEED}.json"
    if not (ROOT / result).is_file() or not (source / "weights.pt").is_file():
        raise FileNotFoundError(f"{experiment} seed {SEED}: no finished run at {source}")
    config = json.loads((source / "config.json").read_text())
    config["spec"] = TaskSpec.from_json(config["spec"]).to_json()
    data = config["info"].get("data", {})
    if "runs/" in data.get("path", ""):  # the machine's own folder: kept relative to the repository
        data["path"] = data["path"][data["path"].index("runs/") :]
    config["info"]["shipped_from"] = str(result)
    out = PRETRAINED / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copyfile(source / "weights.pt", out / "weights.pt")
    (out / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    return {
        "experiment": experiment,
        "seed_file": str(result),
        "weights_sha256": sha256(out / "weights.pt"),
    }


def check() -> list[str]:
    """Differences between the manifest and the shipped folders (empty when they agree)."""
    manifest = json.loads(MANIFEST.read_text())
    shipped = {p.name for p in PRETRAINED.iterdir() if (p / "config.json").is_file()}
    problems = [f"{n}: shipped, not in the manifest" for n in sorted(shipped - set(manifest))]
    problems += [f"{n}: in the manifest, not shipped" for n in sorted(set(manifest) - shipped)]
    for name in sorted(shipped & set(manifest)):
        entry = manifest[name]
        if sha256(PRETRAINED / name / "weights.pt") != entry["weights_sha256"]:
            problems.append(f"{name}: weights differ from the manifest's")
        if not (ROOT / entry["seed_file"]).is_file():
            problems.append(f"{name}: its seed file {entry['seed_file']} is missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("tasks", nargs="*", help="tasks to ship (both kinds of model each)")
    p.add_argument(
        "--check", action="store_true", help="compare the shipped files with the manifest"
    )
    args = p.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or f"shipped models match {MANIFEST.relative_to(ROOT)}")
        return 1 if problems else 0
    if not args.tasks:
        p.error("name at least one task, or --check")
    sys.path.insert(0, str(ROOT))
    wanted = {n: e for task in args.tasks for n, e in experiments(task).items()}
    for experiment in wanted.values():
        if not (ROOT / "benchmarks" / "experiments" / f"{experiment}.yaml").is_file():
            print(f"error: no experiment {experiment} (benchmarks/experiments/)", file=sys.stderr)
            return 2
    run = [sys.executable, "benchmarks/run.py", *wanted.values(), "--seeds", str(SEED)]
    if subprocess.run(run, cwd=ROOT).returncode:
        return 1
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    for name, experiment in wanted.items():
        manifest[name] = ship(name, experiment)
        print(f"shipped pretrained/{name} from {experiment} seed {SEED}")
    MANIFEST.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
