"""Train a MoSim world model (or a baseline) on real rollouts and judge it on held-out episodes.

``python pipelines/train.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/train_model.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("train"))
