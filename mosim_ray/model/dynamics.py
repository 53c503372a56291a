"""ODE dynamics models: MoSim (rigid-body predictor + correctors) and the structure-free network
(the ensemble and constant-state baselines are in ``baselines.py``); ``build_dynamics`` builds any.

Every model maps (state [B, D], action [B, U]) to the state one control step later, in raw MuJoCo
units, and trains with ``loss`` on segments (states [B, H+1, D], actions [B, H, U]). Every action
reaches the networks through ``norm.action``, which clamps it to the control range as MuJoCo does,
so ``step``, ``rollout`` and ``member_rollouts`` all take out-of-range actions as MuJoCo would.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn
from torchdiffeq import odeint

from mosim_ray.model.actuation import KnownPhysics
from mosim_ray.model.base import DynamicsModel, Step
from mosim_ray.model.baselines import ConstantDynamics, EnsembleDynamics
from mosim_ray.model.config import ModelConfig
from mosim_ray.model.contacts import ContactFeatures
from mosim_ray.model.coriolis import coriolis_of
from mosim_ray.model.integrators import resolve_method, rk4
from mosim_ray.model.joint_limits import JointLimits
from mosim_ray.model.nets import MLP, ResNet, count_parameters
from mosim_ray.tasks.spec import TaskSpec

__all__ = ["DynamicsModel", "Step", "build_dynamics"]


class ODEDynamics(DynamicsModel):
    """A second-order neural ODE: dq/dt from qdot (quaternion-aware), d(qdot)/dt learned."""

    def __init__(self, spec: TaskSpec, config: ModelConfig):
        super().__init__(spec, config)
        self.solver_fallbacks = 0
        self.method, self.substeps = resolve_method(spec, config)
        self.limits = JointLimits(spec) if config.joint_limits else None

    def prepare_action(self, action: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-step work on the (held) action, done once per control step, not per evaluation."""
        return {"a": self.norm.action(action)}

    def acceleration(self, q, qdot, act: dict[str, torch.Tensor]) -> torch.Tensor:
        """d(qdot)/dt [B, nv]."""
        raise NotImplementedError

    def step(self, state, action):
        nq = self.spec.nq
        act = self.prepare_action(action)
        if self.method == "symplectic":
            # MuJoCo's semi-implicit Euler: velocity first, then position from the new velocity.
            # Matching the data's own discretization removes a per-step error of dt^2/2 * acc in q
            # that no learned field can undo when dq/dt = qdot is fixed.
            h = self.dt / self.substeps
            q, qdot = state[:, :nq], state[:, nq:]
            for _ in range(self.substeps):
                qdot = qdot + h * self.acceleration(q, qdot, act)
                q = self.layout.normalize_quaternions(q + h * self.layout.qpos_derivative(q, qdot))
                if self.limits is not None:
                    q, qdot = self.limits(q, qdot)
            return torch.cat([q, qdot], dim=-1)

        def field(y):
            q, qdot = y[:, :nq], y[:, nq:]
            return torch.cat(
                [self.layout.qpos_derivative(q, qdot), self.acceleration(q, qdot, act)], -1
            )

        if self.method == "rk4":  # torchdiffeq's fixed-grid rk4, bit for bit, minus its setup
            y = rk4(field, state, self.dt, self.substeps)
        elif self.method == "dopri5":
            y = self._dopri5(field, state)
        else:
            t = torch.tensor([0.0, self.dt], dtype=state.dtype, device=state.device)
            fixed = {"step_size": self.dt / self.substeps}
            y = odeint(lambda t, y: field(y), state, t, method=self.method, options=fixed)[-1]
        q, qdot = self.layout.normalize_quaternions(y[:, :nq]), y[:, nq:]
        if self.limits is not None:
            q, qdot = self.limits(q, qdot)
        return torch.cat([q, qdot], dim=-1)

    def physics_step_twin(self) -> ODEDynamics:
        """A copy of this model whose ``step`` spans one MuJoCo step (``spec.physics_dt``), the
        action held, instead of one control step: the same learned field over a shorter time.
        Its solver step stays this model's where a control step holds whole physics steps of it
        (MuJoCo's own scheme and substeps, the default: then one physics step is one of this
        model's substeps, bit for bit), else it is one physics step."""
        twin = copy.deepcopy(self)
        spec, k = self.spec, self.spec.physics_substeps
        twin.spec = dataclasses.replace(spec, control_dt=spec.physics_dt)
        twin.dt = spec.physics_dt
        twin.substeps = self.substeps // k if self.substeps % k == 0 else 1
        return twin

    def _dopri5(self, field, state: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        t = torch.tensor([0.0, self.dt], dtype=state.dtype, device=state.device)
        try:
            return odeint(
                lambda t, y: field(y),
                state,
                t,
                method="dopri5",
                rtol=cfg.rtol,
                atol=cfg.atol,
                options={"max_num_steps": cfg.max_solver_steps},
            )[-1]
        except AssertionError:  # step cap reached (stiff state): fall back, never hang
            self.solver_fallbacks += 1
            return rk4(field, state, self.dt, self.substeps)


class MoSimDynamics(ODEDynamics):
    """d(qdot)/dt = Minv(q) [b(q, qdot) + tau(a)] + sum_k corrector_k(s, a).

    Minv = S (L L^T + eps I) S with L lower-triangular with a positive diagonal (softplus) and S a
    fixed diagonal scale, so Minv is symmetric positive definite for every input. tau(a) is an MLP
    of the action (S from the data), or with ``actuation: known`` the force MuJoCo applies, with
    its damping and soft limits where asked (``model/actuation.py``: S from MuJoCo's qpos0).
    """

    EPS = 1e-3

    def __init__(self, spec: TaskSpec, config: ModelConfig):
        super().__init__(spec, config)
        n, size = spec.nv, config.net_size
        fq, fs = self.layout.q_feature_dim, self.layout.state_feature_dim
        self.pos_encoder = ResNet(max(fq, 1), n * (n + 1) // 2, size.pos_blocks, size.pos_width)
        self.state_encoder = ResNet(fs, n, size.state_blocks, size.state_width)
        self.known_actuation = config.actuation == "known"
        if self.known_actuation:
            h = self.dt / self.substeps if self.method == "symplectic" else None
            self.known = KnownPhysics(spec, config, h)
        else:
            self.action_encoder = MLP(spec.nu, n, size.action_layers, size.action_width)
        self.coriolis = config.coriolis
        if self.coriolis and spec.nq != spec.nv:
            raise ValueError(
                f"task {spec.name!r}: coriolis needs positions that are the generalized "
                "coordinates (hinge and slide joints only; this task has quaternions)"
            )
        # with contact features, the correctors also see where each end-sphere is against the floor
        self.contacts = ContactFeatures(spec) if config.contact_features else None
        fc = fs + spec.nu + (self.contacts.out_dim if self.contacts is not None else 0)
        self.correctors = nn.ModuleList(
            ResNet(fc, n, size.corrector_blocks, size.corrector_width, out_scale=1e-2)
            for _ in range(config.n_correctors)
        )
        self.register_buffer("active_correctors", torch.tensor(config.n_correctors))
        rows, cols = torch.tril_indices(n, n)
        self.register_buffer("diag_mask", (rows == cols), persistent=False)
        # where the network's flat output goes in a row-major [nv, nv]
        self.register_buffer("tril_flat", rows * n + cols, persistent=False)
        self.register_buffer("eye", torch.eye(n), persistent=False)

    def physics_step_twin(self) -> MoSimDynamics:
        twin = super().physics_step_twin()
        if self.known_actuation and twin.known.implicit_h is not None:
            twin.known.implicit_h = twin.dt / twin.substeps  # damping is implicit per solver step
        return twin

    def minv(self, q: torch.Tensor) -> torch.Tensor:
        """Inverse mass matrix [B, nv, nv], symmetric positive definite."""
        return self._minv(self.norm.q_features(q) if self.layout.q_feature_dim else None, len(q))

    def _minv(self, xq: torch.Tensor | None, batch: int) -> torch.Tensor:
        """``minv`` from the normalized position features xq [B, Fq] (None: there are none)."""
        n = self.spec.nv
        flat = self.pos_encoder(xq if xq is not None else self.eye.new_zeros(batch, 1))
        # softplus(x + 0.5413) = 1 at x = 0: a fresh model starts near the identity. (Computed on
        # every entry, not the diagonal only: a vectorized kernel's result can depend on where in
        # the tensor a value sits, and predictions stay bit for bit what they were.)
        flat = torch.where(self.diag_mask, nn.functional.softplus(flat + 0.5413) + self.EPS, flat)
        L = flat.new_zeros(batch, n * n).index_copy(1, self.tril_flat, flat).view(batch, n, n)
        s = self.known.minv_scale if self.known_actuation else self.norm.acc_std.sqrt()
        m = s[:, None] * (L @ L.transpose(1, 2) + self.EPS * self.eye) * s[None, :]
        return 0.5 * (m + m.transpose(1, 2))  # exactly symmetric in floating point too

    def coriolis_force(self, q: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
        """c(q, qdot) [B, nv]: the Coriolis and centrifugal forces of the learned mass matrix
        (``model/coriolis.py``), in the units of ``tau``."""
        return coriolis_of(lambda p: torch.linalg.inv(self.minv(p)), q, qdot)

    def prepare_action(self, action):
        a = self.norm.action(action)
        if self.known_actuation:
            return {
                "a": a,
                "tau": self.known.tau(action, self.norm.action_low, self.norm.action_high),
            }
        return {"a": a, "tau": self.action_encoder(a)}

    def acceleration(self, q, qdot, act):
        x = self.norm.state_features(q, qdot)
        # the position features are the first columns of the state features, bit for bit
        xq = x[:, : self.layout.q_feature_dim].contiguous() if self.layout.q_feature_dim else None
        force = self.state_encoder(x) + act["tau"]
        if self.known_actuation and self.known.has_passive:
            force = force + self.known.passive(q, qdot)
        if self.coriolis:
            force = force - self.coriolis_force(q, qdot)
        minv = self._minv(xq, len(q))
        acc = (minv @ force.unsqueeze(-1)).squeeze(-1)
        k = int(self.active_correctors)
        if k:
            xa = torch.cat([x, act["a"]], dim=-1)
            if self.contacts is not None:
                xa = torch.cat([xa, self.contacts(q, qdot)], dim=-1)
            corr = self.correctors[0](xa)
            for c in self.correctors[1:k]:
                corr = corr + c(xa)
            acc = acc + self.norm.acc_std * corr
        return self.known.finish(q, qdot, acc, minv) if self.known_actuation else acc

    @property
    def stages(self) -> int:
        return 1 + len(self.correctors)

    def predictor_modules(self) -> list[nn.Module]:
        encoders = [self.pos_encoder, self.state_encoder]
        return encoders if self.known_actuation else [*encoders, self.action_encoder]

    def stage_parameters(self, stage: int) -> list[nn.Parameter]:
        """Stage 1: the predictor; stage k > 1: corrector k-1 only."""
        if not 1 <= stage <= self.stages:
            raise ValueError(f"stage must be in 1..{self.stages}, got {stage}")
        if stage == 1:
            return [p for m in self.predictor_modules() for p in m.parameters()]
        return list(self.correctors[stage - 2].parameters())

    def set_stage(self, stage: int | None) -> None:
        """Use the predictor and the correctors of earlier stages (``None``: everything)."""
        self.active_correctors.fill_(len(self.correctors) if stage is None else stage - 1)


class StructureFreeDynamics(ODEDynamics):
    """The ablation: d(qdot)/dt from one ResNet on (s, a), about MoSim's parameter count."""

    def __init__(self, spec: TaskSpec, config: ModelConfig):
        super().__init__(spec, config)
        fs = self.layout.state_feature_dim
        target = count_parameters(MoSimDynamics(spec, config))
        blocks = 6
        width = 16
        while count_parameters(ResNet(fs + spec.nu, spec.nv, blocks, width + 8)) <= target:
            width += 8
        self.net = ResNet(fs + spec.nu, spec.nv, blocks, width)

    def acceleration(self, q, qdot, act):
        x = torch.cat([self.norm.state_features(q, qdot), act["a"]], dim=-1)
        return self.norm.acc_std * self.net(x)


MODEL_CLASSES: dict[str, type[DynamicsModel]] = {
    "mosim": MoSimDynamics,
    "structure_free": StructureFreeDynamics,
    "ensemble": EnsembleDynamics,
    "constant": ConstantDynamics,
}


def build_dynamics(spec: TaskSpec, config: ModelConfig) -> DynamicsModel:
    if config.task != spec.name:
        raise ValueError(f"model config is for task {config.task!r}, spec is {spec.name!r}")
    return MODEL_CLASSES[config.kind](spec, config)
