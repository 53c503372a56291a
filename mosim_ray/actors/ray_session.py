"""The one place Ray is started or joined, quietly."""

from __future__ import annotations

import logging
import os
import signal
import threading
import warnings

QUIET_LOGGERS = (
    # "Token authentication is enabled for this Ray cluster ...": printed at every local start
    "ray._private.authentication.authentication_token_setup",
    # RLlib's own deprecation notices about RLlib internals we do not call
    "ray._common.deprecation",
    # "You are running SAC on the new API stack!": we chose it, on purpose
    "ray.rllib.algorithms.algorithm_config",
    "ray.rllib.algorithms.sac.sac",
    # "Install gputil for GPU system monitoring."
    "ray.tune.utils.util",
)


def quiet_ray() -> None:
    """Silence Ray's start-up banner and RLlib's deprecation warnings in our own output (errors
    still show)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
    # RLlib registers its env wrapper again for every algorithm it builds
    warnings.filterwarnings("ignore", message=".*Overriding environment rllib-")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (``kill``, ``timeout``, a scheduler's preemption) stop this driver as Ctrl-C
    does, so its own handlers say "interrupted" and shut Ray down; Ray's driver would otherwise
    die on it with a native stack trace. Only the main thread may set a handler."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the Ray this process already runs in (a Tune trial, a test), else join ``address``
    or start an embedded local Ray with ``num_cpus`` (default: every core). Returns True when
    this call started or joined a Ray (the caller then owns ``ray.shutdown()``)."""
    import ray

    quiet_ray()
    if ray.is_initialized():
        return False
    if os.environ.get("MOSIM_FORBID_RAY"):
        # the test suite's guard: a test that starts Ray must carry the ``ray`` marker
        raise RuntimeError(
            f"Ray may not start here: {os.environ['MOSIM_FORBID_RAY']} is not marked ray"
        )
    try:
        ray.init(
            # "local": start one even where an older cluster left its address file behind
            address=address or "local",
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            num_cpus=None if address else (num_cpus or os.cpu_count()),
        )
    except Exception as e:
        # Ray raises a bare Exception when its raylet does not register within 30 s
        if "timed out during startup" not in str(e):
            raise
        raise RuntimeError(
            "Ray did not start within its 30 s: the machine is too busy (or this process too "
            "niced) for its raylet; free some CPU and run again"
        ) from e
    interrupt_on_sigterm()
    return True
