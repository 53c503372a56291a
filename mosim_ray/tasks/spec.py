"""``TaskSpec``: the static facts of a task that data, models and environments need.

Pure data (numpy and the standard library only), so a checkpoint can carry its task's spec and be
loaded where MuJoCo is not installed. ``mosim_ray.tasks.get_spec`` reads a spec from MuJoCo itself.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# qpos entry kinds, used by models to embed angles and integrate quaternions.
FREE_POS, QUAT, HINGE_WRAP, HINGE, SLIDE = "free_pos", "quat", "hinge_wrap", "hinge", "slide"


SUITE_TIME_LIMIT = 1000
"""Control steps per episode of the dm_control suite tasks (their own 1000-step limit)."""


@dataclass(frozen=True)
class TaskSpec:
    """Static facts about a task, as needed by data, models and environments."""

    name: str
    nq: int
    nv: int
    nu: int
    control_dt: float
    physics_dt: float
    """MuJoCo's own time step (control_dt is a whole number of them)"""
    integrator: str
    """MuJoCo's integrator: euler (semi-implicit), rk4, implicit or implicitfast"""
    action_low: tuple[float, ...]
    action_high: tuple[float, ...]
    qpos_kinds: tuple[str, ...]
    """One of ``free_pos, quat, hinge_wrap, hinge, slide`` per qpos entry."""
    obs_keys: tuple[tuple[str, int], ...] = ()
    """Observation entries (name, size) in the fixed flattening order; empty for MJCF models."""
    translation_qpos: tuple[int, ...] = ()
    """qpos entries of horizontal root translation (free-joint x, y; root slide joints along a
    horizontal axis): the dynamics do not depend on them, so models leave them out of their inputs."""
    context_dim: int = 0
    has_reward: bool = True
    acc_stage_obs: tuple[str, ...] = ()
    has_termination: bool = False
    """Whether the task may end an episode before its time limit (terminated, not truncated: a
    Gymnasium hopper that fell); False promises it never does (every dm_control task)."""
    joint_ranges: tuple[tuple[int, int, float, float], ...] = ()
    """(qpos index, qvel index, low, high) of each limited hinge or slide joint, from the MJCF:
    the range MuJoCo's constraint keeps it in (``ModelConfig.joint_limits`` stops joints there)."""
    limit_softness: tuple[tuple[float, ...], ...] = ()
    """Per entry of ``joint_ranges``, how MuJoCo's soft limit constraint pushes back: (solref 0,
    solref 1, solimp 0..4, margin), solref's time constant already raised to twice the time step as
    MuJoCo does; empty when the model's limits are disabled (``ModelConfig.soft_limits`` needs
    them; its regulariser scales with the dof's ``dof_invweight0``)."""
    dof_invweight0: tuple[float, ...] = ()
    """[nv] MuJoCo's ``dof_invweight0``: the inverse mass matrix's diagonal at qpos0 (the scale a
    MoSim with known actuation starts its Minv at)."""
    dof_damping: tuple[float, ...] = ()
    """[nv] joint damping from the MJCF (force -damping * qdot); empty where there is none."""
    implicit_damping: bool = False
    """MuJoCo integrates that damping implicitly: semi-implicit Euler with ``eulerdamp``, the
    velocity step taken with (M + h diag(damping))^-1 in place of Minv."""
    joint_stiffness: tuple[tuple[int, int, float, float], ...] = ()
    """(qpos index, qvel index, stiffness, spring reference) of each hinge or slide joint with a
    spring in the MJCF: MuJoCo applies the force -stiffness * (qpos - reference) to its dof,
    explicitly (cheetah's legs). Springs of ball and free joints are not listed."""
    floor_contacts: tuple = ()
    """``(floor_z, bodies, points)`` of a planar robot over a floor plane: its kinematic tree and
    the end-spheres of its capsules that can touch the floor (``tasks/planar.py``), from which
    ``ModelConfig.contact_features`` computes each sphere's height and velocity; empty for other
    models."""
    actuator_moments: tuple[tuple[int, float], ...] = ()
    """(qvel index, generalized force per unit of control) of each actuator, in actuator order,
    when every actuator is a plain motor (one hinge or slide joint, no activation dynamics, a fixed
    gain, no bias, no force limit): MuJoCo then applies ``gear * gain * ctrl`` to that joint's dof.
    Empty otherwise (``ModelConfig.actuation: known`` needs them)."""

    @property
    def physics_substeps(self) -> int:
        return max(1, round(self.control_dt / self.physics_dt))

    @property
    def state_dim(self) -> int:
        return self.nq + self.nv

    @property
    def obs_dim(self) -> int:
        return sum(n for _, n in self.obs_keys) if self.obs_keys else self.state_dim

    @property
    def action_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.action_low), np.asarray(self.action_high)

    # --- JSON ------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Every field as plain JSON (lists for tuples); an unbounded action entry is ``null``,
        so the result stays strict JSON (no ``Infinity``). Fields added later (``_ADDED``) are
        written only when they differ from their default: a dm_control task's spec stays what
        earlier versions wrote and read (shipped checkpoints unchanged)."""
        d = dataclasses.asdict(self)
        for key in ("action_low", "action_high"):
            d[key] = [x if math.isfinite(x) else None for x in d[key]]
        for key, default in _ADDED.items():
            if d[key] == default:
                del d[key]
        return {k: _lists(v) for k, v in d.items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TaskSpec:
        """The spec ``to_json`` wrote (or ``dataclasses.asdict`` of one); raises ``ValueError``
        naming missing or unknown fields."""
        if not isinstance(d, dict):
            raise ValueError(f"a task spec must be a JSON object, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
        missing, unknown = sorted(required - set(d)), sorted(set(d) - set(fields))
        if missing or unknown:
            raise ValueError(
                f"task spec: missing fields {missing}, unknown fields {unknown}; "
                f"fields: {', '.join(fields)}"
            )
        v = {k: _tuples(x) for k, x in d.items()}
        # checkpoints of 2026-11-30 carried each limit's dof_invweight0 as a ninth field
        v["limit_softness"] = tuple(e[:_SOFTNESS_FIELDS] for e in v.get("limit_softness", ()))
        v["action_low"] = tuple(-math.inf if x is None else float(x) for x in v["action_low"])
        v["action_high"] = tuple(math.inf if x is None else float(x) for x in v["action_high"])
        if "obs_keys" in v:
            v["obs_keys"] = tuple((str(k), int(n)) for k, n in v["obs_keys"])
        return cls(**v)


FLOOR_SLIDE, FLOOR_HINGE = 0, 1
"""the joint kinds in ``floor_contacts``' bodies"""

_SOFTNESS_FIELDS = 8  # solref 0..1, solimp 0..4, margin

_ADDED = {
    "has_termination": False,
    "joint_ranges": (),
    "limit_softness": (),
    "dof_invweight0": (),
    "dof_damping": (),
    "implicit_damping": False,
    "joint_stiffness": (),
    "floor_contacts": (),
    "actuator_moments": (),
}
"""Fields added after checkpoint format 2, with the default ``to_json`` leaves out."""


def _lists(v: Any) -> Any:
    return [_lists(x) for x in v] if isinstance(v, (tuple, list)) else v


def _tuples(v: Any) -> Any:
    return tuple(_tuples(x) for x in v) if isinstance(v, (tuple, list)) else v
