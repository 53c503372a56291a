"""On-policy MoSim RL: the policy acts in the real environment, the model is updated every 100

``python pipelines/on_policy.py --help`` lists every setting; the run kind lives in
``mosim_ray/runs/on_policy.py``.
"""

import sys

from mosim_ray.runs.cli import main

if __name__ == "__main__":
    sys.exit(main("on_policy"))
