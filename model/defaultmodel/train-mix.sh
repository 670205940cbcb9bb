#!/bin/sh
# Reproduces the training run of the mixed-corpus model (issue 13):
# tokenizer and model trained by `gptviz train` on the built-in "mix"
# corpus (model/corpus/mix, see model/corpus/README.md), on the CPU.
#
#   model/defaultmodel/train-mix.sh RUN_DIR               # the 2,000-step run
#   model/defaultmodel/train-mix.sh RUN_DIR TOTAL_STEPS   # then continue it to TOTAL_STEPS
#   go run ./model/defaultmodel/internal/mkdefault RUN_DIR   # install it (F16)
#
# The same flags and seed give the same weights on any machine (the batch is
# always split into 2 shards, summed in order). An interrupted run continues
# with the same command: an existing checkpoint is resumed, not restarted.
#
# A continuation (TOTAL_STEPS > 2000) resumes the finished 2,000-step run
# with a new total: the cosine learning-rate schedule is recomputed for the
# new total from step 2,000 on (a warm restart: the rate rises from 2e-4
# and decays again to 2e-4 at TOTAL_STEPS). It is reproducible as these two
# phases, not as one run of TOTAL_STEPS.
#
# GPTVIZ names the gptviz command (default: go run ./cmd/gptviz).
set -eu
out=${1:?usage: train-mix.sh RUN_DIR [TOTAL_STEPS]}
total=${2:-2000}
gptviz=${GPTVIZ:-go run ./cmd/gptviz}
if [ ! -f "$out/checkpoint.json" ]; then
	$gptviz train --corpus mix --out "$out" \
		--steps 2000 --vocab-size 6144 \
		--n-layer 4 --n-head 4 --n-embd 128 --n-positions 128 \
		--batch 8 --lr 2e-3 --warmup 200 --weight-decay 0.1 --grad-clip 1 \
		--dropout 0 --repeat-frac 0.1 --seed 1 --split-seed 1 \
		--eval-every 500 --snapshots 0,100,500
fi
step=$(sed -n 's/^  "step": \([0-9]*\),$/\1/p' "$out/train_state.json")
if [ "$step" -lt 2000 ]; then
	$gptviz train --out "$out" --resume --steps 2000
	step=2000
fi
if [ "$total" -gt "$step" ]; then
	exec $gptviz train --out "$out" --resume --steps "$total"
fi
