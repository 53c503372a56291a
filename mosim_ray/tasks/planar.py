"""Where a planar robot can touch its floor, read from the MJCF for ``TaskSpec.floor_contacts``.

The robots that walk and hop in the suite (cheetah, hopper, walker) are kinematic trees of slide
and hinge joints that all move in the world's x-z plane, hinges turning about y, over a floor
plane. Their capsules touch the floor with the spheres at their two ends (MuJoCo's capsule-plane
contact), so a body's end-sphere centres and radii, in the body's frame, and the tree say
everything about how far each is from the floor and how fast it moves. Models outside that
shape (free or ball joints, rotated bodies, hinges about another axis, no floor plane, geoms
other than capsules and spheres touching the floor) get an empty tuple: nothing is claimed.
"""

from __future__ import annotations

import mujoco
import numpy as np

from mosim_ray.tasks.spec import FLOOR_HINGE, FLOOR_SLIDE

_PLANE = int(mujoco.mjtGeom.mjGEOM_PLANE)
_SPHERE = int(mujoco.mjtGeom.mjGEOM_SPHERE)
_CAPSULE = int(mujoco.mjtGeom.mjGEOM_CAPSULE)
_SLIDE, _HINGE = int(mujoco.mjtJoint.mjJNT_SLIDE), int(mujoco.mjtJoint.mjJNT_HINGE)


def floor_contacts(model) -> tuple:
    """``(floor_z, bodies, points)`` of a planar robot over a floor (see the module doc), else ().

    bodies: per body 1..nbody-1, ``(parent, x, z, joints)``: its position in its parent's frame
    and its joints, each ``(kind, qpos index, qvel index, x, z, sign, qpos0)``: a slide's axis or a
    hinge's anchor in the body's frame, the hinge's turning sense about +y (+1 or -1).
    points: per end-sphere that can touch the floor, ``(body, x, z, radius)`` in its body's frame.
    """
    model = getattr(model, "ptr", model)  # dm_control's wrapper, or an MjModel
    floors = [
        g
        for g in range(model.ngeom)
        if int(model.geom_type[g]) == _PLANE and int(model.geom_bodyid[g]) == 0
    ]
    if len(floors) != 1 or not _is_planar(model):
        return ()
    floor = floors[0]
    if not np.allclose(model.geom_quat[floor], [1, 0, 0, 0]):
        return ()  # a tilted floor: not covered
    bodies = []
    for b in range(1, model.nbody):
        joints = []
        for j in range(int(model.body_jntadr[b]), int(model.body_jntadr[b] + model.body_jntnum[b])):
            hinge = int(model.jnt_type[j]) == _HINGE
            x, _, z = (float(v) for v in (model.jnt_pos[j] if hinge else model.jnt_axis[j]))
            sign = float(np.sign(model.jnt_axis[j][1])) if hinge else 0.0
            adr = int(model.jnt_qposadr[j])
            joints.append(
                (
                    FLOOR_HINGE if hinge else FLOOR_SLIDE,
                    adr,
                    int(model.jnt_dofadr[j]),
                    x,
                    z,
                    sign,
                    float(model.qpos0[adr]),
                )
            )
        px, _, pz = (float(v) for v in model.body_pos[b])
        bodies.append((int(model.body_parentid[b]), px, pz, tuple(joints)))
    points = []
    for g in range(model.ngeom):
        if g == floor or not _touches(model, g, floor):
            continue
        kind, body = int(model.geom_type[g]), int(model.geom_bodyid[g])
        if kind not in (_SPHERE, _CAPSULE) or body == 0:
            return ()  # another shape touching the floor: not covered
        centre = np.asarray(model.geom_pos[g], dtype=float)
        radius = float(model.geom_size[g][0])
        ends = [centre]
        if kind == _CAPSULE:
            axis = np.zeros(3)
            mujoco.mju_rotVecQuat(axis, np.array([0.0, 0.0, 1.0]), model.geom_quat[g])
            half = float(model.geom_size[g][1]) * axis
            ends = [centre - half, centre + half]
        points += [(body, float(e[0]), float(e[2]), radius) for e in ends]
    floor_z = float(model.geom_pos[floor][2])
    return (floor_z, tuple(bodies), tuple(points)) if points else ()


def _touches(model, g: int, floor: int) -> bool:
    """MuJoCo's contype/conaffinity test between geom ``g`` and the floor."""
    return bool(
        (model.geom_contype[g] & model.geom_conaffinity[floor])
        or (model.geom_contype[floor] & model.geom_conaffinity[g])
    )


def _is_planar(model) -> bool:
    """Slide and hinge joints only, hinges about +-y, slides in the x-z plane, no body rotated
    (offsets along y change neither a point's height nor its x)."""
    for j in range(model.njnt):
        kind, axis = int(model.jnt_type[j]), np.asarray(model.jnt_axis[j])
        if kind == _HINGE and not np.allclose(np.abs(axis), [0, 1, 0]):
            return False
        if kind == _SLIDE and abs(axis[1]) > 1e-9:
            return False
        if kind not in (_HINGE, _SLIDE):
            return False
    rotated = any(not np.allclose(model.body_quat[b], [1, 0, 0, 0]) for b in range(1, model.nbody))
    return not rotated and model.njnt > 0
