#!/bin/sh
# Reproduces the training run of the mixed-corpus default model (issue 13):
# tokenizer and model trained by `gptviz train` on the built-in "mix"
# corpus (model/corpus/mix, see model/corpus/README.md), on the CPU, in three
# phases (4 h 8 min on two cores):
#
#   1. 28,000 steps, the learning rate's cosine decaying from 2e-3 to 2e-4;
#   2. resumed with --steps 52,000: the schedule is recomputed for the new
#      total, so the rate restarts at 1.0e-3 at step 28,001 (a warm
#      restart) and decays again to 2e-4 at step 52,000;
#   3. resumed with --steps 60,000: the rate restarts at 2.8e-4 at step
#      52,001 and decays to 2e-4 at step 60,000.
#
#   model/defaultmodel/train-mix.sh RUN_DIR
#   go run ./model/defaultmodel/internal/mkdefault RUN_DIR   # install it (F16)
#
# The same flags and seed give the same weights on any machine (the batch is
# always split into 2 shards, summed in order). An interrupted run continues
# with the same command: an existing checkpoint is resumed, not restarted,
# and a finished phase is not run again.
#
# GPTVIZ names the gptviz command (default: go run ./cmd/gptviz).
set -eu
out=${1:?usage: train-mix.sh RUN_DIR}
gptviz=${GPTVIZ:-go run ./cmd/gptviz}
if [ ! -f "$out/checkpoint.json" ]; then
	$gptviz train --corpus mix --out "$out" \
		--steps 28000 --vocab-size 8192 \
		--n-layer 4 --n-head 6 --n-embd 192 --n-positions 128 \
		--batch 8 --lr 2e-3 --warmup 200 --weight-decay 0.1 --grad-clip 1 \
		--dropout 0.15 --repeat-frac 0.3 --random-repeat-frac 0.2 --seed 1 --split-seed 1 \
		--eval-every 4000 --snapshots 0,100,500
fi

# step prints the step of the checkpoint in $out.
step() {
	sed -n 's/^  "step": \([0-9][0-9]*\),$/\1/p' "$out/checkpoint.json"
}

# phase TOTAL resumes the run to TOTAL steps, unless its checkpoint is
# there already (gptviz refuses a total before the checkpoint's step).
phase() {
	s=$(step)
	if [ "${s:-0}" -lt "$1" ]; then
		$gptviz train --out "$out" --resume --steps "$1"
	fi
}

# Finishes whichever phase the checkpoint records (nothing if it is done),
# then phases 2 and 3 (each nothing if the run is past it).
$gptviz train --out "$out" --resume
phase 52000
phase 60000
