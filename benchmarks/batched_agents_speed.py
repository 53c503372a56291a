"""Several seeds in one process: do K SAC agents updated by batched matrix products beat K
separate updates on this CPU?

    python benchmarks/batched_agents_speed.py                 # about 4 minutes
    python benchmarks/batched_agents_speed.py --quick --json /tmp/b.json

The agents are ``sac_floor.FloorAgent`` (actor and twin critics 256x256 ReLU, batch 256, Adam,
automatic temperature, Polyak targets; cheetah-run's sizes, obs 17 and action 6). "separate" runs
K of them one after another, as K seeds in K processes would on one core; "batched" stacks the K
agents' weights and updates them with one ``torch.baddbmm`` per layer (the twin critics of all
agents as one stack of 2K), one loss summed over agents, one Adam over the stacked tensors: the
same arithmetic, agent by agent, which the script checks before timing (K=2, noise off, weights
after three updates equal to float rounding). Blocks of the two alternate, one torch thread, so
each ratio is of rates measured under the same load. Writes
``benchmarks/results/batched_agents_speed.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from sac_floor import FloorAgent, calls_per_second, squash_log_prob  # noqa: E402

from mosim_ray.runs.provenance import provenance, write_json  # noqa: E402

OBS, ACT = 17, 6


def stack_mlp(nets: list[torch.nn.Sequential]) -> list[torch.Tensor]:
    """[w1, b1, w2, b2, w3, b3] with w: [K, in, out] and b: [K, 1, out], from K nn.Sequential."""
    linears = [[m for m in net if isinstance(m, torch.nn.Linear)] for net in nets]
    out = []
    for layer in zip(*linears):
        out.append(torch.stack([lin.weight.detach().T for lin in layer]).contiguous())
        out.append(torch.stack([lin.bias.detach()[None] for lin in layer]).contiguous())
    return [p.requires_grad_(True) for p in out]


def _forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """A stack of 3-layer ReLU MLPs: x [K, B, in] -> [K, B, out]."""
    w1, b1, w2, b2, w3, b3 = params
    h = torch.baddbmm(b1, x, w1).relu()
    h = torch.baddbmm(b2, h, w2).relu()
    return torch.baddbmm(b3, h, w3)


class BatchedAgents:
    """K ``FloorAgent`` updates as one: every tensor carries a leading agent dim K."""

    def __init__(self, agents: list[FloorAgent]) -> None:
        self.k, self.act_dim, self.noise = len(agents), agents[0].act_dim, agents[0].noise
        self.pi = stack_mlp([a.pi for a in agents])
        self.q = stack_mlp([a.q1 for a in agents] + [a.q2 for a in agents])  # [2K, ...]
        self.t = [
            p.detach().clone() for p in stack_mlp([a.t1 for a in agents] + [a.t2 for a in agents])
        ]
        self.log_alpha = torch.cat([a.log_alpha.detach() for a in agents]).requires_grad_(True)
        self.opt_q = torch.optim.Adam(self.q, 3e-4)
        self.opt_pi = torch.optim.Adam(self.pi, 3e-4)
        self.opt_a = torch.optim.Adam([self.log_alpha], 3e-4)
        self.o, self.o2 = torch.stack([a.o for a in agents]), torch.stack([a.o2 for a in agents])
        self.a = torch.stack([a.a for a in agents])
        self.r, self.d = torch.stack([a.r for a in agents]), torch.stack([a.d for a in agents])

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = _forward(self.pi, obs).chunk(2, -1)
        log_std = log_std.clamp(-20, 2)
        u = mu + log_std.exp() * torch.randn_like(mu) if self.noise else mu
        return torch.tanh(u), squash_log_prob(u, mu, log_std)

    def twin_min(self, params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2) per agent: x [K, B, obs+act] -> [K, B]."""
        q = _forward(params, x.repeat(2, 1, 1)).squeeze(-1)
        return torch.min(q[: self.k], q[self.k :])

    def step(self) -> None:
        o, a, r, o2, d = self.o, self.a, self.r, self.o2, self.d
        alpha = self.log_alpha.exp().detach()[:, None]
        with torch.no_grad():
            a2, lp2 = self.act(o2)
            q_next = self.twin_min(self.t, torch.cat([o2, a2], -1))
            y = r + 0.99 * (1 - d) * (q_next - alpha * lp2)
        q = _forward(self.q, torch.cat([o, a], -1).repeat(2, 1, 1)).squeeze(-1)
        # each agent's loss is its own mean over the batch; summing over agents keeps gradients apart
        lq = ((q - y.repeat(2, 1)) ** 2).mean(-1).sum()
        self.opt_q.zero_grad()
        lq.backward()
        self.opt_q.step()
        an, lp = self.act(o)
        for p in self.q:
            p.requires_grad_(False)
        lpi = (alpha * lp - self.twin_min(self.q, torch.cat([o, an], -1))).mean(-1).sum()
        self.opt_pi.zero_grad()
        lpi.backward()
        self.opt_pi.step()
        for p in self.q:
            p.requires_grad_(True)
        la = -(self.log_alpha[:, None] * (lp.detach() - self.act_dim)).mean(-1).sum()
        self.opt_a.zero_grad()
        la.backward()
        self.opt_a.step()
        with torch.no_grad():
            torch._foreach_lerp_(self.t, self.q, 0.005)


