"""Prediction benchmark against real MuJoCo: world models side by side, horizons 3 / 16 / 100.

    python pipelines/benchmark.py --task reacher-easy --checkpoint pretrained/reacher-easy \
        --set 'baselines={structure_free: runs/sf/model, ensemble: runs/ens/model}' \
        --policy runs/real_sac/reacher-easy/policy

Test sets (written once to --data-dir and reused, so every model sees the same segments):
long real rollouts under random actions, named by their process: ``poisson`` (piecewise
constant with 30% zeros, our training data's process, held-out episodes), ``uniform`` (i.i.d.,
the paper's protocol), ``ou`` (smooth Ornstein-Uhlenbeck actions, a process no model trained
on); ``random`` (the process ``--random-actions`` names); and ``policy``, rollouts of a trained
RLlib policy (--policy, copied beside the data so the set can be rebuilt) with a little Gaussian
action noise. The first --burn-in steps of each episode are
dropped (start-up transients), then at least --segments segments per horizon are cut at random.
``pushed`` tests states outside the training range: --segments episodes of the ``random`` set's
process, each with every velocity multiplied by --push-factor after its burn-in, and the longest
horizon's steps after that; its longest-horizon segments all start at the pushed state, shorter
ones anywhere in the steps after it.

``--step-unit physics`` counts every step (horizons, --steps, --burn-in) in MuJoCo steps, not
control steps: the test episodes draw a fresh action every physics step and each model steps one
physics step at a time (``WorldModel.physics_steps``), the paper's prediction unit on tasks whose
control step holds several (dm_control suite tasks; no policy set).

Per model, test set and horizon: raw-state MSE, normalized MSE, share of finite rollouts, and the
equivalent horizon: the horizon at which the model's error reaches the reference model's 16-step
error (--reference; default the first baseline, else constant-state). Writes a markdown table,
JSON, an error-against-horizon plot (log scale) and predicted-against-true trajectories to --out.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mosim_ray.runs.kind import Report, RunKind
from mosim_ray.runs.names import folder_name

TEST_SEED = 777_000
"""far from the seeds training data uses"""
RANDOM_PROCESSES = ("poisson", "uniform", "ou")
"""the random action processes a test set may use"""
PUSHED = "pushed"
"""the test set of states pushed outside the training range"""
TEST_SETS = (*RANDOM_PROCESSES, "random", "policy", PUSHED)
STEP_UNITS = ("control", "physics")


def process_of(test_set: str, random_actions: str) -> str:
    """The action process behind a test set (``random`` and ``pushed`` use ``random_actions``)."""
    return random_actions if test_set in ("random", PUSHED) else test_set


def data_folder(
    test_set: str, random_actions: str, push_factor: float, step_unit: str = "control"
) -> str:
    """A test set's folder under the data dir: one per process (``random`` for Poisson, its
    first name), so every name of the same process reads the same segments; the pushed set's
    names its factor and, unless Poisson, its process; physics-step sets end in ``_physics``."""
    process = process_of(test_set, random_actions)
    unit = "" if step_unit == "control" else f"_{step_unit}"
    if test_set == PUSHED:
        return f"pushed_x{push_factor:g}" + ("" if process == "poisson" else f"_{process}") + unit
    return ("random" if process == "poisson" else process) + unit


@dataclass(frozen=True)
class BenchmarkConfig:
    """World models judged side by side on the same real test segments."""

    task: str = "reacher-easy"
    checkpoint: str = "pretrained/reacher-easy"
    """the MoSim model (folder or pretrained/<name>)"""
    baselines: dict[str, str] = field(default_factory=dict)
    """more models by name: {structure_free: runs/sf/model, ensemble: runs/ens/model}"""
    horizons: tuple[int, ...] = (3, 16, 100)
    segments: int = 256
    """segments per horizon"""
    test_sets: tuple[str, ...] = ()
    """any of poisson, uniform, ou (random actions of that process), random (the process
    ``random_actions`` names), policy (a trained policy's) and pushed (``random``'s process from
    states pushed to ``push_factor`` times their velocity); empty: random, and policy too when
    --policy is given"""
    random_actions: str = "poisson"
    """the random set's actions: poisson (piecewise constant, 30% zeros: our training data's
    process) or uniform (i.i.d. uniform: the paper's protocol)"""
    policy: str | None = None
    """RLlib checkpoint whose actions make the policy set"""
    policy_noise: float = 0.1
    """Gaussian action noise of the policy set, as a share of the half-range"""
    push_factor: float = 3.0
    """the pushed set: every velocity multiplied by this after each episode's burn-in"""
    episodes: int = 16
    steps: int = 600
    """steps per test episode"""
    burn_in: int = 100
    """steps dropped at the start of each test episode"""
    step_unit: str = "control"
    """what one step is, in horizons, steps and burn_in: control (the task's control step) or
    physics (one MuJoCo step, a fresh action each: the paper's unit; suite tasks only)"""
    reference: str | None = None
    """model whose 16-step error defines equivalence (default: the first baseline, else
    constant-state)"""
    data_dir: str | None = None
    """where the test sets are written and reused (default benchmarks/data/<task>)"""
    threads: int = 2

    @property
    def sets(self) -> tuple[str, ...]:
        """The test sets this run builds (``test_sets``, or its default)."""
        return self.test_sets or (("random", "policy") if self.policy else ("random",))

    def __post_init__(self) -> None:
        from mosim_ray.tasks import check_task_name

        check_task_name(self.task)
        if self.segments < 1 or self.burn_in < 0:
            raise ValueError("segments must be >= 1 and burn_in >= 0")
        if self.random_actions not in RANDOM_PROCESSES:
            raise ValueError(
                f"random_actions must be one of {', '.join(RANDOM_PROCESSES)}, "
                f"got {self.random_actions!r}"
            )
        unknown = set(self.test_sets) - set(TEST_SETS)
        if unknown:
            raise ValueError(f"unknown test sets {sorted(unknown)}; known: {', '.join(TEST_SETS)}")
        if not math.isfinite(self.push_factor) or self.push_factor <= 0:
            raise ValueError(f"push_factor must be a positive number, got {self.push_factor}")
        if self.step_unit not in STEP_UNITS:
            raise ValueError(
                f"step_unit must be one of {', '.join(STEP_UNITS)}, got {self.step_unit!r}"
            )
        if self.step_unit == "physics" and ":" in self.task:
            raise ValueError(f"step_unit physics is for dm_control suite tasks, not {self.task!r}")
        if self.step_unit == "physics" and "policy" in self.sets:
            raise ValueError("the policy test set acts at the control step: step_unit control")
        if "policy" in self.sets and not self.policy:
            raise ValueError("the policy test set needs --policy (an RLlib checkpoint folder)")
        if self.steps - self.burn_in <= max(self.horizons):
            raise ValueError("steps minus burn_in must exceed the longest horizon")


def check_same_policy(policy: str | Path, kept: Path) -> None:
    """A policy test set is reused only for the policy that made it (its module's files)."""
    from mosim_ray.runs.provenance import folder_hash
    from mosim_ray.sac.policy import module_folder

    if folder_hash(module_folder(policy)) != folder_hash(module_folder(kept)):
        raise ValueError(
            f"the policy test set in {kept.parent} was made by another policy than {policy}; "
            "give another data_dir, or remove that folder to rebuild it"
        )


def test_set(config: BenchmarkConfig, kind: str, folder: Path):
    """Build (once) and open a test set; drop the burn-in of each episode."""
    from mosim_ray.data import EpisodeCollector, RolloutDataset
    from mosim_ray.data.processes import ProcessConfig
    from mosim_ray.data.rollout import Push
    from mosim_ray.data.shards import shard_name
    from mosim_ray.tasks import get_spec

    if kind == "policy" and (folder / "policy").is_dir():
        check_same_policy(config.policy, folder / "policy")
    episodes, steps = config.episodes, config.steps
    if kind == PUSHED:  # one longest-horizon segment per episode, from the pushed state
        episodes, steps = config.segments, config.burn_in + max(config.horizons)
    if not folder.is_dir() or not any(folder.glob("shard-*.parquet")):
        physics_steps = config.step_unit == "physics"
        if kind != "policy":
            process = ProcessConfig(kind=process_of(kind, config.random_actions))
            push = Push(at=config.burn_in, factor=config.push_factor) if kind == PUSHED else None
            collector = EpisodeCollector(
                config.task, steps, process, push=push, physics_steps=physics_steps
            )
        else:
            from mosim_ray.sac.policy import RLlibPolicy

            low, high = get_spec(config.task).action_bounds
            policy = RLlibPolicy(
                config.policy, low, high, noise=config.policy_noise, seed=TEST_SEED
            )
            shutil.copytree(config.policy, folder / "policy", dirs_exist_ok=True)
            collector = EpisodeCollector(
                config.task, steps, ProcessConfig(kind="policy"), policy=policy
            )
        collector.write_shard(folder / shard_name(0), list(range(episodes)), seed=TEST_SEED)
    data = RolloutDataset.open(folder)
    lengths = {len(ep.actions) for ep in data.episodes}
    if len(data.episodes) != episodes or lengths != {steps}:
        raise ValueError(
            f"the test set in {folder} holds {len(data.episodes)} episodes of "
            f"{sorted(lengths)} steps, not the {episodes} of {steps} asked for; give another "
            "data_dir, or remove that folder to rebuild it"
        )
    b = config.burn_in
    trimmed = [
        replace(
            ep,
            states=ep.states[b:],
            actions=ep.actions[b:],
            rewards=ep.rewards[b:],
            observations=ep.observations[b:],
            contexts=ep.contexts[b:],
        )
        for ep in data.episodes
    ]
    return replace(data, episodes=trimmed)


def run(
    config: BenchmarkConfig,
    out: str | Path,
    *,
    report: Report | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    import numpy as np
    import torch

    from mosim_ray.eval.metrics import equivalent_horizon, error_by_step, prediction_errors
    from mosim_ray.eval.plots import plot_error_vs_horizon, plot_trajectories
    from mosim_ray.model import ModelConfig, WorldModel

    models = {"mosim": WorldModel.load(config.checkpoint, task=config.task)}
    for name, path in config.baselines.items():
        models[name] = WorldModel.load(path, task=config.task)
    torch.set_num_threads(config.threads)
    models["constant"] = WorldModel.create(ModelConfig(task=config.task, kind="constant"))
    if config.step_unit == "physics":
        models = {name: m.physics_steps() for name, m in models.items()}
    reference = config.reference or next(
        (n for n in models if n not in ("mosim", "constant")), "constant"
    )
    data_dir = Path(config.data_dir or f"benchmarks/data/{folder_name(config.task)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "task": config.task,
        "reference": reference,
        "burn_in": config.burn_in,
        "step_unit": config.step_unit,
        "models": {n: getattr(m, "info", {}).get("train_seconds") for n, m in models.items()},
        "sets": {},
        "settings": asdict(config),
    }
    hmax = max(config.horizons)
    for kind in config.sets:
        folder = data_dir / data_folder(
            kind, config.random_actions, config.push_factor, config.step_unit
        )
        data = test_set(config, kind, folder)
        by_step = {
            n: error_by_step(m, data, hmax, config.segments)["model"] for n, m in models.items()
        }
        ref16 = float(np.mean(by_step[reference][:16]))
        rows = {}
        for name, model in models.items():
            errs = prediction_errors(model, data, tuple(config.horizons), config.segments)
            rows[name] = {
                "errors": [e.as_dict() for e in errs],
                "equivalent_horizon": equivalent_horizon(by_step[name], ref16),
                "error_by_step": by_step[name].tolist(),
            }
        result["sets"][kind] = {
            "episodes": len(data.episodes),
            "steps": data.num_steps,
            "reference_16_step_mse": ref16,
            "models": rows,
        }
        title = f"{config.task}, {kind} actions, {config.step_unit} steps"
        plot_error_vs_horizon(by_step, out / f"error_vs_horizon_{kind}.png", title)
        plot_trajectories(models, data, out / f"trajectories_{kind}.png", horizon=min(hmax, 100))
    result["table"] = table(result, config.horizons)
    (out / "table.md").write_text(result["table"])
    return result


def table(result: dict[str, Any], horizons: tuple[int, ...]) -> str:
    """The markdown table of a benchmark result."""
    hmax = max(horizons)
    lines = [
        f"# {result['task']}: raw-state MSE against real MuJoCo (normalized MSE in brackets)\n"
    ]
    for kind, s in result["sets"].items():
        head = " | ".join(f"H={h}" for h in horizons)
        lines += [
            f"\n## {kind} actions ({s['episodes']} episodes)\n",
            f"| model | {head} | failed (H={hmax}) | equivalent horizon |",
            "|---|" + "---|" * (len(horizons) + 2),
        ]
        for name, row in s["models"].items():
            cells = " | ".join(
                f"{e['mse']:.4g} [{e['step_mse']:.3g}] ({e['normalized_mse']:.3g})"
                for e in row["errors"]
            )
            eq = row["equivalent_horizon"]
            eq_text = f"> {hmax}" if eq is None else str(eq)
            failed = 1 - row["errors"][-1]["finite_share"]
            lines.append(f"| {name} | {cells} | {failed:.0%} | {eq_text} |")
    return "\n".join(lines) + "\n"


def figures(result: dict[str, Any]) -> dict[str, float]:
    """The checkpoint's errors on the first test set, by name (``eval.metrics.error_figures``:
    ``mse_h100``), then every model's on every set (``ou/structure_free/mse_h100``)."""
    from mosim_ray.eval.metrics import error_figures

    first = next(iter(result["sets"].values()))
    out = error_figures(first["models"]["mosim"]["errors"])
    for test_set, s in result["sets"].items():
        for model, row in s["models"].items():
            for name, value in error_figures(row["errors"]).items():
                out[f"{test_set}/{model}/{name}"] = value
    return out


KIND = RunKind(
    name="benchmark",
    config=BenchmarkConfig,
    run=run,
    doc=__doc__,
    default_out=lambda c: f"benchmarks/results/prediction_{folder_name(c.task)}",
    summary=lambda result: result["table"].rstrip(),
    uses_ray=False,
    figures=figures,
    inputs=(
        "checkpoint",
        "policy",
    ),
)
