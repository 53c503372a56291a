#!/usr/bin/env bash
# Issue 7's bar on cheetah-run: few-shot and on-policy MoSimSAC from a model trained on 10,000
# random real steps, against real-env SAC trained on twice the real steps they use in all.
#
#   bash benchmarks/schedule_bar_cheetah.sh     (about 60 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
W=runs/bar7c
R=benchmarks/results
step() { echo "== $(date +%T) $*"; "$@"; }

[ -d $W/data ] || step $PY pipelines/collect.py --task cheetah-run --episodes 20 --steps 500 \
    --process poisson --out $W/data
[ -d $W/mosim/model ] || step $PY pipelines/train.py --task cheetah-run --data $W/data \
    --out $W/mosim --minutes 3 --threads 1
# the baseline: 10,000 (model data) + 10,000 (policy) real steps, twice over
[ -f $R/real_sac_cheetah-run.json ] || step $PY pipelines/real_sac.py --task cheetah-run \
    --env-steps 40000 --eval-every 5000 --eval-episodes 10 --threads 1 \
    --out $W/real_sac --json $R/real_sac_cheetah-run.json --no-progress
COMMON=(--task cheetah-run --data $W/data --baseline $R/real_sac_cheetah-run.json --threads 1)
step $PY pipelines/few_shot.py "${COMMON[@]}" --checkpoint $W/mosim/model --real-steps 10000 \
    --out $W/few_shot --json $R/few_shot_cheetah-run.json
step $PY pipelines/on_policy.py "${COMMON[@]}" --checkpoint $W/mosim/model --real-steps 10000 \
    --config configs/on_policy.yaml --out $W/on_policy --json $R/on_policy_cheetah-run_1step.json
# the same with 5 policy updates per real step (the policy collapsed after 4,000 real steps)
step $PY pipelines/on_policy.py "${COMMON[@]}" --checkpoint $W/mosim/model --real-steps 10000 \
    --config configs/on_policy.yaml --set overrides.training_intensity=1280 \
    --out $W/on_policy5 --json $R/on_policy_cheetah-run_1step_utd5.json
