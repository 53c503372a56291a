#!/usr/bin/env bash
# The MBPO-style peer of benchmarks/schedule_bar_cheetah.sh: the same few-shot and on-policy schedules with the
# MLP ensemble trained for 3 minutes on the same 10,000 random real steps.
#
#   bash benchmarks/schedule_bar_cheetah_peer.sh     (about 35 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
W=runs/bar7c
R=benchmarks/results
step() { echo "== $(date +%T) $*"; "$@"; }
[ -d $W/ensemble/model ] || step $PY pipelines/train.py --task cheetah-run --data $W/data \
    --kind ensemble --out $W/ensemble --minutes 3 --threads 1 --no-progress
step $PY pipelines/few_shot.py --task cheetah-run --data $W/data --threads 1 \
    --baseline $R/real_sac_cheetah-run.json --checkpoint $W/ensemble/model --real-steps 10000 \
    --out $W/few_shot_ensemble --json $R/few_shot_cheetah-run_ensemble.json
step $PY benchmarks/merge_peer.py $R/few_shot_cheetah-run.json $R/few_shot_cheetah-run_ensemble.json
step $PY pipelines/on_policy.py --task cheetah-run --data $W/data --threads 1 \
    --baseline $R/real_sac_cheetah-run.json --checkpoint $W/ensemble/model --real-steps 10000 \
    --config configs/on_policy.yaml --out $W/on_policy_ensemble \
    --json $R/on_policy_cheetah-run_1step_ensemble.json
step $PY benchmarks/merge_peer.py $R/on_policy_cheetah-run_1step.json $R/on_policy_cheetah-run_1step_ensemble.json
