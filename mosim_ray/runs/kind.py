"""``RunKind``: one kind of run (collect, train, zero-shot, ...) as the project's unit.

A kind is a frozen config dataclass (its settings, defaults stated once, a docstring under every
field) and ``run(config, out, *, report=None, progress=False) -> dict``. A pipeline, a Tune trial
and an experiment all call the same ``run`` with the same config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Report = Callable[[dict[str, Any]], None]
"""Called with each intermediate result point (an evaluation, a judgement) as it comes."""


@dataclass(frozen=True)
class RunKind:
    name: str
    config: type
    """the frozen config dataclass"""
    run: Callable[..., dict[str, Any]]
    """``run(config, out, *, report=None, progress=False) -> result``"""
    doc: str
    """what the kind does, with an example command (the pipeline's description)"""
    default_out: Callable[[Any], str]
    """where results go when ``--out`` is not given"""
    summary: Callable[[dict[str, Any]], str]
    """the one line a pipeline prints at the end"""
    point: Callable[[dict[str, Any]], str] | None = None
    """a line per reported point (None: points are not printed)"""
    uses_ray: bool = True
    metric: str = "real_return_mean"
    """the result a sweep optimises by default"""
    mode: str = "max"
    columns: tuple[str, ...] = ()
    """result keys a sweep's table shows beside its metric"""
    trial_resources: Callable[[Any, float, float], Any] | None = None
    """``(config, cpus, gpus) -> Tune resources`` of one trial (None: cpus and gpus alone)"""
    metrics: Callable[[Any], set[str]] | None = None
    """the result keys a run of this config reports (None: not checked)"""
    curve: Callable[[dict[str, Any]], list[dict[str, float]]] | None = None
    """the learning curve of a result as points {real_steps (every real step behind the run,
    starting data included), return_mean, return_std}: what experiments report"""
    save: str = "checkpoint"
    """the path in a run's folder whose presence means the run saved itself on the way and goes
    on from there with ``resume: true`` (kinds without a ``resume`` setting start again)"""
    curve_at_saves: bool = False
    """each of the run's saves holds ``progress.json``, a result whose ``curve`` gives the points
    up to that save as the finished run will report them (curves over real steps)"""
    figures: Callable[[dict[str, Any]], dict[str, float]] | None = None
    """the headline numbers of a result by name (a model's held-out errors), for experiments"""
    check: Callable[[Any], None] | None = None
    """checks that need more than the config's own fields (a checkpoint that must simulate the
    task), run before Ray starts; raise ValueError"""
    inputs: tuple[str, ...] = ()
    """dotted fields naming input files or folders: checked to exist before a run starts
    (a shipped model's ``pretrained/<name>`` counts as existing)"""

    @property
    def title(self) -> str:
        return self.doc.strip().splitlines()[0]


def check_inputs(kind: RunKind, config: Any) -> None:
    """Every input path the config names exists (ValueError naming the field otherwise), then
    the kind's own ``check``."""
    from mosim_ray.config import to_dict

    values = to_dict(config)
    for dotted in kind.inputs:
        value: Any = values
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value and not Path(value).exists() and not str(value).startswith("pretrained/"):
            flag = "--" + dotted.replace("_", "-")
            raise ValueError(f"{flag}: no such file or folder: {value}")
    if kind.check is not None:
        kind.check(config)
