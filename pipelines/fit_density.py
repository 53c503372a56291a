"""Fit the density penalty's normalizing flow to a world model's real training data.

``python pipelines/fit_density.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/fit_density.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("fit_density"))
