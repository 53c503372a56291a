"""An optional ``torch.compile`` of the dynamics step, for training (``TrainConfig.compile``,
``ContinualConfig.compile``).

Inductor fuses the elementwise work of a step (activations, their gradients, the integrator's
updates) into a few C++ loops and drops the per-operation overhead: on one CPU thread a training
update (batch 256, 16-step rollout, backward) takes about a fifth less time, the same update to
float rounding (benchmarks/model_step_speed.py). It costs a compile of 10-60 s at the first update
(and a shorter one when the trained parameters change, at a new stage), so it pays in runs of
minutes, not in short ones. Inference stays eager: compiled, it gains a few percent and predicts
differently in the last bits, where the eager step predicts as it always has.

The weights are inputs of the compiled graph, not constants: weight updates need no recompile.
"""

from __future__ import annotations

import logging
import warnings

import torch
import torch._dynamo

from mosim_ray.model.dynamics import DynamicsModel


class CompiledStep:
    """``dynamics.step`` through ``torch.compile``: (state [B, D], action [B, U]) -> [B, D].

    Where compiling fails (no C++ compiler on the machine, an unsupported platform), it warns once
    and steps eagerly from then on.
    """

    def __init__(self, dynamics: DynamicsModel):
        # The step reads tensors in Python by design (the active correctors, the soft limits'
        # active set), so it compiles in pieces; dynamo's 15-line advice on that, printed once a
        # process, is noise in a user's console.
        logging.getLogger("torch._dynamo.variables.tensor").setLevel(logging.ERROR)
        self.dynamics = dynamics
        self._compiled = torch.compile(dynamics.step, dynamic=False)
        self.failed: str | None = None

    def __call__(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        if self.failed is None:
            try:
                return self._compiled(state, action)
            except torch._dynamo.exc.TorchDynamoException as e:  # compiling, not stepping, failed
                self.failed = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                warnings.warn(
                    f"torch.compile of the dynamics step failed ({self.failed}); training goes on "
                    "with the eager step",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self.dynamics.step(state, action)
