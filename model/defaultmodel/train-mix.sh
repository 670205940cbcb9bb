#!/bin/sh
# Reproduces the training run of the default model (issue 13, MODEL_CARD.md):
# tokenizer and model trained by `gptviz train` on the built-in "mix"
# corpus (model/corpus/mix, see model/corpus/README.md), on the CPU.
#
#   model/defaultmodel/train-mix.sh RUN_DIR                  # all three phases
#   go run ./model/defaultmodel/internal/mkdefault RUN_DIR   # install it (F16)
#
# The run is three phases, each a resume of the last with a new total:
#
#   1. steps 0–2,000: a fresh run of 2,000 steps (tokenizer, warm-up,
#      cosine decay to 2e-4; snapshots at steps 0, 100 and 500; an
#      evaluation every 500 steps);
#   2. steps 2,001–6,000: `--resume --steps 6000`;
#   3. steps 6,001–10,000: `--resume --steps 10000 --eval-every 1000`.
#
# At each resume with a new total the run goes on with the cosine
# learning-rate schedule of the new total, as if planned for it from step 0
# (a warm restart: the rate jumps from 2e-4 back up, to 1.6e-3 at step 2,001
# and 8.4e-4 at step 6,001, and decays again to 2e-4 at the new total). The
# weights are therefore reproducible as these three phases, not as one run
# of 10,000 steps.
#
# The same flags and seed give the same weights on any machine (the batch is
# always split into 2 shards, summed in order). An interrupted run continues
# with the same command: the checkpoint's step says which phase to resume
# (a phase interrupted part-way resumes with its own total, unchanged).
#
# GPTVIZ names the gptviz command (default: go run ./cmd/gptviz).
set -eu
out=${1:?usage: train-mix.sh RUN_DIR}
gptviz=${GPTVIZ:-go run ./cmd/gptviz}
if [ ! -f "$out/checkpoint.json" ]; then
	$gptviz train --corpus mix --out "$out" \
		--steps 2000 --vocab-size 6144 \
		--n-layer 4 --n-head 4 --n-embd 128 --n-positions 128 \
		--batch 8 --lr 2e-3 --warmup 200 --weight-decay 0.1 --grad-clip 1 \
		--dropout 0 --repeat-frac 0.1 --seed 1 --split-seed 1 \
		--eval-every 500 --snapshots 0,100,500
fi
step() { sed -n 's/^  "step": \([0-9]*\),$/\1/p' "$out/train_state.json"; }
if [ "$(step)" -lt 2000 ]; then
	$gptviz train --out "$out" --resume --steps 2000
fi
if [ "$(step)" -lt 6000 ]; then
	$gptviz train --out "$out" --resume --steps 6000
fi
if [ "$(step)" -lt 10000 ]; then
	$gptviz train --out "$out" --resume --steps 10000 --eval-every 1000
fi
