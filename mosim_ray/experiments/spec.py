"""``Experiment``: a run kind, its settings, the seeds, and the inputs each seed builds.

``benchmarks/experiments/<name>.yaml``::

    kind: on_policy                 # any run kind
    run: [configs/on_policy.yaml, {task: cheetah-run, real_steps: 90000}]   # as a sweep's run
    seeds: [0, 1, 2, 3, 4]          # reported seeds are 0-99; 100 and above choose recipes
    inputs:                         # built per seed, in order, before the run; each sets a field
      data: {kind: collect, run: {task: cheetah-run, episodes: 20, steps: 500,
                                  process: {kind: poisson}}}
      checkpoint: {kind: train, run: {task: cheetah-run, data: "{data}"}, seed_field: training.seed,
                   output: model}
      # or the same seed of another experiment, run first if its seed file is missing:
      # checkpoint: {kind: experiment, run: {name: model_mosim_cheetah-run}, output: model}
      # or one fixed seed of it, the same for every seed here:
      # policy: {kind: experiment, run: {name: mosim_on_policy_reacher-hard, seed: 0},
      #          output: policy}
    report: {task: cheetah-run, arm: mosim_on_policy, steps: [20000, 40000, 100000]}
    grid: {field: time_limit, values: [10, 30, 100]}   # optional: a run per value, per seed,
                                                       # on the seed's inputs (built once)
    inputs_from: zero_shot_cheetah-run   # optional: the seeds' inputs that experiment built
                                         # (its inputs must be these, setting for setting)

Strings may name ``{seed}`` and earlier inputs (``{data}``). Every input and the run get the seed
(``seed_field``, default ``seed``), so a seed varies everything random: data, starting model,
policy, evaluation starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mosim_ray.config import ConfigError, defaults, from_dict, load_yaml, overlay, set_dotted
from mosim_ray.runs import get_kind

EXPERIMENT_INPUT = "experiment"
"""the input kind that is another experiment's run of the same seed"""


@dataclass(frozen=True)
class InputSpec:
    """An input a seed builds with a run kind; its output folder (or a path inside it) becomes
    the value of the run field it is named after."""

    kind: str
    """a run kind, or ``experiment``: the same seed's run of another experiment (``run:
    {name: <experiment>}``, or ``{name: <experiment>, seed: N}`` for its seed N whatever the
    seed here; ``output`` a path inside its run folder)"""
    run: Any = field(default_factory=dict)
    """settings: a mapping, a run file's path, or a list of both (as a sweep's ``run``)"""
    output: str = ""
    """path inside the input's folder that becomes the value ("": the folder; "model" for a
    trained model)"""
    seed_field: str = "seed"
    """the input's setting that takes the seed ("": none)"""
    field: str | None = None
    """the run's setting this input's path goes to (default: the input's name; "": none, the
    input only feeds later inputs, as the data a starting model is trained on)"""

    @property
    def experiment(self) -> str | None:
        """The experiment whose seed this input is (kind ``experiment``), else None."""
        return self.run["name"] if self.kind == EXPERIMENT_INPUT else None

    def experiment_seed(self, seed: int) -> int:
        """The seed of that experiment this seed's input is: its pinned ``seed``, else ``seed``."""
        return int(self.run.get("seed", seed))


TABLES = ("headline", "choosing", "prediction", "paper", "horizon", "generalisation")


@dataclass(frozen=True)
class ReportSpec:
    """Where an experiment's figures go in the report."""

    task: str
    arm: str
    """the row's name (mosim_on_policy, model_free_control, sac, ...)"""
    steps: tuple[int, ...] = ()
    """real-step counts (starting data included) at which the figure is the evaluation there"""
    table: str = "headline"
    """headline (reported seeds 0-99), choosing (seeds 100 and above: the runs a recipe or a
    setting was chosen on, shown apart), prediction (a world model's held-out errors), paper
    (prediction errors under the paper's protocol, beside its Table 1) or horizon (a grid
    experiment's final real return at each value, beside the paper's Table 7)"""
    figures: tuple[str, ...] = ()
    """prediction tables: the figures shown (``mse_h16``, ``mse_h100``, ``failed_h100``)"""
    label: str = ""
    """prediction tables: what varies between rows besides the arm (``10k real steps``)"""
    paper: dict[str, float] = field(default_factory=dict)
    """paper and horizon tables: the paper's figures by name (Table 1's ``mse_h16: 0.0005``;
    Table 7's ``needed: 30, reached: 30``), shown beside ours"""
    control: str = ""
    """headline: the arm of the same task this one is matched with (the same seeds' data, updates
    and goals, without the model); the report shows their seed-by-seed differences"""

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ConfigError(
                f"report table must be one of {', '.join(TABLES)}, got {self.table!r}"
            )


@dataclass(frozen=True)
class GridSpec:
    """One run setting varied over values: each seed runs once per value on the same inputs."""

    field: str
    """the run's dotted setting (``time_limit``)"""
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.field or not self.values:
            raise ConfigError("grid needs a field and at least one value")

    def point(self, value: Any) -> str:
        """The value's folder name: ``time_limit-30``."""
        return f"{self.field}-{value}"


