"""dm_control, set up headless, and the TaskSpec facts read from a MuJoCo model.

The only module of ``mosim_ray.tasks`` that imports dm_control at module level (``suite`` and
``mjcf`` import it through here), so the environment is set before dm_control or mujoco load.
"""

from __future__ import annotations

import os

# No rendering here: choose the headless "disable" backend before dm_control is imported.
os.environ.setdefault("MUJOCO_GL", "disable")

from absl import logging as absl_logging  # noqa: E402
from dm_control import mujoco as dm_mujoco  # noqa: E402, F401  (re-exported for mjcf)
from dm_control import suite  # noqa: E402, F401  (re-exported for suite)

from mosim_ray.tasks.planar import floor_contacts  # noqa: E402
from mosim_ray.tasks.spec import FREE_POS, HINGE, HINGE_WRAP, QUAT, SLIDE  # noqa: E402

# dm_control's MJCF compiler warns about deprecated attributes in its own suite models.
absl_logging.set_verbosity(absl_logging.ERROR)

_INTEGRATORS = {0: "euler", 1: "rk4", 2: "implicit", 3: "implicitfast"}


def model_facts(model) -> dict:
    """The ``TaskSpec`` fields a MuJoCo model alone decides (an ``mjModel`` or dm_control's
    wrapper of one): dimensions, time step, integrator and the kinds, translations and ranges of
    its joints. The simulators add what their task decides (control step, actions, observation)."""
    return {
        "nq": int(model.nq),
        "nv": int(model.nv),
        "nu": int(model.nu),
        "physics_dt": float(model.opt.timestep),
        "integrator": integrator_name(model),
        "qpos_kinds": qpos_kinds(model),
        "translation_qpos": translation_qpos(model),
        "joint_ranges": joint_ranges(model),
        "limit_softness": limit_softness(model),
        "actuator_moments": actuator_moments(model),
        **damping_facts(model),
        "joint_stiffness": joint_stiffness(model),
        "floor_contacts": floor_contacts(model),
    }


def integrator_name(model) -> str:
    """MuJoCo's integrator of ``model`` (an ``mjModel`` or dm_control's wrapper of one)."""
    return _INTEGRATORS[int(model.opt.integrator)]


def translation_qpos(model) -> tuple[int, ...]:
    """qpos indices of horizontal root translation (see ``TaskSpec.translation_qpos``)."""
    out = []
    for j in range(model.njnt):
        adr, jtype = int(model.jnt_qposadr[j]), int(model.jnt_type[j])
        if int(model.body_parentid[model.jnt_bodyid[j]]) != 0:
            continue  # not attached to the world
        if jtype == 0:
            out += [adr, adr + 1]
        elif jtype == 2 and abs(float(model.jnt_axis[j][2])) < 1e-9:
            out.append(adr)
    return tuple(out)


def joint_ranges(model) -> tuple[tuple[int, int, float, float], ...]:
    """(qpos index, qvel index, low, high) of each limited hinge or slide joint (see
    ``TaskSpec.joint_ranges``)."""
    out = []
    for j in range(model.njnt):
        if int(model.jnt_type[j]) in (2, 3) and bool(model.jnt_limited[j]):
            low, high = (float(x) for x in model.jnt_range[j])
            out.append((int(model.jnt_qposadr[j]), int(model.jnt_dofadr[j]), low, high))
    return tuple(out)


_DISABLE_CONSTRAINT, _DISABLE_LIMIT, _DISABLE_REFSAFE = 1, 8, 4096  # mujoco.mjtDisableBit
_DISABLE_SPRING, _DISABLE_DAMPER, _DISABLE_EULERDAMP = 32, 64, 32768


