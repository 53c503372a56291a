"""The batched-agents benchmark times the same arithmetic as separate agents, agent by agent."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from batched_agents_speed import ACT, OBS, BatchedAgents, check_same_updates, stack_mlp  # noqa: E402
from sac_floor import FloorAgent  # noqa: E402


def test_batched_updates_equal_separate_ones():
    assert check_same_updates(k=3, steps=2) < 1e-4


def test_an_agent_updated_with_another_agents_data_is_told_apart():
    separate = FloorAgent(OBS, ACT, seed=0, noise=False)
    other = FloorAgent(OBS, ACT, seed=1, noise=False)
    batched = BatchedAgents([FloorAgent(OBS, ACT, seed=0, noise=False)])
    batched.o, batched.o2 = other.o[None], other.o2[None]
    separate.step()
    batched.step()
    diff = max((x - y).abs().max().item() for x, y in zip(stack_mlp([separate.pi]), batched.pi))
    assert diff > 1e-4


def test_batched_agents_keep_their_own_temperature():
    agents = [FloorAgent(OBS, ACT, seed=s) for s in range(2)]
    batched = BatchedAgents(agents)
    for _ in range(3):
        batched.step()
    assert batched.log_alpha.shape == (2,)
    assert not torch.equal(batched.log_alpha[0], batched.log_alpha[1])
