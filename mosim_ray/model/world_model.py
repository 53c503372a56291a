"""``WorldModel``: the public face of a trained dynamics model (load, save, rollout, step).

A checkpoint is a directory::

    config.json   format version, task, dims, task spec, model config, normalization, weights
                  checksum, notes
    weights.pt    the state dict (torch.save; loaded with weights_only=True, on CPU)

Format 2 stores the task's full ``TaskSpec``, so loading and predicting need neither MuJoCo nor
dm_control. Format 1 (no spec) still loads where MuJoCo is installed, which supplies the spec;
``python -m mosim_ray.model.upgrade_checkpoint DIR...`` turns it into format 2.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mosim_ray.model.baselines import ConstantDynamics
from mosim_ray.model.config import ModelConfig
from mosim_ray.model.dynamics import DynamicsModel, ODEDynamics, build_dynamics
from mosim_ray.tasks.spec import TaskSpec

CHECKPOINT_FORMAT = 2
READABLE_FORMATS = (1, 2)
PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
STRUCTURE_FREE_SUFFIX = "-structure_free"
"""``pretrained/<task>-structure_free``: the baseline shipped beside ``pretrained/<task>``"""


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be loaded as asked; the message says why and where."""


class WorldModel:
    """A dynamics model of one task. States are ``concat(qpos, qvel)`` [.., nq+nv], raw units."""

    def __init__(self, dynamics: DynamicsModel, info: dict[str, Any] | None = None):
        self.dynamics = dynamics.eval()
        self.info = dict(info or {})

    @classmethod
    def create(cls, config: ModelConfig) -> WorldModel:
        """A fresh (untrained) model; fit its normalization with ``dynamics.norm.fit`` first.
        Reads the task's spec from MuJoCo."""
        from mosim_ray.tasks.registry import get_spec

        return cls(build_dynamics(get_spec(config.task), config))

    # --- properties ------------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.config.task

    @property
    def config(self) -> ModelConfig:
        return self.dynamics.config

    @property
    def spec(self) -> TaskSpec:
        return self.dynamics.spec

    # --- prediction ------------------------------------------------------------------------------
    def rollout(self, state0, actions):
        """state0 [B, nq+nv], actions [B, H, nu] (numpy or torch) -> predicted states [B, H, nq+nv]
        after each action, same type (and for numpy, same float dtype) as ``state0``.

        Actions are taken as MuJoCo takes them: clamped to the control range (``spec.action_low``
        / ``action_high``). A non-finite entry in either input raises ``ValueError``."""
        s, a, back = self._inputs(state0, actions, 3)
        with torch.inference_mode():
            out = self.dynamics.rollout(s, a)
        return back(out)

    def step(self, state, action):
        """state [B, nq+nv], action [B, nu] -> next state [B, nq+nv] (one control step); inputs
        as ``rollout`` takes them."""
        s, a, back = self._inputs(state, action, 2)
        with torch.inference_mode():
            out = self.dynamics.step(s, a)
        return back(out)

    def physics_steps(self) -> WorldModel:
        """This model stepping one MuJoCo step (``spec.physics_dt``) per ``step`` and per rollout
        step instead of one control step: the unit of the paper's prediction experiments on
        tasks whose control step holds several physics steps (hopper 4, walker 10). ODE models
        (mosim, structure_free) integrate their field over the shorter time; constant-state
        prediction is the same; an ensemble, which learned one control step's change, has no
        such reading (``ValueError``)."""
        dyn = self.dynamics
        if isinstance(dyn, ODEDynamics):
            return WorldModel(dyn.physics_step_twin(), self.info)
        if isinstance(dyn, ConstantDynamics):
            return self
        raise ValueError(
            f"a {self.config.kind} model predicts one control step's change; it has no "
            "physics-step reading (mosim, structure_free and constant have)"
        )

    def _inputs(self, state, action, action_ndim: int):
        d, u = self.spec.state_dim, self.spec.nu
        is_numpy = isinstance(state, np.ndarray)
        s = torch.as_tensor(np.asarray(state) if is_numpy else state)
        a = torch.as_tensor(np.asarray(action) if isinstance(action, np.ndarray) else action)
        if s.ndim != 2 or s.shape[1] != d:
            raise ValueError(f"{self.task}: state must be [B, {d}] (nq+nv), got {tuple(s.shape)}")
        if a.ndim != action_ndim or a.shape[0] != s.shape[0] or a.shape[-1] != u:
            want = f"[{s.shape[0]}, H, {u}]" if action_ndim == 3 else f"[{s.shape[0]}, {u}]"
            raise ValueError(f"{self.task}: actions must be {want}, got {tuple(a.shape)}")
        # before the float32 cast: a huge finite action is clamped, not reported as non-finite
        names = ("state0", "actions") if action_ndim == 3 else ("state", "action")
        for name, x in zip(names, (s, a)):
            self._check_finite(name, x)
        # outputs come back in the caller's float type (integers in, float32 out)
        dtype = s.dtype if s.dtype.is_floating_point else torch.float32
        device = s.device
        s, a = s.to(torch.float32), a.to(torch.float32)

        def back(out: torch.Tensor):
            out = out.to(dtype=dtype)
            if is_numpy:
                return out.numpy()
            # predictions run under inference_mode (no autograd bookkeeping at all); a tensor
            # handed back must be an ordinary one, that the caller may change or differentiate
            return (out.clone() if out.is_inference() else out).to(device=device)

        return s, a, back

    def _check_finite(self, name: str, x: torch.Tensor) -> None:
        if x.dtype.is_floating_point and not bool(torch.isfinite(x).all()):
            bad = int((~torch.isfinite(x)).sum())
            raise ValueError(
                f"{self.task}: {name} has {bad} non-finite entries (NaN or inf) out of "
                f"{x.numel()}; the model predicts from finite inputs only"
            )

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | Path, **info: Any) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(self.dynamics.state_dict(), buf)
        weights = buf.getvalue()
        self.info.update(info)
        config = {
            "format_version": CHECKPOINT_FORMAT,
            "task": self.task,
            "dims": {"nq": self.spec.nq, "nv": self.spec.nv, "nu": self.spec.nu},
            "control_dt": self.spec.control_dt,
            "spec": self.spec.to_json(),
            "model": dataclasses.asdict(self.config),
            "normalization": self.dynamics.norm.to_json(),
            "weights_sha256": hashlib.sha256(weights).hexdigest(),
            "info": self.info,
        }
        # weights first, config last: a config.json on disk always describes complete weights
        (path / "weights.pt.tmp").write_bytes(weights)
        (path / "weights.pt.tmp").replace(path / "weights.pt")
        write_config(path, config)
        return path

    @classmethod
    def load(cls, path: str | Path, task: str | None = None) -> WorldModel:
        """Load a checkpoint directory, or a shipped model by name (``pretrained/reacher-easy``).

        ``task``, if given, must be the checkpoint's task.
        """
        path = _resolve(path)
        cfg_file = path / "config.json"
        if not cfg_file.is_file():
            raise CheckpointError(f"{path}: not a model checkpoint (no config.json)")
        try:
            cfg = json.loads(cfg_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{cfg_file}: corrupt config ({e})") from e
        fmt = cfg.get("format_version")
        if fmt not in READABLE_FORMATS:
            raise CheckpointError(
                f"{path}: checkpoint format {fmt!r}, this version reads "
                f"{', '.join(map(str, READABLE_FORMATS))}"
            )
        if task is not None and cfg.get("task") != task:
            raise CheckpointError(
                f"{path}: checkpoint is a model of {cfg.get('task')!r}, not {task!r}"
            )
        try:
            config = ModelConfig(**cfg["model"])
            spec = TaskSpec.from_json(cfg["spec"]) if fmt >= 2 else _spec_from_mujoco(path, config)
            if spec.name != config.task:
                raise ValueError(f"spec is of task {spec.name!r}, model of {config.task!r}")
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{cfg_file}: invalid model config or task spec ({e!r})") from e
        dims = {"nq": spec.nq, "nv": spec.nv, "nu": spec.nu}
        if cfg.get("dims") != dims:
            raise CheckpointError(
                f"{path}: dims {cfg.get('dims')} do not match task {spec.name} {dims}"
            )
        wfile = path / "weights.pt"
        if not wfile.is_file():
            raise CheckpointError(f"{path}: weights.pt missing")
        raw = wfile.read_bytes()
        if hashlib.sha256(raw).hexdigest() != cfg.get("weights_sha256"):
            raise CheckpointError(
                f"{wfile}: corrupt weights (checksum differs from config.json: damaged file, or a "
                "save that was interrupted)"
            )
        dynamics = build_dynamics(spec, config)
        state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        try:
            dynamics.load_state_dict(state)
        except RuntimeError as e:
            raise CheckpointError(f"{wfile}: weights do not fit the model config ({e})") from e
        return cls(dynamics, cfg.get("info", {}))


def write_config(path: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` into checkpoint folder ``path`` atomically (temporary file, rename)."""
    (path / "config.json.tmp").write_text(json.dumps(config, indent=1))
    (path / "config.json.tmp").replace(path / "config.json")


def _spec_from_mujoco(path: Path, config: ModelConfig) -> TaskSpec:
    """The spec of a format-1 checkpoint's task, which only MuJoCo can tell."""
    try:
        from mosim_ray.tasks.registry import get_spec

        return get_spec(config.task)
    except ImportError as e:
        raise CheckpointError(
            f"{path}: a format-1 checkpoint stores no task spec and MuJoCo is not importable "
            f"here ({e}); upgrade it where MuJoCo is installed: "
            f"python -m mosim_ray.model.upgrade_checkpoint {path}"
        ) from e


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    if p.exists():
        return p
    parts = p.parts
    if parts and parts[0] == "pretrained":
        shipped = PRETRAINED_DIR.joinpath(*parts[1:])
        if shipped.exists():
            return shipped
        known = (
            sorted(d.name for d in PRETRAINED_DIR.glob("*") if d.is_dir())
            if PRETRAINED_DIR.exists()
            else []
        )
        raise CheckpointError(f"no shipped model {p}; shipped: {', '.join(known) or 'none'}")
    raise CheckpointError(f"no such checkpoint directory: {p}")


def shipped_model(task: str) -> str:
    """The shipped MoSim model of the task, or of another task of the same robot (reacher-hard);
    never a ``<task>-structure_free`` baseline."""
    names = sorted(
        p.name
        for p in PRETRAINED_DIR.iterdir()
        if (p / "config.json").is_file() and not p.name.endswith(STRUCTURE_FREE_SUFFIX)
    )
    same = [n for n in names if n == task] or [
        n for n in names if n.split("-")[0] == task.split("-")[0]
    ]
    if not same:
        raise ValueError(
            f"no shipped model for {task!r} (shipped: {', '.join(names)}); pass --checkpoint, a "
            f"model of the robot (pipelines/train.py --task {task} --collect-episodes 40 trains one)"
        )
    return f"pretrained/{same[0]}"
