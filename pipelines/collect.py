"""Collect real MuJoCo rollouts with parallel Ray actors into Parquet shards.

``python pipelines/collect.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/collect.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("collect"))
