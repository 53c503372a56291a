#!/usr/bin/env bash
# The prediction benchmark on the contact-rich tasks: hopper-hop and humanoid-walk, MoSim with two correctors
# trained in three stages (predictor, then corrector 1, then corrector 2, each stage freezing what
# came before) beside the structure-free ablation and the MLP ensemble, then the prediction
# benchmark on fresh random-action test rollouts.
#
#   bash benchmarks/prediction_multistage.sh [TASK ...]     (about 40 minutes a task on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MIN=${MIN:-12}        # MoSim's budget in minutes (the baselines get half: section 8 says why)
step() { echo "== $(date +%T) $*"; "$@"; }
TASKS=("$@")
[ ${#TASKS[@]} -gt 0 ] || TASKS=(hopper-hop humanoid-walk)
for T in "${TASKS[@]}"; do
  [ -d data/$T ] || step $PY pipelines/collect.py --task $T --episodes 100 --steps 500 \
      --process.kind poisson --actors 2 --out data/$T
  [ -d runs/$T/model ] || step $PY pipelines/train.py --task $T --data data/$T --out runs/$T \
      --model.correctors 2 --training.minutes $MIN --threads 1 --no-progress
  for K in structure_free ensemble; do
    [ -d runs/$T-$K/model ] || step $PY pipelines/train.py --task $T --data data/$T --model.kind $K \
        --out runs/$T-$K --training.minutes $((MIN / 2)) --threads 1 --no-progress
  done
  step $PY pipelines/benchmark.py --task $T --checkpoint runs/$T/model --test-sets random \
      --set "baselines={structure_free: runs/$T-structure_free/model, ensemble: runs/$T-ensemble/model}" \
      --threads 1
done
