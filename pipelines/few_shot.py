"""Few-shot MoSim RL: SAC learns in imagination; the model keeps learning from a trickle of real
data collected with the current policy (the paper's schedule, as the RLlib algorithm MoSimSAC).

    python pipelines/few_shot.py --task reacher-hard --data data/reacher-easy --real-steps 10000

Starts from a zero-shot model (--checkpoint, default the shipped one) and its real training data
(--data). Every mosim.model_update_every (100) imagined steps the trainer actor makes a model
update; every mosim.imagined_per_round (5,000) imagined steps, --actors collector actors run the
current policy for mosim.real_per_round (1,000) real steps in parallel, the trainer ingests them
and imagined episodes reset from them. Any field of configs/few_shot.yaml can be set with --set.
Writes result.json (every count, time by activity, curves), curves.png and the policy to --out.
"""

import sys

from mosim_ray.rl.schedule_cli import main

if __name__ == "__main__":
    sys.exit(main("few_shot", __doc__))
