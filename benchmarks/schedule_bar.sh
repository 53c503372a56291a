#!/usr/bin/env bash
# Issue 7's bar on reacher-hard: few-shot and on-policy MoSimSAC against real-env SAC at twice
# the real steps, the MLP-ensemble peer, and the density penalty on and off.
#
#   bash benchmarks/schedule_bar.sh            (about 80 minutes on 2 cores)
#
# Every real step counts: the 10,000 random real steps the starting model learned from are
# added to the policy's real steps in BENCHMARKS.md. The baseline is
# benchmarks/results/real_sac_reacher-hard.json (pipelines/real_sac.py, 50,400 real steps).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
W=runs/bar7
BASE=benchmarks/results/real_sac_reacher-hard.json
R=benchmarks/results
step() { echo "== $(date +%T) $*"; "$@"; }

# the starting model: 10,000 random real steps (reacher-easy and -hard share the robot)
[ -d $W/data ] || step $PY pipelines/collect.py --task reacher-easy --episodes 20 --steps 500 \
    --process poisson --out $W/data
[ -d $W/mosim/model ] || step $PY pipelines/train.py --task reacher-easy --data $W/data \
    --out $W/mosim --minutes 3
[ -d $W/density ] || step $PY pipelines/fit_density.py --task reacher-easy --data $W/data \
    --out $W/density --steps 1000

# the MBPO-style peer first (the MoSim runs record its return): the same schedules with the MLP
# ensemble trained on the same data
[ -d $W/ensemble/model ] || step $PY pipelines/train.py --task reacher-easy --data $W/data \
    --kind ensemble --out $W/ensemble --minutes 3
COMMON=(--task reacher-hard --data $W/data --baseline $BASE --threads 1)
# on-policy: 5 policy updates per real step (training_intensity 5 x batch 256), 5-step branches
# with fresh reacher targets
ON_POLICY=(--config configs/on_policy.yaml --set overrides.training_intensity=1280
           --set mosim.task_contexts=true --set mosim.branch_length=5)
step $PY pipelines/few_shot.py "${COMMON[@]}" --checkpoint $W/ensemble/model --real-steps 10000 \
    --out $W/few_shot_ensemble --json $R/few_shot_reacher-hard_ensemble.json
step $PY pipelines/on_policy.py "${COMMON[@]}" "${ON_POLICY[@]}" --checkpoint $W/ensemble/model \
    --real-steps 10000 --out $W/on_policy_ensemble --json $R/on_policy_reacher-hard_5step_ensemble.json

step $PY pipelines/few_shot.py "${COMMON[@]}" --checkpoint $W/mosim/model --real-steps 10000 \
    --ensemble $R/few_shot_reacher-hard_ensemble.json \
    --out $W/few_shot --json $R/few_shot_reacher-hard.json
step $PY pipelines/on_policy.py "${COMMON[@]}" "${ON_POLICY[@]}" --checkpoint $W/mosim/model \
    --real-steps 10000 --ensemble $R/on_policy_reacher-hard_5step_ensemble.json \
    --out $W/on_policy --json $R/on_policy_reacher-hard_5step.json
# the density penalty on (the runs above have it off): fitted at the start, refitted every round
step $PY pipelines/few_shot.py "${COMMON[@]}" --checkpoint $W/mosim/model --real-steps 10000 \
    --set mosim.density_refit_every=1 --out $W/few_shot_penalty \
    --json $R/few_shot_reacher-hard_penalty_refit.json
