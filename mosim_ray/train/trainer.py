"""Multi-stage training of a dynamics model on real segments, within a wall-clock budget.

Stage 1 trains MoSim's predictor alone; stage k > 1 freezes everything before it and trains corrector
k-1 on what the earlier stages miss. ``joint=True`` trains everything at once (the paper's ablation).
Baselines have one stage. Each stage: multi-step rollout loss with a horizon curriculum, Adam with a
cosine learning rate, gradient clipping, validation on held-out episodes, early stopping, the best
weights kept and saved as a checkpoint.
"""

from __future__ import annotations

import copy
import csv
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from mosim_ray.data.reader import RolloutDataset
from mosim_ray.model.dynamics import DynamicsModel, MoSimDynamics, Step
from mosim_ray.model.world_model import WorldModel
from mosim_ray.train.config import STATE_FILE, TrainConfig


class StagedTrainer:
    """Trains ``model`` on ``train``, validates on ``val``, writes checkpoints and logs to ``out``."""

    def __init__(
        self,
        model: WorldModel,
        train: RolloutDataset,
        val: RolloutDataset,
        config: TrainConfig,
        out: str | Path,
    ):
        self.model, self.config, self.out = model, config, Path(out)
        self.dyn = model.dynamics
        self.step = compiled_step(self.dyn) if config.compile else None
        self.rng = np.random.default_rng(config.seed)
        torch.manual_seed(config.seed)
        if not train.episodes or not val.episodes:
            raise ValueError(
                f"need training and validation episodes, got {len(train.episodes)} and "
                f"{len(val.episodes)} (collect at least 3 episodes)"
            )
        self.train_segments = train.segments(config.horizon)
        val_segments = val.segments(config.horizon)
        idx = np.random.default_rng(config.seed + 1).integers(
            0, len(val_segments), config.eval_segments
        )
        self.val_states, self.val_actions = val_segments.get(val_segments.starts[idx])
        self.val_capped = 0.0
        """share of windows the last validation counted as no motion (diverged, or worse than that)"""
        self.updates = 0
        self.best_val, self.best_state, self.since_best = float("inf"), None, 0
        self._n, self._stage = 0, None
        self.history: list[dict[str, Any]] = []

    # --- plan ------------------------------------------------------------------------------------
    def stage_plan(self) -> list[int | None]:
        """Stages to run in order; ``None`` is one joint stage."""
        if self.config.joint or not isinstance(self.dyn, MoSimDynamics):
            return [None]
        n = self.dyn.stages if self.config.stages is None else self.config.stages
        if not 1 <= n <= self.dyn.stages:
            raise ValueError(f"stages must be in 1..{self.dyn.stages} for this model, got {n}")
        return list(range(1, n + 1))

    def stage_shares(self, n: int) -> list[float]:
        if n == 1:
            return [1.0]
        first = self.config.first_stage_share
        return [first] + [(1 - first) / (n - 1)] * (n - 1)

    # --- run -------------------------------------------------------------------------------------
    def run(self, progress: bool = True, resume: bool = False) -> dict[str, Any]:
        """Train through the stage plan. ``resume``: continue from ``<out>/trainer_state.pt`` (the
        state at the last evaluation: weights, optimizer, stage, update count, sampler RNG)."""
        cfg = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        if not any(True for _ in self.dyn.parameters()):  # the constant baseline: nothing to learn
            val = self.validate()
            self.model.save(self.out / "model", val_loss=val)
            return {"updates": 0, "val_loss": val, "seconds": 0.0}
        plan = self.stage_plan()
        shares = self.stage_shares(len(plan))
        # The bar every stage must beat: the model as given (a resumed model's full score).
        self.best_val, self.best_state = self.validate(), copy.deepcopy(self.dyn.state_dict())
        start = self._load_state(len(plan)) if resume else None
        t_start = time.perf_counter() - (start["seconds"] if start else 0.0)
        writer = _Logger(self.out)
        # The bar counts what ends the run: updates when they are capped, else seconds.
        unit = "s" if cfg.max_updates is None else "updates"
        bar = tqdm(
            total=int(cfg.minutes * 60) if cfg.max_updates is None else cfg.max_updates,
            desc=f"train {self.model.task}",
            disable=not progress,
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} " + unit + " {postfix}",
        )
        try:
            for index, (stage, share) in enumerate(zip(plan, shares, strict=True)):
                if start and index < start["stage_index"]:
                    continue  # finished before the interruption
                resumed = start if start and index == start["stage_index"] else None
                self._run_stage(index, stage, share, writer, bar, t_start, resumed)
            self._save_state(len(plan), 0, 0.0, None, t_start)  # complete
        except KeyboardInterrupt:
            print("interrupted: keeping the best weights so far")
        finally:
            bar.close()
            writer.close()
        val = self.validate()
        seconds = time.perf_counter() - t_start
        self.model.save(
            self.out / "model",
            val_loss=val,
            train_seconds=seconds,
            updates=self.updates,
            train_config=asdict(cfg),
        )
        return {
            "updates": self.updates,
            "val_loss": val,
            "seconds": seconds,
            "history": self.history,
        }

    def _run_stage(self, index, stage, share, writer, bar, t_start, resumed=None):
        cfg, dyn = self.config, self.dyn
        if isinstance(dyn, MoSimDynamics):
            dyn.set_stage(stage)
        params = list(dyn.parameters()) if stage is None else dyn.stage_parameters(stage)
        for p in dyn.parameters():
            p.requires_grad_(False)
        for p in params:
            p.requires_grad_(True)
        # fused: one kernel over all parameters, the same update to float rounding, a third of
        # the default Adam's time on CPU (benchmarks/model_step_speed.py)
        opt = torch.optim.Adam(params, lr=cfg.lr, fused=True)
        if resumed:
            opt.load_state_dict(resumed["opt"])
        seconds = cfg.minutes * 60 * share
        max_updates = None if cfg.max_updates is None else max(1, int(cfg.max_updates * share))
        t0, n, h, loss = time.perf_counter(), 0, cfg.horizon_start, torch.zeros(())
        if resumed:
            t0, n = t0 - resumed["stage_seconds"], resumed["n"]
        self._stage = (index, t0, opt)
        self.since_best = 0
        try:
            while True:
                frac = max(
                    (time.perf_counter() - t0) / seconds, n / max_updates if max_updates else 0.0
                )
                if frac >= 1 or self.since_best >= cfg.patience:
                    break
                h = cfg.horizon_start + round(
                    (cfg.horizon - cfg.horizon_start) * min(1.0, frac / cfg.curriculum)
                )
                cosine = 0.5 * (1 + math.cos(math.pi * frac))
                for g in opt.param_groups:
                    g["lr"] = cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * cosine)
                states, actions = self.train_segments.sample(cfg.batch_size, self.rng)
                dyn.train()
                loss = dyn.loss(
                    states[:, : h + 1],
                    actions[:, :h],
                    _step_weights(h, cfg.step_discount),
                    normalized=cfg.normalize_loss,
                    step=self.step,
                )
                opt.zero_grad(set_to_none=True)
                if not torch.isfinite(loss):
                    continue  # a diverging rollout: skip the batch rather than poison the weights
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                opt.step()
                n += 1
                self.updates += 1
                self._n = n
                if n % cfg.eval_every == 0:
                    self._evaluate(stage, h, loss.item(), opt, frac, writer, bar, t_start)
            if n and n % cfg.eval_every:  # the stage's last updates are judged too
                self._evaluate(stage, h, loss.item(), opt, frac, writer, bar, t_start)
        finally:
            # Also on Ctrl-C: the model leaves every stage with the best weights seen so far (which
            # may be an earlier stage's, its later correctors then switched off).
            dyn.load_state_dict(self.best_state)
            dyn.eval()

    def _evaluate(self, stage, h, train_loss, opt, frac, writer, bar, t_start) -> None:
        """Validate; keep and save the weights if they are the best of the whole run; log a row."""
        val = self.validate()
        if val < self.best_val:
            self.best_val, self.best_state = val, copy.deepcopy(self.dyn.state_dict())
            self.since_best = 0
            self.model.save(self.out / "model", val_loss=val, updates=self.updates)
        elif frac > self.config.curriculum:
            self.since_best += 1
        row = {
            "update": self.updates,
            "stage": stage or 0,
            "horizon": h,
            "train_loss": train_loss,
            "val_loss": val,
            "val_capped": self.val_capped,
            "best_val_loss": self.best_val,
            "lr": opt.param_groups[0]["lr"],
            "seconds": time.perf_counter() - t_start,
        }
        self.history.append(row)
        writer.log(row)
        index, t0, opt = self._stage
        self._save_state(index, self._n, time.perf_counter() - t0, opt, t_start)
        done = int(row["seconds"]) if self.config.max_updates is None else self.updates
        bar.n = min(done, bar.total)
        bar.set_postfix(stage=stage or "joint", h=h, val=f"{val:.2e}", best=f"{self.best_val:.2e}")

    # --- resumable state -------------------------------------------------------------------------
    def _save_state(self, stage_index, n, stage_seconds, opt, t_start) -> None:
        state = {
            "plan_length": len(self.stage_plan()),
            "stage_index": stage_index,
            "n": n,
            "stage_seconds": stage_seconds,
            "seconds": time.perf_counter() - t_start,
            "opt": opt.state_dict() if opt is not None else None,
            "model": self.dyn.state_dict(),
            "best_val": self.best_val,
            "best_state": self.best_state,
            "updates": self.updates,
            "rng": self.rng.bit_generator.state,
            "history": self.history,
        }
        tmp = self.out / f".{STATE_FILE}.tmp"
        torch.save(state, tmp)
        tmp.replace(self.out / STATE_FILE)

    def _load_state(self, plan_length: int) -> dict[str, Any] | None:
        path = self.out / STATE_FILE
        if not path.exists():
            return None
        # our own file, holding optimizer and RNG state (not only tensors)
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state["stage_index"] >= state["plan_length"]:
            return None  # that run finished: train on from the saved weights as a new run
        if state["plan_length"] != plan_length:
            raise ValueError(
                f"{path}: saved run has {state['plan_length']} stages, this one {plan_length}"
            )
        self.dyn.load_state_dict(state["model"])
        self.best_val, self.best_state = state["best_val"], state["best_state"]
        self.updates, self.history = state["updates"], state["history"]
        self.rng.bit_generator.state = state["rng"]
        self._n = state["n"]
        return state

    @torch.no_grad()
    def validate(self) -> float:
        """Normalized MSE of open-loop rollouts over ``horizon`` steps on held-out episodes, each
        window counted at most as its error when nothing moves (its first state held): a window that
        diverges counts as that, never dropped and never infinite. One held-out state far outside
        the training data, where every model diverges, must not leave every validation infinite,
        the best weights never replaced and the starting weights shipped as trained."""
        self.dyn.eval()
        pred = self.dyn.rollout(self.val_states[:, 0], self.val_actions)
        truth, scale = self.val_states[:, 1:], self.dyn.norm.loss_scale
        err = ((pred - truth) / scale).pow(2)
        window = err.mean(dim=(1, 2))  # [B]
        still = ((self.val_states[:, :1] - truth) / scale).pow(2).mean(dim=(1, 2))
        capped = ~(window <= still)  # NaN and inf too
        self.val_capped = float(capped.float().mean())
        if bool(capped.any()):
            return float(torch.where(capped, still, window).mean())
        return float(err.mean())


