"""The speed tables of BENCHMARKS.md from their benchmarks' result files."""

from __future__ import annotations

from typing import Any


def imagined_bound_markdown(result: dict[str, Any]) -> str:
    """``benchmarks/imagined_bound.py``'s JSON -> a Markdown table, a row per task: the model's
    product arithmetic per state step, this core's small-product rate, the model step's rate and
    its share of that rate, and the bound beside dm_control's ``env.step``."""
    lines = [
        "| task | model | substeps | MFLOP in products a state step | small products, GFLOP/s "
        "| model step, states/s (share of product rate) | dm_control `env.step`/s "
        "| model step ÷ dm_control | **bound ÷ dm_control** |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, r in result["tasks"].items():
        m = r["measured"]
        small = min(m[f"gemm {result['batch']}x{w}x{w} flop/s"] for w in r["hidden_widths"])
        lines.append(
            f"| {task} | {r['model']} | {r['model_substeps']} "
            f"| {r['product_flops_per_state_step'] / 1e6:.2f} | {small / 1e9:.1f} "
            f"| {m['model step states/s']:,.0f} ({r['share_of_small_gemm_rate']:.0%}) "
            f"| {m['dm_control env.step']:,.0f} | {r['model_step_ratio_to_dm_control']:.1f}x "
            f"| **{r['bound_ratio_to_dm_control']:.1f}x** |"
        )
    return "\n".join(lines) + "\n"