def damping_facts(model) -> dict:
    """``dof_invweight0``, ``dof_damping`` and ``implicit_damping`` of ``TaskSpec``."""
    damping = [float(x) for x in model.dof_damping]
    flags = int(model.opt.disableflags)
    if flags & _DISABLE_DAMPER or not any(damping):
        damping = []
    return {
        "dof_invweight0": tuple(float(x) for x in model.dof_invweight0),
        "dof_damping": tuple(damping),
        "implicit_damping": bool(damping)
        and integrator_name(model) == "euler"
        and not flags & _DISABLE_EULERDAMP,
    }


def joint_stiffness(model) -> tuple[tuple[int, int, float, float], ...]:
    """(qpos index, qvel index, stiffness, spring reference) of each hinge or slide joint with a
    spring (see ``TaskSpec.joint_stiffness``); empty when the model's springs are disabled."""
    if int(model.opt.disableflags) & _DISABLE_SPRING:
        return ()
    out = []
    for j in range(model.njnt):
        stiffness = float(model.jnt_stiffness[j])
        if int(model.jnt_type[j]) in (2, 3) and stiffness:
            adr = int(model.jnt_qposadr[j])
            out.append((adr, int(model.jnt_dofadr[j]), stiffness, float(model.qpos_spring[adr])))
    return tuple(out)


def limit_softness(model) -> tuple[tuple[float, ...], ...]:
    """Per entry of ``joint_ranges(model)``: (solref 0, solref 1, solimp 0..4, margin), as MuJoCo's
    limit constraint uses them (see ``TaskSpec.limit_softness``)."""
    flags = int(model.opt.disableflags)
    if flags & (_DISABLE_CONSTRAINT | _DISABLE_LIMIT):
        return ()
    out = []
    for j in range(model.njnt):
        if int(model.jnt_type[j]) in (2, 3) and bool(model.jnt_limited[j]):
            ref = [float(x) for x in model.jnt_solref[j]]
            if ref[0] > 0 and not flags & _DISABLE_REFSAFE:
                ref[0] = max(ref[0], 2 * float(model.opt.timestep))
            imp = [float(x) for x in model.jnt_solimp[j]]
            out.append((*ref, *imp, float(model.jnt_margin[j])))
    return tuple(out)


def actuator_moments(model) -> tuple[tuple[int, float], ...]:
    """(qvel index, gear * gain) of each actuator when all are plain joint motors, else ``()``
    (see ``TaskSpec.actuator_moments``)."""
    out = []
    for a in range(model.nu):
        joint = int(model.actuator_trnid[a][0])
        plain = (
            int(model.actuator_trntype[a]) == 0  # joint transmission
            and int(model.jnt_type[joint]) in (2, 3)  # a slide or hinge: one dof
            and int(model.actuator_dyntype[a]) == 0  # no activation dynamics
            and int(model.actuator_gaintype[a]) == 0  # fixed gain
            and int(model.actuator_biastype[a]) == 0  # no bias (a motor, not a servo)
            and not bool(model.actuator_forcelimited[a])
        )
        if not plain:
            return ()
        moment = float(model.actuator_gear[a][0]) * float(model.actuator_gainprm[a][0])
        out.append((int(model.jnt_dofadr[joint]), moment))
    return tuple(out)


def qpos_kinds(model) -> tuple[str, ...]:
    """[nq] kind of each qpos entry: free_pos, quat, slide, hinge (limited) or hinge_wrap."""
    kinds: list[str] = [""] * model.nq
    for j in range(model.njnt):
        adr, jtype = int(model.jnt_qposadr[j]), int(model.jnt_type[j])
        if jtype == 0:  # free: 3 position, 4 quaternion
            kinds[adr : adr + 7] = [FREE_POS] * 3 + [QUAT] * 4
        elif jtype == 1:  # ball
            kinds[adr : adr + 4] = [QUAT] * 4
        elif jtype == 2:
            kinds[adr] = SLIDE
        else:
            kinds[adr] = HINGE if bool(model.jnt_limited[j]) else HINGE_WRAP
    return tuple(kinds)
