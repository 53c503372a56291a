"""The docs' tables from the results: nothing typed by hand.

    python benchmarks/report.py            # rewrite the tables, headline.json and the plots
    python benchmarks/report.py --check    # exit 1 when the docs differ from what the results give

Reads every experiment (``benchmarks/experiments/*.yaml``) and its seed files
(``benchmarks/results/<name>/seed<N>.json``), and writes between markers in BENCHMARKS.md and
README.md (``<!-- report:headline -->`` ... ``<!-- /report:headline -->``), the rows to
``benchmarks/results/headline.json`` one plot per task (``headline_<task>.png``, ``gym:`` as ``gym_``) and the horizon sweep's
(``horizon.png``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("BENCHMARKS.md", "README.md")
HEADLINE = Path("benchmarks/results/headline.json")
FIGURES = ("mse_h16", "mse_h100", "step_mse_h100", "failed_h100")
"""the prediction tables' columns"""
PAPER_FIGURES = ("mse_h16", "mse_h100")
GENERALISATION_FIGURES = ("failed_h100", "mse_h16", "mse_h100")
"""the generalisation table's columns (the last also as a multiple of structure-free's)"""
BENCHMARK_TABLES = {
    "shipped": "benchmarks/results/shipped_*/result.json",
    "policy_actions": "benchmarks/results/policy_actions_*/result.json",
}
"""BENCHMARKS.md's marker -> the prediction benchmarks it tabulates (``pipelines/benchmark.py``)"""
IMAGINED_BOUND = Path("benchmarks/results/imagined_bound.json")
HORIZON_PLOT = Path("benchmarks/results/horizon.png")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = p.parse_args(argv)
    import os

    os.chdir(ROOT)
    from mosim_ray.experiments.report import (
        headline_json,
        headline_markdown,
        headline_rows,
        horizon_markdown,
        horizon_rows,
        paired_markdown,
        paired_rows,
        replace_between,
    )
    from mosim_ray.experiments.report_plot import plot_horizon, plot_task
    from mosim_ray.experiments.report_prediction import (
        benchmark_markdown,
        generalisation_markdown,
        generalisation_rows,
        paper_markdown,
        prediction_markdown,
        prediction_rows,
    )
    from mosim_ray.experiments.report_published import published_markdown, published_rows
    from mosim_ray.experiments.report_speed import imagined_bound_markdown
    from mosim_ray.experiments.report_time import seed_time_markdown, seed_time_rows
    from mosim_ray.experiments.spec import load_experiment
    from mosim_ray.runs.names import folder_name

    experiments = [
        load_experiment(f) for f in sorted(Path("benchmarks/experiments").glob("*.yaml"))
    ]
    rows = headline_rows(experiments)
    choosing = headline_rows(experiments, table="choosing")
    paired = paired_rows(experiments, rows)
    published = published_rows(rows)
    wanted = {HEADLINE: headline_json(rows, paired, published)}
    table = headline_markdown(rows)
    for doc in DOCS:
        wanted[Path(doc)] = replace_between(Path(doc).read_text(), "headline", table)
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "choosing", headline_markdown(choosing)
    )
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "paired", paired_markdown(paired)
    )
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "published", published_markdown(published)
    )
    prediction = prediction_rows(experiments)
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "prediction", prediction_markdown(prediction, FIGURES)
    )
    paper = prediction_rows(experiments, table="paper")
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "paper", paper_markdown(paper, PAPER_FIGURES)
    )
    horizon = horizon_rows(experiments)
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "horizon", horizon_markdown(horizon)
    )
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")],
        "generalisation",
        generalisation_markdown(generalisation_rows(experiments), GENERALISATION_FIGURES),
    )
    wanted[Path("BENCHMARKS.md")] = replace_between(
        wanted[Path("BENCHMARKS.md")], "seed_time", seed_time_markdown(seed_time_rows(experiments))
    )
    for marker, pattern in BENCHMARK_TABLES.items():
        results = [json.loads(f.read_text()) for f in sorted(Path().glob(pattern))]
        wanted[Path("BENCHMARKS.md")] = replace_between(
            wanted[Path("BENCHMARKS.md")], marker, benchmark_markdown(results, FIGURES)
        )
    if IMAGINED_BOUND.is_file():
        wanted[Path("BENCHMARKS.md")] = replace_between(
            wanted[Path("BENCHMARKS.md")],
            "imagined_bound",
            imagined_bound_markdown(json.loads(IMAGINED_BOUND.read_text())),
        )
    stale = [
        str(path) for path, text in wanted.items() if not path.is_file() or path.read_text() != text
    ]
    if args.check:
        if stale:
            print(f"stale: {', '.join(stale)}; run python benchmarks/report.py", file=sys.stderr)
            return 1
        print(f"report up to date: {len(rows)} rows")
        return 0
    for path, text in wanted.items():
        path.write_text(text)
    for task in sorted({r["task"] for r in rows if r["n_seeds"]}):
        name = folder_name(task)  # gym:Hopper-v5 -> gym_Hopper-v5: no colon in a file name
        plot_task(task, experiments, Path(f"benchmarks/results/headline_{name}.png"))
    plot_horizon(horizon, HORIZON_PLOT)
    print(f"{len(rows)} rows; rewrote {', '.join(stale) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
