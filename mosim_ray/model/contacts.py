"""Contact features of a planar robot over its floor, for MoSim's correctors.

From ``TaskSpec.floor_contacts`` (the kinematic tree and the capsules' end-spheres, read from the
MJCF by ``tasks/planar.py``), forward kinematics in torch gives each end-sphere's gap to the
floor (height of its centre minus its radius) and its velocity in the x-z plane, for a batch of
states, differentiable. Rotations are about +y: a vector (x, z) turned by t is
(x cos t + z sin t, -x sin t + z cos t), and an angular velocity w moves a point at r by
w (r_z, -r_x).
"""

from __future__ import annotations

import torch
from torch import nn

from mosim_ray.tasks.spec import FLOOR_HINGE, TaskSpec

GAP_SCALE = 0.1
"""metres: gaps enter as gap / GAP_SCALE, clipped to [-1, 5]"""
TOUCH_SCALE = 0.005
"""metres: the touch feature is sigmoid(-gap / TOUCH_SCALE), about 1 in contact"""
SPEED_SCALE = 2.0
"""metres per second: velocities enter as v / SPEED_SCALE"""
FEATURES_PER_POINT = 4


class ContactFeatures(nn.Module):
    """(q [B, nq], qdot [B, nv]) -> [B, 4 P]: per end-sphere, its scaled gap to the floor, a soft
    touch indicator and its scaled x and z velocity (``points`` gives the gaps and velocities)."""

    def __init__(self, spec: TaskSpec):
        super().__init__()
        if not spec.floor_contacts:
            raise ValueError(
                f"task {spec.name!r}: its spec has no floor contacts (not a planar robot over a "
                "floor plane, or a checkpoint written before specs carried them); "
                "contact_features needs them"
            )
        floor_z, bodies, points = spec.floor_contacts
        self.floor_z = float(floor_z)
        self.bodies = [
            (int(parent), (float(x), float(z)), [tuple(j) for j in joints])
            for parent, x, z, joints in bodies
        ]
        self.register_buffer("point_body", torch.tensor([int(p[0]) for p in points]), False)
        for i, name in ((1, "point_x"), (2, "point_z"), (3, "point_radius")):
            self.register_buffer(name, torch.tensor([float(p[i]) for p in points]), False)
        self.out_dim = FEATURES_PER_POINT * len(points)

    @staticmethod
    def _turn(cos, sin, v: tuple[float, float]):
        """A body-frame vector v turned by the angle (cos, sin) [B] -> (x [B], z [B])."""
        return v[0] * cos + v[1] * sin, -v[0] * sin + v[1] * cos

    def points_state(self, q: torch.Tensor, qdot: torch.Tensor):
        """gaps [B, P] (metres) and velocities [B, P, 2] (x, z) of every end-sphere."""
        zero = q.new_zeros(len(q))
        # per body: angle, position (x, z), angular velocity, velocity (x, z); 0 is the world
        angle, pos, omega, vel = [zero], [(zero, zero)], [zero], [(zero, zero)]
        for parent, offset, joints in self.bodies:
            t, w = angle[parent], omega[parent]
            c, s = torch.cos(t), torch.sin(t)
            dx, dz = self._turn(c, s, offset)
            px, pz = pos[parent][0] + dx, pos[parent][1] + dz
            vx, vz = vel[parent][0] + w * dz, vel[parent][1] - w * dx
            for kind, qadr, dof, jx, jz, sign, q0 in joints:
                x = q[:, int(qadr)] - q0
                xd = qdot[:, int(dof)]
                if int(kind) == FLOOR_HINGE:
                    ax, az = self._turn(c, s, (jx, jz))
                    anchor = (px + ax, pz + az)
                    avx, avz = vx + w * az, vz - w * ax  # the anchor's velocity
                    t, w = t + sign * x, w + sign * xd
                    c, s = torch.cos(t), torch.sin(t)
                    bx, bz = self._turn(c, s, (jx, jz))
                    px, pz = anchor[0] - bx, anchor[1] - bz
                    vx, vz = avx - w * bz, avz + w * bx
                else:
                    ux, uz = self._turn(c, s, (jx, jz))
                    px, pz = px + ux * x, pz + uz * x
                    vx, vz = vx + w * uz * x + ux * xd, vz - w * ux * x + uz * xd
            angle.append(t)
            pos.append((px, pz))
            omega.append(w)
            vel.append((vx, vz))
        # every end-sphere at once: [B, P] gathers of its body's frame and motion
        idx = self.point_body
        t, w = torch.stack(angle, 1)[:, idx], torch.stack(omega, 1)[:, idx]
        bx, bz = (
            torch.stack([p[0] for p in pos], 1)[:, idx],
            torch.stack([p[1] for p in pos], 1)[:, idx],
        )
        vx = torch.stack([v[0] for v in vel], 1)[:, idx]
        vz = torch.stack([v[1] for v in vel], 1)[:, idx]
        c, s = torch.cos(t), torch.sin(t)
        dx = self.point_x * c + self.point_z * s
        dz = -self.point_x * s + self.point_z * c
        gaps = bz + dz - self.point_radius - self.floor_z
        return gaps, torch.stack([vx + w * dz, vz - w * dx], -1)

    def forward(self, q: torch.Tensor, qdot: torch.Tensor) -> torch.Tensor:
        gaps, velocities = self.points_state(q, qdot)
        features = torch.stack(
            [
                (gaps / GAP_SCALE).clamp(-1.0, 5.0),
                torch.sigmoid(-gaps / TOUCH_SCALE),
                velocities[..., 0] / SPEED_SCALE,
                velocities[..., 1] / SPEED_SCALE,
            ],
            -1,
        )
        return features.flatten(1)
