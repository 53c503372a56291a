"""Few-shot MoSim RL: SAC learns in imagination; the model keeps learning from a trickle of real

``python pipelines/few_shot.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/few_shot.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("few_shot"))