@dataclass(frozen=True)
class Experiment:
    name: str
    kind: str
    run: Any
    seeds: tuple[int, ...]
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    report: ReportSpec | None = None
    seed_field: str = "seed"
    note: str = ""
    """what the experiment asks, in a sentence (the report shows it)"""
    grid: GridSpec | None = None
    inputs_from: str = ""
    """another experiment whose seeds' built inputs this one uses (declared the same)"""
    folder: str = "benchmarks/experiments"
    """where the experiment files are (the other experiments it names are beside it)"""

    @property
    def points(self) -> tuple[Any, ...]:
        """The grid's values, or ``(None,)``: the one run of an experiment without a grid."""
        return self.grid.values if self.grid else (None,)

    def point(self, value: Any) -> str:
        """The folder of a grid value's runs and seed files ("" without a grid)."""
        return self.grid.point(value) if self.grid else ""

    def config(self, seed: int, inputs: dict[str, str], value: Any = None) -> Any:
        """The run's config for ``seed`` with the built inputs' paths (and the grid's field set
        to ``value``)."""
        fields = {}
        for name, path in inputs.items():
            field = self.inputs[name].field
            field = name if field is None else field
            if field:
                fields[field] = path
        if self.grid is not None:
            fields[self.grid.field] = value
        return build(self.kind, self.run, seed, inputs, self.seed_field, fields)

    def input_config(self, name: str, seed: int, built: dict[str, str]) -> Any:
        spec = self.inputs[name]
        return build(spec.kind, spec.run, seed, built, spec.seed_field, {})


def build(
    kind: str, run: Any, seed: int, inputs: dict[str, str], seed_field: str, fields: dict
) -> Any:
    """A kind's config: its run layers with placeholders filled, ``fields`` set (dotted names
    to values), the seed in ``seed_field``."""
    from mosim_ray.tune.sweep_config import run_layers

    values = fill(run_layers(run, kind), {"seed": seed, **inputs})
    for name, value in fields.items():
        set_dotted(values, name, value)
    if seed_field:
        set_dotted(values, seed_field, seed)
    cls = get_kind(kind).config
    return from_dict(cls, overlay(defaults(cls), values), f"{kind} run")


def fill(value: Any, names: dict[str, Any]) -> Any:
    """``value`` with ``{name}`` placeholders in its strings replaced (a whole-string placeholder
    keeps the value's type)."""
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    if isinstance(value, str) and "{" in value:
        key = value.strip("{}")
        if value == "{" + key + "}" and key in names:
            return names[key]
        try:
            return value.format(**names)
        except KeyError as e:
            raise ConfigError(
                f"unknown placeholder {e} in {value!r}; known: {sorted(names)}"
            ) from None
    return value


def load_experiment(path: str | Path) -> Experiment:
    path = Path(path)
    raw = load_yaml(path)
    known = {"name", "kind", "run", "seeds", "inputs", "report", "seed_field", "note", "grid"}
    known |= {"inputs_from"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    get_kind(raw.get("kind", ""))
    inputs = {}
    for name, spec in (raw.get("inputs") or {}).items():
        inputs[name] = from_dict(InputSpec, spec, f"{path}: inputs.{name}")
        if inputs[name].kind == EXPERIMENT_INPUT:
            _check_experiment_input(path, name, inputs[name])
        else:
            get_kind(inputs[name].kind)
    report, grid = raw.get("report"), raw.get("grid")
    exp = Experiment(
        name=raw.get("name", path.stem),
        kind=raw["kind"],
        run=raw.get("run") or {},
        seeds=tuple(int(s) for s in raw.get("seeds", [])),
        inputs=inputs,
        report=None if report is None else from_dict(ReportSpec, report, f"{path}: report"),
        seed_field=raw.get("seed_field", "seed"),
        note=raw.get("note", ""),
        grid=None if grid is None else from_dict(GridSpec, grid, f"{path}: grid"),
        inputs_from=raw.get("inputs_from", ""),
        folder=str(path.parent),
    )
    if exp.report is not None and (exp.report.table == "horizon") != (exp.grid is not None):
        raise ConfigError(f"{path}: a horizon table needs a grid, and a grid a horizon table")
    if exp.inputs_from:
        other = load_experiment(path.with_name(f"{exp.inputs_from}.yaml"))
        if other.inputs != exp.inputs:
            raise ConfigError(f"{path}: inputs differ from those of {exp.inputs_from}")
    placeholders = {n: f"<{n}>" for n in inputs}
    for name in inputs:  # every setting checked now, not when a seed gets to it
        if inputs[name].experiment is None:
            exp.input_config(name, 0, placeholders)
    for value in exp.points:
        exp.config(0, placeholders, value)
    return exp


def _check_experiment_input(path: Path, name: str, spec: InputSpec) -> None:
    """An ``experiment`` input names an experiment file beside ``path`` (and no other setting)."""
    pinned = spec.run.get("seed", 0) if isinstance(spec.run, dict) else None
    if (
        not isinstance(spec.run, dict)
        or not {"name"} <= set(spec.run) <= {"name", "seed"}
        or not isinstance(pinned, int)
        or isinstance(pinned, bool)
        or pinned < 0
    ):
        raise ConfigError(
            f"{path}: inputs.{name}: an experiment input's run is {{name: <experiment>}} or "
            f"{{name: <experiment>, seed: <N >= 0>}}"
        )
    other = path.with_name(f"{spec.run['name']}.yaml")
    if not other.is_file():
        raise ConfigError(f"{path}: inputs.{name}: no experiment {other}")
    if other.resolve() == path.resolve():
        raise ConfigError(f"{path}: inputs.{name}: an experiment cannot be its own input")
    if load_yaml(other).get("grid"):
        raise ConfigError(f"{path}: inputs.{name}: {other.stem} has a grid; name one without")