def compiled_step(dynamics: DynamicsModel) -> Step:
    """The dynamics' step through torch.compile (imported here only: compiling is opt-in)."""
    from mosim_ray.model.compiled import CompiledStep

    return CompiledStep(dynamics)


def _step_weights(h: int, discount: float) -> torch.Tensor:
    w = discount ** torch.arange(h, dtype=torch.float32)
    return w / w.sum()


def fit_normalizer(model: WorldModel, data: RolloutDataset, horizon: int) -> None:
    """Fit the model's normalization statistics on the transitions of ``data``."""
    states = np.concatenate([e.states[:-1] for e in data.episodes])
    nxt = np.concatenate([e.states[1:] for e in data.episodes])
    actions = np.concatenate([e.actions for e in data.episodes])
    model.dynamics.norm.fit(model.spec, states, actions, nxt, horizon=horizon)
    limits = getattr(model.dynamics, "limits", None)
    if limits is not None:
        limits.widen_to(np.concatenate([states, nxt]))


class _Logger:
    """CSV and TensorBoard logs of training."""

    def __init__(self, out: Path):
        self.csv_path = out / "train_log.csv"
        self.file = open(self.csv_path, "a", newline="")  # noqa: SIM115 (closed in close())
        self.csv: csv.DictWriter | None = None
        try:
            from tensorboardX import SummaryWriter

            self.tb = SummaryWriter(str(out / "tb"))
        except ImportError:  # TensorBoard logs are a convenience, not a requirement
            self.tb = None

    def log(self, row: dict[str, Any]) -> None:
        if self.csv is None:
            self.csv = csv.DictWriter(self.file, fieldnames=list(row))
            if self.file.tell() == 0:
                self.csv.writeheader()
        self.csv.writerow(row)
        self.file.flush()
        if self.tb is not None:
            for k, v in row.items():
                # inf is "no validation yet": the CSV keeps it, a plot has no point for it
                if k != "update" and math.isfinite(float(v)):
                    self.tb.add_scalar(k, v, row["update"])

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()
