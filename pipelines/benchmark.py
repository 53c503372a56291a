"""Prediction benchmark against real MuJoCo: world models side by side, horizons 3 / 16 / 100.

``python pipelines/benchmark.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/benchmark.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("benchmark"))
