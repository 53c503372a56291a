"""On-policy MoSim RL: the policy acts in the real environment, the model is updated every 100
real steps, and SAC also learns from short imagined branches off real states (MoSimSAC).

    python pipelines/on_policy.py --task reacher-hard --real-steps 20000

The env runners (--env-runners x --num-envs real robots) collect real transitions; every
mosim.model_update_every (100) real steps the trainer actor updates the model on its replay of
real segments; mosim.branches_per_real_step branches of mosim.branch_length imagined steps start
from real states, and each policy batch is mosim.real_fraction real, the rest imagined. Any field
of configs/on_policy.yaml can be set with --set. Writes result.json, curves.png and the policy.
"""

import sys

from mosim_ray.rl.schedule_cli import main

if __name__ == "__main__":
    sys.exit(main("on_policy", __doc__))
