"""Multi-step prediction error of a saved world model on real rollouts (horizons 3, 16, 100).

``python pipelines/evaluate.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/evaluate.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("evaluate"))
