"""GPU check of ``ModelTrainer``: does it train on ``device="cuda"``, how fast is a gradient step
there against the CPU, and does a checkpoint written from CUDA load back on the CPU.

    python benchmarks/trainer_gpu_check.py \\
        --data reacher-easy=.gpucheck/data/reacher-easy --data cheetah-run=.gpucheck/data/cheetah-run \\
        --model cheetah-run=.gpucheck/models/cheetah-run-bar7c

Nothing on the trainer path needs MuJoCo or dm_control, so this runs on a GPU machine without
them: a checkpoint (format 2) carries its task's ``TaskSpec`` and a shard's metadata its column
widths. A format-1 checkpoint needs ``python -m mosim_ray.model.upgrade_checkpoint DIR`` first,
where MuJoCo is installed.

Steps, per task: (1) one CUDA gradient step, and one CUDA prediction step with each integration
method (symplectic, rk4, dopri5) against the same step on the CPU; (2) seconds per gradient step of ``ModelTrainer.train`` (on-policy
settings: batch 256, horizon 16; sampling and the per-step loss read included) on CUDA, on the
CPU with all cores and with 1 thread (``--steps`` after ``--warmup``, each stopped early at
``--max-seconds``); (3) train on CUDA with a checkpoint folder, load the saved model back (on the
CPU, as ``WorldModel.load`` always does) and compare predictions; a CPU trainer resumes the folder.
Writes ``trainer_gpu_check.json`` to ``--out`` ($OUT if set, else benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

HEAVY = ("ray", "mujoco", "dm_control", "gymnasium", "zuko")


def methods_on_cuda(model_path: str) -> dict[str, float]:
    """Largest |CUDA - CPU| of one prediction step of 64 random states, per integration method."""
    from mosim_ray.model import WorldModel

    dyn = WorldModel.load(model_path).dynamics
    g = torch.Generator().manual_seed(0)
    state = torch.randn(64, dyn.spec.nq + dyn.spec.nv, generator=g) * 0.1
    action = torch.rand(64, dyn.spec.nu, generator=g) * 2 - 1
    out = {}
    for method in ("symplectic", "rk4", "dopri5"):
        dyn.method = method
        with torch.no_grad():
            cpu = dyn.cpu().step(state, action)
            gpu = dyn.cuda().step(state.cuda(), action.cuda()).cpu()
        out[method] = float((cpu - gpu).abs().max())
    return out


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def err(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


def make_trainer(model_path, data_path, device, checkpoint_dir=None):
    from mosim_ray.data import RolloutDataset
    from mosim_ray.model import WorldModel
    from mosim_ray.train import ContinualConfig, ModelTrainer

    cfg = ContinualConfig(batch_size=256, horizon=16, device=device)
    return ModelTrainer(
        WorldModel.load(model_path), RolloutDataset.open(data_path), cfg, checkpoint_dir
    )


def time_steps(model_path, data_path, device, threads, steps, warmup, max_seconds) -> dict:
    torch.set_num_threads(threads)
    trainer = make_trainer(model_path, data_path, device)
    t0 = time.perf_counter()
    trainer.train(warmup)
    sync(device)
    warm_s = time.perf_counter() - t0
    done, chunk, last = 0, 10, {}
    t0 = time.perf_counter()
    while done < steps and time.perf_counter() - t0 < max_seconds:
        last = trainer.train(min(chunk, steps - done))
        done += min(chunk, steps - done)
    sync(device)
    seconds = time.perf_counter() - t0
    # the sampler alone (CPU numpy + torch), part of every step above
    sampler, rng = trainer._segments(), np.random.default_rng(1)
    t1 = time.perf_counter()
    for _ in range(20):
        sampler.sample(256, rng)
    sample_s = (time.perf_counter() - t1) / 20
    return {
        "device": device,
        "threads": threads,
        "steps": done,
        "seconds": seconds,
        "s_per_step": seconds / done,
        "warmup_steps": warmup,
        "warmup_s": warm_s,
        "sample_s_per_batch": sample_s,
        "loss": last.get("loss"),
        "skipped": last.get("skipped"),
        "stopped_early": done < steps,
    }


def round_trip(model_path, data_path, device: str = "cuda") -> dict:
    from mosim_ray.model import WorldModel
    from mosim_ray.train import ContinualConfig, ModelTrainer

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(model_path, data_path, device, tmp)
        out["train"] = trainer.train(20)
        dyn = trainer.model.dynamics.eval()
        loaded = WorldModel.load(Path(tmp) / "model")  # map_location="cpu" inside
        out["loaded_param_device"] = str(next(loaded.dynamics.parameters()).device)
        out["params_bitwise_equal"] = all(
            torch.equal(p.detach().cpu(), q)
            for p, q in zip(dyn.state_dict().values(), loaded.dynamics.state_dict().values())
        )
        states, actions = trainer._segments().sample(256, np.random.default_rng(123))
        with torch.no_grad():
            pred_cuda = dyn.rollout(states[:, 0].to(device), actions.to(device)).cpu()
            pred_cpu = loaded.dynamics.rollout(states[:, 0], actions)
        diff = (pred_cuda - pred_cpu).abs()
        out["batch"] = list(states.shape)
        out["max_abs_diff_step1"] = float(diff[:, 0].max())
        out["max_abs_diff_h16"] = float(diff.max())
        out["max_abs_pred"] = float(pred_cpu.abs().max())
        out["matches_1e-4"] = bool(diff.max() <= 1e-4)
        state = torch.load(Path(tmp) / ModelTrainer.STATE, map_location="cpu", weights_only=False)
        out["trainer_state_loads_on_cpu"] = True
        out["opt_state_devices"] = sorted(
            {
                str(v.device)
                for s in state["opt"]["state"].values()
                for v in s.values()
                if torch.is_tensor(v)
            }
        )
        # a CPU trainer resumes the folder a CUDA trainer wrote
        resumed = ModelTrainer(
            WorldModel.load(model_path),
            None,
            ContinualConfig(batch_size=256, horizon=16, device="cpu"),
            tmp,
        )
        out["cpu_resume"] = {
            "version": resumed.version,
            "updates": resumed.updates,
            "episodes": len(resumed.episodes),
        }
        out["cpu_resume_train"] = resumed.train(1)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="reacher-easy,cheetah-run")
    p.add_argument("--model", action="append", default=[], help="task=checkpoint")
    p.add_argument("--data", action="append", default=[], help="task=shard folder")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--devices", default="cuda,cpu-all,cpu-1")
    p.add_argument("--out", default=os.environ.get("OUT") or str(Path(__file__).parent / "results"))
    args = p.parse_args()

    import mosim_ray.train  # noqa: F401  (the import check below)

    models = {"reacher-easy": "pretrained/reacher-easy", "cheetah-run": "pretrained/cheetah-run"}
    models.update(dict(s.split("=", 1) for s in args.model))
    data = dict(s.split("=", 1) for s in args.data)
    cores = os.cpu_count() or 1
    res: dict = {
        "host": platform.node(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_cores": cores,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "heavy_modules_imported_by_trainer": sorted(
            {m.split(".")[0] for m in sys.modules} & set(HEAVY)
        ),
        "settings": {
            "batch_size": 256,
            "horizon": 16,
            "steps": args.steps,
            "warmup": args.warmup,
            "max_seconds": args.max_seconds,
        },
        "tasks": {},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def write():
        (out / "trainer_gpu_check.json").write_text(json.dumps(res, indent=1))

    for task in args.tasks.split(","):
        r = res["tasks"][task] = {"model": models[task], "data": data.get(task)}
        if r["data"] is None:
            r["error"] = "no --data for this task"
            continue
        if torch.cuda.is_available():
            try:  # (1) one gradient step, and each integration method, on the GPU
                make_trainer(models[task], data[task], "cuda").train(1)
                r["cuda_train_step"] = "ok"
                r["cuda_methods_max_abs_diff"] = methods_on_cuda(models[task])
            except Exception as e:
                r["cuda_train_step"] = err(e)
                r["cuda_trace"] = traceback.format_exc().splitlines()[-8:]
                print(f"{task}: cuda FAILED: {err(e)}", flush=True)
            print(f"{task}: cuda {r['cuda_train_step']}, {r.get('cuda_methods_max_abs_diff')}")
        r["timing"] = {}
        for dev in args.devices.split(","):
            if dev == "cuda" and not torch.cuda.is_available():
                continue
            device, threads = ("cuda", cores) if dev == "cuda" else ("cpu", cores)
            if dev == "cpu-1":
                threads = 1
            try:
                t = time_steps(
                    models[task],
                    data[task],
                    device,
                    threads,
                    args.steps,
                    args.warmup,
                    args.max_seconds,
                )
                print(
                    f"{task} {dev:8s} {t['s_per_step']:.4f} s/step ({t['steps']} steps, "
                    f"loss {t['loss']:.4f})",
                    flush=True,
                )
            except Exception as e:
                t = {"error": err(e), "trace": traceback.format_exc().splitlines()[-8:]}
                print(f"{task} {dev}: FAILED {err(e)}", flush=True)
            r["timing"][dev] = t
            write()
            if dev == "cuda" and "error" not in t:
                try:
                    r["round_trip"] = round_trip(models[task], data[task])
                    print(f"{task} round trip: {r['round_trip']}", flush=True)
                except Exception as e:
                    r["round_trip"] = {
                        "error": err(e),
                        "trace": traceback.format_exc().splitlines()[-8:],
                    }
                    print(f"{task} round trip FAILED: {err(e)}", flush=True)
                write()
    write()

    print(f"\n{'task':14s} {'cpu-1':>10s} {'cpu-all':>10s} {'cuda':>10s}   (s per gradient step)")
    for task, r in res["tasks"].items():
        cells = []
        for dev in ("cpu-1", "cpu-all", "cuda"):
            t = r.get("timing", {}).get(dev, {})
            cells.append(f"{t['s_per_step']:.4f}" if "s_per_step" in t else "-")
        print(f"{task:14s} " + " ".join(f"{c:>10s}" for c in cells))
    print(f"wrote {out / 'trainer_gpu_check.json'}")


if __name__ == "__main__":
    main()
