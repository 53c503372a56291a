"""Forward kinematics of a batch of states, for planar kinematic trees.

``PlanarKinematics`` reproduces MuJoCo's position stage (``mj_kinematics``: body frames, body
centres of mass, sites) and the subtree centre-of-mass velocity of ``mj_subtreeVel`` for N
states at once, in numpy, for trees of slide joints and hinges that all turn about one world
axis ``n`` (the planar robots of the suite: cheetah, walker, hopper, acrobot, reacher). Then
every body's rotation is a single angle about ``n``, the sum of the hinge angles above it, and
a frame costs a handful of array operations instead of a chain of 3x3 products.

Everything is read from the ``MjModel``. Models the formula does not cover (free or ball
joints, hinges about different axes, rotated bodies, mocap bodies) are refused, never given
wrong numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mujoco
import numpy as np

_SLIDE, _HINGE = int(mujoco.mjtJoint.mjJNT_SLIDE), int(mujoco.mjtJoint.mjJNT_HINGE)


@dataclass(frozen=True)
class Frames:
    """Body frames of N states, indexed by MuJoCo body id (0 is the world), component-major.

    cs[b]: [2, N] cos and sin of the body's rotation angle about the model's axis ``n``;
    xpos[b]: [3, N] frame origin (world); xipos: [nbody, 3, N] centres of mass (world);
    xanchor[j] (hinges) and xaxis[j] (slides): [3, N] joint anchor and axis (world).
    Component-major because numpy's inner loops then run over N, not over 3.
    """

    cs: list[np.ndarray]
    xpos: list[np.ndarray]
    xipos: np.ndarray
    xanchor: dict[int, np.ndarray]
    xaxis: dict[int, np.ndarray]


@dataclass(frozen=True)
class _Offset:
    """A fixed vector v of a body frame, split for R(t) v = [P v, K v] @ [cos t, sin t] + Q v."""

    turning: np.ndarray  # [3, 2]
    fixed: np.ndarray  # [3, 1]
    zero: bool


class PlanarKinematics:
    """Batched ``mj_kinematics`` and subtree COM velocity of a planar tree (see the module doc).

    ``model``: a ``mujoco.MjModel``; raises ``ValueError`` naming what is not covered.
    """

    def __init__(self, model: mujoco.MjModel, name: str = "model"):
        self.model, self.name = model, name
        self.nbody, self.njnt = int(model.nbody), int(model.njnt)
        self._check(model)
        hinges = [j for j in range(self.njnt) if int(model.jnt_type[j]) == _HINGE]
        n = np.asarray(model.jnt_axis[hinges[0]] if hinges else [0.0, 0.0, 1.0], dtype=float)
        self.normal = n / np.linalg.norm(n)
        self.sign: dict[int, float] = {}
        for j in hinges:
            cos = float(np.dot(model.jnt_axis[j], self.normal))
            if not np.isclose(abs(cos), 1.0, rtol=0, atol=1e-12):
                raise ValueError(
                    f"{name}: hinge {model.joint(j).name!r} turns about {model.jnt_axis[j]}, "
                    f"not about {self.normal} as the first hinge: not a planar tree"
                )
            self.sign[j] = float(np.sign(cos))
        # rotation by angle t about n: R(t) = cos t (I - n n^T) + sin t [n]x + n n^T
        nn = np.outer(self.normal, self.normal)
        self._cross = np.cross(np.eye(3), self.normal)  # row i: e_i x n, which makes [n]x
        self._basis = (np.eye(3) - nn, self._cross, nn)
        self._xmat_turning = np.stack([self._basis[0].ravel(), self._cross.ravel()], axis=1)
        self._xmat_fixed = nn.reshape(9, 1)
        self.mass = np.asarray(model.body_mass, dtype=np.float64).copy()
        self.parent = [int(p) for p in model.body_parentid]
        self.body_pos = [self.offset(v) for v in model.body_pos]
        ipos = [self.offset(v) for v in model.body_ipos]
        self._ipos_turning = np.stack([v.turning for v in ipos])
        self._ipos_fixed = np.stack([v.fixed for v in ipos])
        self.jnt_pos = [self.offset(v) for v in model.jnt_pos]
        self.jnt_axis = [self.offset(v) for v in model.jnt_axis]
        self.body_joints = [
            range(int(model.body_jntadr[b]), int(model.body_jntadr[b] + model.body_jntnum[b]))
            for b in range(self.nbody)
        ]
        self.qposadr = [int(a) for a in model.jnt_qposadr]
        self.qpos0 = [float(model.qpos0[a]) for a in model.jnt_qposadr]
        self._dofadr = np.asarray(model.jnt_dofadr, dtype=np.int64).copy()
        self._signs = np.array([self.sign.get(j, 0.0) for j in range(self.njnt)])
        self._terms: dict[int, tuple[np.ndarray, float, list[int], list[int]]] = {}

    def _check(self, model: mujoco.MjModel) -> None:
        for j in range(self.njnt):
            if int(model.jnt_type[j]) not in (_SLIDE, _HINGE):
                kind = mujoco.mjtJoint(int(model.jnt_type[j])).name
                raise ValueError(
                    f"{self.name}: joint {model.joint(j).name!r} is {kind}; "
                    f"planar kinematics covers hinge and slide joints only"
                )
        for b in range(1, self.nbody):
            if not np.array_equal(model.body_quat[b], [1.0, 0.0, 0.0, 0.0]):
                raise ValueError(
                    f"{self.name}: body {model.body(b).name!r} is rotated (quat "
                    f"{model.body_quat[b]}); planar kinematics assumes no body rotation"
                )
        if (np.asarray(model.body_mocapid) >= 0).any():
            raise ValueError(
                f"{self.name}: has mocap bodies; planar kinematics does not cover them"
            )

    def offset(self, v: np.ndarray) -> _Offset:
        """Split a fixed body-frame vector v [3] for ``rotate``."""
        p, k, q = (b @ np.asarray(v, dtype=np.float64) for b in self._basis)
        return _Offset(np.stack([p, k], axis=1), q[:, None], not np.any(v))

    @staticmethod
    def rotate(cs: np.ndarray, v: _Offset) -> np.ndarray:
        """R(angle) v [3, N] for angles given by cs = [cos, sin] [2, N]."""
        return v.turning @ cs + v.fixed

    def xmats(self, frames: Frames, bodies: Iterable[int]) -> np.ndarray:
        """[B, 9, N] rotations (body to world, MuJoCo's row-major ``xmat``) of ``bodies``."""
        cs = np.stack([frames.cs[b] for b in bodies])  # [B, 2, N]
        return self._xmat_turning @ cs + self._xmat_fixed

    # --- positions ---------------------------------------------------------------------------
    def frames(self, qpos: np.ndarray) -> Frames:
        """qpos: [N, nq] -> body frames, centres of mass and joint anchors of every state."""
        qpos_t = np.asarray(qpos, dtype=np.float64).T
        n = qpos_t.shape[1]
        angle, cs = [np.zeros(n)], [np.stack([np.ones(n), np.zeros(n)])]
        xpos = [np.zeros((3, n))]
        xanchor: dict[int, np.ndarray] = {}
        xaxis: dict[int, np.ndarray] = {}
        for b in range(1, self.nbody):
            parent = self.parent[b]
            t, c = angle[parent], cs[parent]
            pos = xpos[parent] + self.rotate(c, self.body_pos[b])
            for j in self.body_joints[b]:
                q = qpos_t[self.qposadr[j]]
                if self.qpos0[j]:
                    q = q - self.qpos0[j]
                jpos = self.jnt_pos[j]
                if j in self.sign:
                    anchor = pos if jpos.zero else pos + self.rotate(c, jpos)
                    t = t + q if self.sign[j] > 0 else t - q
                    c = np.empty((2, n))
                    np.cos(t, out=c[0])
                    np.sin(t, out=c[1])
                    # the body turns about the anchor, which stays where it was
                    pos = anchor if jpos.zero else anchor - self.rotate(c, jpos)
                    xanchor[j] = anchor
                else:
                    xaxis[j] = self.rotate(c, self.jnt_axis[j])
                    pos = pos + xaxis[j] * q
            angle.append(t)
            cs.append(c)
            xpos.append(pos)
        # every centre of mass in one batched product: [nbody, 3, 2] @ [nbody, 2, N]
        xipos = self._ipos_turning @ np.stack(cs) + self._ipos_fixed + np.stack(xpos)
        return Frames(cs, xpos, xipos, xanchor, xaxis)

    def site_xpos(self, frames: Frames, site: int) -> np.ndarray:
        """[3, N] world position of site ``site`` (id)."""
        b = int(self.model.site_bodyid[site])
        return frames.xpos[b] + self.rotate(frames.cs[b], self.offset(self.model.site_pos[site]))

    def geom_xpos(self, frames: Frames, geom: int) -> np.ndarray:
        """[3, N] world position of geom ``geom``'s frame (the centre of its bounding sphere)."""
        b = int(self.model.geom_bodyid[geom])
        return frames.xpos[b] + self.rotate(frames.cs[b], self.offset(self.model.geom_pos[geom]))

    # --- velocities --------------------------------------------------------------------------
    def subtree(self, body: int) -> np.ndarray:
        """bool [nbody]: ``body`` and its descendants."""
        inside = np.zeros(self.nbody, dtype=bool)
        inside[body] = True
        for b in range(body + 1, self.nbody):  # MuJoCo orders parents before children
            inside[b] = inside[self.parent[b]]
        return inside

    def _velocity_terms(self, body: int) -> tuple[np.ndarray, float, list[int], list[int]]:
        """[njnt, nbody] masses of the bodies each joint moves inside ``body``'s subtree, the
        subtree's mass, and the hinges and slides that move some of it."""
        if body not in self._terms:
            inside = self.subtree(body)
            total = float(self.mass[inside].sum())
            if total <= 0:
                raise ValueError(f"{self.name}: body {body}'s subtree has no mass")
            moved = np.stack([self.subtree(int(b)) & inside for b in self.model.jnt_bodyid])
            weights = moved * self.mass
            active = [j for j in range(self.njnt) if weights[j].sum() > 0]
            hinges = [j for j in active if j in self.sign]
            slides = [j for j in active if j not in self.sign]
            self._terms[body] = (weights, total, hinges, slides)
        return self._terms[body]

    def subtree_linvel(self, frames: Frames, qvel: np.ndarray, body: int) -> np.ndarray:
        """[3, N] velocity of the centre of mass of ``body``'s subtree (``data.subtree_linvel``).

        (1/M) sum_i m_i v_i over the subtree, summed joint by joint: joint j moves the part of
        the subtree inside its own body's subtree (mass M_j, first moment C_j = sum m_i c_i) by
        a_j M_j qdot_j (slide) or a_j x (C_j - M_j p_j) qdot_j (hinge at anchor p_j). Every
        hinge axis is +-n, so the hinge terms share one cross product.
        """
        qvel_t = np.asarray(qvel, dtype=np.float64).T
        weights, total, hinges, slides = self._velocity_terms(body)
        n = qvel_t.shape[1]
        moments = (weights @ frames.xipos.reshape(self.nbody, -1)).reshape(-1, 3, n)
        masses = weights.sum(axis=1)
        out = np.zeros((3, n))
        if hinges:
            arms = moments[hinges] - masses[hinges, None, None] * np.stack(
                [frames.xanchor[j] for j in hinges]
            )
            rates = qvel_t[self._dofadr[hinges]] * self._signs[hinges, None]  # [J, N]
            out += self._cross @ np.einsum("jn,jkn->kn", rates, arms)
        for j in slides:
            out += (masses[j] * qvel_t[self._dofadr[j]]) * frames.xaxis[j]
        return out / total
