#!/usr/bin/env bash
# Issue 7's bar for the on-policy schedule, session 5: branches from the trainer's whole dataset
# (branch_from=dataset) and longer than one step, more policy updates per real step. Same starting
# models, data and real-env SAC baselines as schedule_bar.sh / schedule_bar_cheetah.sh (run those
# first). One variant per call, so that variants can run beside each other:
#
#   bash benchmarks/on_policy_bar.sh VARIANT [mosim|ensemble] [SEED]
#
# VARIANT: reacher_long | reacher_imag | cheetah_long | cheetah_real | cheetah_mid.
# Results: runs/bar9/VARIANT[_ensemble][_seedN].json (seed 0 unnamed)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
R=benchmarks/results
VARIANT=${1:?variant: reacher_long, cheetah_long or cheetah_mid}
MODEL=${2:-mosim}
SEED=${3:-0}
case $VARIANT in
  reacher_long)  # 5 policy updates per real step; one 50-step branch per real step, fresh targets
    TASK=reacher-hard; W=runs/bar7
    SETS=(--set overrides.training_intensity=1280 --set mosim.task_contexts=true
          --set mosim.branch_length=50 --set mosim.branches_per_real_step=1
          --set mosim.real_fraction=0.25) ;;
  reacher_imag)  # as reacher_long, nearer few-shot: 100-step branches, 5% real in each batch
    TASK=reacher-hard; W=runs/bar7
    SETS=(--set overrides.training_intensity=1280 --set mosim.task_contexts=true
          --set mosim.branch_length=100 --set mosim.branches_per_real_step=0.5
          --set mosim.real_fraction=0.05) ;;
  cheetah_long)  # 5 policy updates per real step; one 20-step branch per real step, 10% real
    TASK=cheetah-run; W=runs/bar7c
    SETS=(--set overrides.training_intensity=1280 --set mosim.branch_length=20
          --set mosim.branches_per_real_step=1 --set mosim.real_fraction=0.1) ;;
  cheetah_real)  # the control: cheetah_long with no branches, every batch real (SAC at 5
                 # updates per real step beside the same model updates)
    TASK=cheetah-run; W=runs/bar7c
    SETS=(--set overrides.training_intensity=1280 --set mosim.branch_length=20
          --set mosim.branches_per_real_step=0 --set mosim.real_fraction=1.0) ;;
  cheetah_mid)   # 2 policy updates per real step; two 10-step branches per real step, 25% real
    TASK=cheetah-run; W=runs/bar7c
    SETS=(--set overrides.training_intensity=512 --set mosim.branch_length=10
          --set mosim.branches_per_real_step=2 --set mosim.real_fraction=0.25) ;;
  *) echo "unknown variant $VARIANT" >&2; exit 2 ;;
esac
NAME=$VARIANT; [ "$MODEL" = mosim ] || NAME=${NAME}_$MODEL; [ "$SEED" = 0 ] || NAME=${NAME}_seed$SEED
mkdir -p runs/bar9
$PY pipelines/on_policy.py --task $TASK --data $W/data --baseline $R/real_sac_$TASK.json \
    --threads 1 --checkpoint $W/$MODEL/model --real-steps 10000 --config configs/on_policy.yaml \
    --set mosim.branch_from=dataset --set seed=$SEED "${SETS[@]}" \
    --out runs/bar9/$NAME --json runs/bar9/$NAME.json