def check_same_updates(k: int = 2, steps: int = 3) -> float:
    """Largest absolute difference between the batched agents' actor weights and the separate
    agents' after ``steps`` updates with noise off; raises if it is beyond float rounding."""
    separate = [FloorAgent(OBS, ACT, seed=s, noise=False) for s in range(k)]
    batched = BatchedAgents([FloorAgent(OBS, ACT, seed=s, noise=False) for s in range(k)])
    for _ in range(steps):
        batched.step()
        for agent in separate:
            agent.step()
    expected = stack_mlp([a.pi for a in separate]) + stack_mlp(
        [a.q1 for a in separate] + [a.q2 for a in separate]
    )
    diff = max((x - y).abs().max().item() for x, y in zip(expected, batched.pi + batched.q))
    if diff > 1e-4:
        raise AssertionError(f"batched updates differ from separate ones by {diff:.2e}")
    return diff


def measure(k: int, rounds: int, seconds: float) -> dict:
    """Alternating blocks of K separate agents and K batched ones: agent updates per second."""
    separate = [FloorAgent(OBS, ACT, seed=s) for s in range(k)]
    batched = BatchedAgents([FloorAgent(OBS, ACT, seed=s) for s in range(k)])

    def separate_step() -> None:
        for agent in separate:
            agent.step()

    for _ in range(5):
        separate_step()
        batched.step()
    sep, bat = [], []
    for _ in range(rounds):
        sep.append(k * calls_per_second(separate_step, seconds))
        bat.append(k * calls_per_second(batched.step, seconds))
    ratios = [b / s for b, s in zip(bat, sep)]
    return {
        "agents": k,
        "separate_updates_per_s": statistics.median(sep),
        "batched_updates_per_s": statistics.median(bat),
        "batched_over_separate": statistics.median(ratios),
        "ratio_per_round": ratios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one timed block")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2 s blocks")
    parser.add_argument("--json", default=str(HERE / "results" / "batched_agents_speed.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 3, 2.0
    if min(args.agents) < 1:
        parser.error("--agents must be at least 1")
    torch.set_num_threads(1)
    command = "python benchmarks/batched_agents_speed.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    result = {
        "command": command.strip(),
        "provenance": provenance(command.strip()),
        "obs_dim": OBS,
        "act_dim": ACT,
        "threads": 1,
        "max_abs_weight_difference_k2": check_same_updates(),
        "load_before": list(os.getloadavg()),
        "rows": [],
    }
    for k in args.agents:
        row = measure(k, args.rounds, args.seconds)
        result["rows"].append(row)
        print(
            f"K={k}: separate {row['separate_updates_per_s']:.1f}, batched "
            f"{row['batched_updates_per_s']:.1f} agent updates/s: {row['batched_over_separate']:.2f}x"
        )
    result["load_after"] = list(os.getloadavg())
    write_json(result, args.json)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
