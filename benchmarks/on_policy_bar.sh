#!/usr/bin/env bash
# Issue 7's bar for the on-policy schedule, session 5: branches from the trainer's whole dataset
# (branch_from=dataset) and longer than one step, more policy updates per real step. Same starting
# models, data and real-env SAC baselines as schedule_bar.sh / schedule_bar_cheetah.sh (run those
# first). One variant per call, so that variants can run beside each other:
#
#   bash benchmarks/on_policy_bar.sh VARIANT [mosim|ensemble]
#
# VARIANT: reacher_long | cheetah_long | cheetah_mid. Results: runs/bar9/VARIANT[_ensemble].json
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
R=benchmarks/results
VARIANT=${1:?variant: reacher_long, cheetah_long or cheetah_mid}
MODEL=${2:-mosim}
case $VARIANT in
  reacher_long)  # 5 policy updates per real step; one 50-step branch per real step, fresh targets
    TASK=reacher-hard; W=runs/bar7
    SETS=(--set overrides.training_intensity=1280 --set mosim.task_contexts=true
          --set mosim.branch_length=50 --set mosim.branches_per_real_step=1
          --set mosim.real_fraction=0.25) ;;
  cheetah_long)  # 5 policy updates per real step; one 20-step branch per real step, 10% real
    TASK=cheetah-run; W=runs/bar7c
    SETS=(--set overrides.training_intensity=1280 --set mosim.branch_length=20
          --set mosim.branches_per_real_step=1 --set mosim.real_fraction=0.1) ;;
  cheetah_mid)   # 2 policy updates per real step; two 10-step branches per real step, 25% real
    TASK=cheetah-run; W=runs/bar7c
    SETS=(--set overrides.training_intensity=512 --set mosim.branch_length=10
          --set mosim.branches_per_real_step=2 --set mosim.real_fraction=0.25) ;;
  *) echo "unknown variant $VARIANT" >&2; exit 2 ;;
esac
NAME=$VARIANT; [ "$MODEL" = mosim ] || NAME=${VARIANT}_$MODEL
mkdir -p runs/bar9
$PY pipelines/on_policy.py --task $TASK --data $W/data --baseline $R/real_sac_$TASK.json \
    --threads 1 --checkpoint $W/$MODEL/model --real-steps 10000 --config configs/on_policy.yaml \
    --set mosim.branch_from=dataset "${SETS[@]}" \
    --out runs/bar9/$NAME --json runs/bar9/$NAME.json
