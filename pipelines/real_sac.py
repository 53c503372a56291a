"""The model-free baseline: RLlib SAC (same settings as in imagination) in the real environment.

``python pipelines/real_sac.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/real_sac.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("real_sac"))
