"""Zero-shot MoSim RL: a policy learns only inside the world model, then acts in real MuJoCo.

``python pipelines/zero_shot.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/zero_shot.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("zero_shot"))
