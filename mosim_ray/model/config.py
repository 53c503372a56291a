"""Model configuration: which dynamics model, how big, and how it is integrated."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_KINDS = ("mosim", "structure_free", "ensemble", "constant")
METHODS = ("auto", "symplectic", "rk4", "euler", "dopri5")
ACTUATIONS = ("learned", "known")


@dataclass(frozen=True)
class NetSize:
    pos_blocks: int
    pos_width: int
    state_blocks: int
    state_width: int
    action_layers: int
    action_width: int
    correctors: int
    corrector_blocks: int
    corrector_width: int


# The paper's appendix, table "Model Size".
SIZES: dict[str, NetSize] = {
    "small": NetSize(3, 64, 3, 64, 1, 32, 1, 5, 64),
    "medium": NetSize(3, 64, 3, 64, 3, 32, 1, 5, 128),
    "large": NetSize(3, 128, 3, 128, 3, 128, 3, 5, 128),
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model's architecture (saved in every checkpoint)."""

    task: str
    kind: str = "mosim"
    """mosim | structure_free (ResNet acceleration, same integrator) | ensemble (MBPO-style MLPs)
    | constant (predicts that nothing moves)"""
    size: str = "small"
    """small | medium | large (the paper's appendix)"""
    correctors: int | None = None
    """number of correctors; None takes the size's (1 for small/medium, 3 for large)"""
    method: str = "auto"
    """ODE solver over one control step: symplectic (semi-implicit Euler, MuJoCo's own scheme) |
    rk4 | euler | dopri5 (torchdiffeq) | auto: the scheme and step of the simulator that made the
    data (symplectic with MuJoCo's substeps when MuJoCo integrates with Euler, else rk4)"""
    substeps: int | None = None
    """fixed-step solvers: solver steps per control step (None: MuJoCo's substeps for auto and
    symplectic, 1 otherwise)"""
    joint_limits: bool = False
    """stop limited hinge and slide joints at their MJCF range (widened to the training data's
    extremes: MuJoCo's limits are soft) after every integration step: clamp, and zero the velocity
    pointing further out; mosim and structure_free (``model/joint_limits.py``)"""
    soft_limits: bool = False
    """mosim: push limited joints back as MuJoCo's soft limit constraint does, through the learned
    Minv, with the MJCF's solref, solimp and margin (``model/soft_limits.py``); exact given the
    true Minv and unconstrained acceleration, where ``joint_limits`` is a hard stop; needs
    ``actuation: known``"""
    known_damping: bool = False
    """mosim: the MJCF's joint damping as MuJoCo applies it (a force -damping * qdot, integrated
    implicitly where MuJoCo's Euler does, ``model/damping.py``) besides the learned forces; needs
    ``actuation: known``"""
    known_stiffness: bool = False
    """mosim: the MJCF's joint springs as MuJoCo applies them (a force -stiffness * (q -
    reference), ``TaskSpec.joint_stiffness``) besides the learned forces; needs ``actuation:
    known``"""
    contact_features: bool = False
    """mosim: the correctors also see, per capsule end-sphere that can touch the floor, its gap to
    the floor, a soft touch indicator and its velocity, by forward kinematics from the MJCF
    (``model/contacts.py``); planar robots over a floor only (cheetah, hopper, walker)"""
    coriolis: bool = False
    """mosim: the Coriolis and centrifugal forces computed from the learned mass matrix
    (``Minv(q)^-1``, its Christoffel symbols: ``model/coriolis.py``) and subtracted from the
    learned force, so the model is quadratic in qdot as rigid bodies are; hinge and slide
    joints only"""
    actuation: str = "learned"
    """mosim's tau(a): learned (an MLP of the action, the paper's) | known (the generalized force
    MuJoCo applies, ``gear * gain * ctrl`` on each motor's joint, read from the MJCF: zero on
    unactuated dofs, linear in the clamped action; needs ``TaskSpec.actuator_moments``)"""
    rtol: float = 1e-4
    atol: float = 1e-5
    max_solver_steps: int = 64
    """dopri5: cap on steps per control step; past it the step is redone with fixed-step rk4"""
    ensemble_members: int = 5
    ensemble_width: int = 200
    ensemble_layers: int = 4

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; known: {', '.join(MODEL_KINDS)}")
        if self.size not in SIZES:
            raise ValueError(f"unknown model size {self.size!r}; known: {', '.join(SIZES)}")
        if self.method not in METHODS:
            raise ValueError(f"unknown ODE method {self.method!r}; known: {', '.join(METHODS)}")
        if self.actuation not in ACTUATIONS:
            raise ValueError(
                f"unknown actuation {self.actuation!r}; known: {', '.join(ACTUATIONS)}"
            )
        options = {
            "actuation: known": self.actuation == "known",
            "soft_limits": self.soft_limits,
            "known_damping": self.known_damping,
            "known_stiffness": self.known_stiffness,
            "contact_features": self.contact_features,
            "coriolis": self.coriolis,
        }
        used = [name for name, on in options.items() if on]
        if used and self.kind != "mosim":
            raise ValueError(
                f"{', '.join(used)}: mosim options (they act through its learned Minv), "
                f"not {self.kind}'s"
            )
        if self.soft_limits and self.joint_limits:
            raise ValueError("soft_limits replaces joint_limits' hard stops: use one of the two")
        for name in ("soft_limits", "known_damping", "known_stiffness"):
            if getattr(self, name) and self.actuation != "known":
                raise ValueError(
                    f"{name} needs actuation: known (the law is in physical units of force, "
                    "which only the known actuation gives the learned Minv)"
                )
        if (self.substeps is not None and self.substeps < 1) or self.max_solver_steps < 1:
            raise ValueError("substeps and max_solver_steps must be >= 1")
        if self.correctors is not None and self.correctors < 0:
            raise ValueError(f"correctors must be >= 0, got {self.correctors}")

    @property
    def net_size(self) -> NetSize:
        return SIZES[self.size]

    @property
    def n_correctors(self) -> int:
        return self.net_size.correctors if self.correctors is None else self.correctors
