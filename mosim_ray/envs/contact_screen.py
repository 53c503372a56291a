"""Which states of a batch may have a contact on given bodies: a numpy screen, never a false no.

MuJoCo creates a contact between two geoms only when their surfaces are closer than their
margins and its collision filters (contype/conaffinity, same or parent-child welded bodies)
let the pair through. The screen applies the same filters, and measures each remaining pair
exactly for spheres, capsules and planes (segment to segment, or lowest point above the
plane), other shapes by their bounding spheres (closer than they are: conservative).
"""

from __future__ import annotations

import mujoco
import numpy as np

from mosim_ray.envs.kinematics import Frames, PlanarKinematics

_PLANE = int(mujoco.mjtGeom.mjGEOM_PLANE)
_SPHERE, _CAPSULE = int(mujoco.mjtGeom.mjGEOM_SPHERE), int(mujoco.mjtGeom.mjGEOM_CAPSULE)
# a contact appears once surfaces are closer than the margins: keep a little more room
_SLACK = 1e-6


def may_collide(m: mujoco.MjModel, g: int, h: int) -> bool:
    """Whether MuJoCo's collision filters let geoms g and h collide (as ``mj_collision``)."""
    if not (m.geom_contype[g] & m.geom_conaffinity[h] or m.geom_contype[h] & m.geom_conaffinity[g]):
        return False
    weld_g, weld_h = m.body_weldid[m.geom_bodyid[g]], m.body_weldid[m.geom_bodyid[h]]
    if weld_g == weld_h:
        return False
    parent_g = m.body_weldid[m.body_parentid[weld_g]]
    parent_h = m.body_weldid[m.body_parentid[weld_h]]
    filter_parent = not m.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_FILTERPARENT
    both_move = weld_g != 0 and weld_h != 0
    return not (filter_parent and both_move and (weld_g == parent_h or weld_h == parent_g))


def _z_axis(quat: np.ndarray) -> np.ndarray:
    rot = np.empty(9)
    mujoco.mju_quat2Mat(rot, np.asarray(quat, dtype=np.float64))
    return rot[[2, 5, 8]]


class ContactScreen:
    """``screen(frames) -> bool [N]``: the states where some geom of ``bodies`` may be in
    contact with anything. Raises ``ValueError`` for what it does not cover: explicit contact
    pairs, a plane that moves or that belongs to ``bodies``."""

    def __init__(self, model: mujoco.MjModel, kin: PlanarKinematics, bodies: set[int]):
        m = self.model = model
        self.kin = kin
        if m.npair:
            raise ValueError("explicit contact pairs (<pair>) are not covered by the screen")
        self.off = bool(m.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_CONTACT)
        own = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) in bodies]
        pairs = [(g, h) for g in own for h in range(m.ngeom) if may_collide(m, g, h)]
        for g, h in pairs:
            if int(m.geom_type[g]) == _PLANE:
                raise ValueError(f"geom {m.geom(g).name!r} of a screened body is a plane")
            if int(m.geom_type[h]) == _PLANE and int(m.geom_bodyid[h]) != 0:
                raise ValueError(f"plane {m.geom(h).name!r} moves; the screen needs it fixed")
        self.planes = [(g, h) for g, h in pairs if int(m.geom_type[h]) == _PLANE]
        self.others = [(g, h) for g, h in pairs if int(m.geom_type[h]) != _PLANE]
        self.margin = {(g, h): m.geom_margin[g] + m.geom_margin[h] + _SLACK for g, h in pairs}
        self.normal = {h: _z_axis(m.geom_quat[h]) for _, h in self.planes}  # world geoms
        self.geoms = sorted({g for pair in pairs for g in pair})
        self.body = {g: int(m.geom_bodyid[g]) for g in self.geoms}
        self.centre = {g: kin.offset(m.geom_pos[g]) for g in self.geoms}
        self.axis = {g: kin.offset(_z_axis(m.geom_quat[g])) for g in self.geoms}
        # each geom as a swept sphere (half-length, radius): exact for spheres and capsules,
        # the bounding sphere otherwise
        self.shape = {}
        for g in self.geoms:
            kind, size = int(m.geom_type[g]), m.geom_size[g]
            if kind == _CAPSULE:
                self.shape[g] = (float(size[1]), float(size[0]))
            elif kind == _SPHERE:
                self.shape[g] = (0.0, float(size[0]))
            else:
                self.shape[g] = (0.0, float(m.geom_rbound[g]))
        m_other = np.array([self.margin[p] for p in self.others])
        reach = [self.shape[g][1] + self.shape[h][1] for g, h in self.others]
        self._reach = (m_other + np.array(reach))[:, None] if self.others else None

    def __call__(self, frames: Frames) -> np.ndarray:
        n = frames.xpos[0].shape[1]
        near = np.zeros(n, dtype=bool)
        if self.off:
            return near
        kin = self.kin
        centre, axis = {}, {}
        for g in self.geoms:
            cs, b = frames.cs[self.body[g]], self.body[g]
            centre[g] = frames.xpos[b] + kin.rotate(cs, self.centre[g])
            axis[g] = kin.rotate(cs, self.axis[g])
        for g, h in self.planes:
            half, radius = self.shape[g]
            normal = self.normal[h]
            lowest = normal @ (centre[g] - centre[h]) - np.abs(normal @ axis[g]) * half - radius
            near |= lowest <= self.margin[g, h]
        if self.others:
            ends = []
            for g, h in self.others:
                half_g, half_h = self.shape[g][0], self.shape[h][0]
                ends.append((centre[g] - half_g * axis[g], 2 * half_g * axis[g]))
                ends.append((centre[h] - half_h * axis[h], 2 * half_h * axis[h]))
            p1, d1, p2, d2 = (np.stack([e[i] for e in ends[k::2]]) for k in (0, 1) for i in (0, 1))
            near |= (segment_distance(p1, d1, p2, d2) <= self._reach).any(axis=0)
        return near


def segment_distance(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """[..., N] distance between segments p1 + s d1 and p2 + t d2 (s, t in [0, 1]), each
    [..., 3, N]: the closest points of Ericson, Real-Time Collision Detection, 5.1.9."""
    r = p1 - p2
    a, e = (d1 * d1).sum(-2), (d2 * d2).sum(-2)
    b, c, f = (d1 * d2).sum(-2), (d1 * r).sum(-2), (d2 * r).sum(-2)
    a_safe, e_safe = np.maximum(a, 1e-300), np.maximum(e, 1e-300)
    denom = a * e - b * b
    # s on the line closest to segment 2 (0 where the segments are parallel or a point)
    s = np.where(denom > 1e-12 * a * e, (b * f - c * e) / np.maximum(denom, 1e-300), 0.0)
    s = np.clip(s, 0, 1)
    t = (b * s + f) / e_safe
    s = np.where(
        t < 0, np.clip(-c / a_safe, 0, 1), np.where(t > 1, np.clip((b - c) / a_safe, 0, 1), s)
    )
    t = np.clip(t, 0, 1)
    # segment 2 a point: t is 0, s the projection of that point
    point = e <= 1e-300
    s = np.where(point, np.clip(-c / a_safe, 0, 1), s)
    gap = r + d1 * s[..., None, :] - d2 * t[..., None, :]
    return np.sqrt((gap * gap).sum(-2))
