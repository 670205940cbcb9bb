package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/train"
)

const trainUsage = `Usage: gptviz train --out DIR [flags]

Trains a byte-level BPE tokenizer and a small GPT-2 from text, on the CPU,
and writes a Hugging Face GPT-2 checkpoint folder (config.json,
model.safetensors, vocab.json, merges.txt) plus the optimizer state, the
loss curve (loss.csv) and weight snapshots. The same flags and --seed give
the same model. Ctrl-C stops after saving a checkpoint; --resume continues.

The corpus is split by paragraphs: a seeded random 10% of the paragraphs
(--split-seed) is the validation text. The tokenizer learns from the
training text only.

Examples:
  gptviz train --out /tmp/tiny --steps 50 --n-layer 1 --n-embd 32 --n-head 2 --n-positions 32
  gptviz train --out run1 --steps 2000 --snapshots 0,5%,25%
  gptviz train --out run1 --resume

Flags:
`

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	corpusFlag := fs.String("corpus", "opticks", `training text: "opticks" (built in: Newton's Opticks) or the path of a UTF-8 text file with paragraphs separated by blank lines`)
	out := fs.String("out", "", "checkpoint folder to write (required)")
	steps := fs.Int("steps", 2000, "optimizer steps")
	vocab := fs.Int("vocab-size", 512, "BPE vocabulary size, including the 256 bytes and <|endoftext|>")
	nLayer := fs.Int("n-layer", 4, "transformer blocks")
	nEmbd := fs.Int("n-embd", 128, "width of the residual stream")
	nHead := fs.Int("n-head", 4, "attention heads per block")
	nPos := fs.Int("n-positions", 128, "context window in tokens (also the training sequence length)")
	batch := fs.Int("batch", 16, "sequences per step")
	lr := fs.Float64("lr", 3e-3, "peak learning rate")
	warmup := fs.Int("warmup", -1, "linear warm-up steps; -1 means 10% of --steps, at most 200")
	wd := fs.Float64("weight-decay", 0.1, "AdamW weight decay on matrices and embeddings")
	clip := fs.Float64("grad-clip", 1, "clip the global gradient norm to this; 0 disables")
	dropout := fs.Float64("dropout", 0, "dropout probability on the embeddings and residual branches while training")
	repeatFrac := fs.Float64("repeat-frac", 0, "fraction of training windows that begin with a passage repeated once (teaches in-context copying)")
	seed := fs.Uint64("seed", 1, "random seed for initialisation and batches")
	splitSeed := fs.Uint64("split-seed", 1, "random seed of the paragraph train/validation split")
	evalEvery := fs.Int("eval-every", 0, "steps between evaluations and checkpoints; 0 means --steps/20")
	snapshots := fs.String("snapshots", "", `steps at which to keep F16 weight snapshots in DIR/snapshots, e.g. "0,5%,25%"`)
	resume := fs.Bool("resume", false, "continue the run saved in --out (its options are reused; --steps may raise the total)")
	if err := parseFlags(fs, args, trainUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("train: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("train: --out is required")
	}
	if *steps < 0 {
		return usagef("train: --steps %d: must be ≥ 0", *steps)
	}
	if *vocab < 257 {
		return usagef("train: --vocab-size %d: must be ≥ 257 (256 bytes + <|endoftext|>)", *vocab)
	}
	snaps, err := parseSnapshots(*snapshots, *steps)
	if err != nil {
		return err
	}

	trainText, valText, err := loadCorpus(*corpusFlag, *splitSeed)
	if err != nil {
		return err
	}
	var tok *bpe.Tokenizer
	if *resume {
		tok, err = bpe.Load(filepath.Join(*out, "vocab.json"), filepath.Join(*out, "merges.txt"))
	} else {
		tok, err = bpe.Train(trainText, *vocab)
	}
	if err != nil {
		return fmt.Errorf("train: tokenizer: %w", err)
	}
	data := train.Data{Train: tok.Encode(trainText), Val: tok.Encode(valText)}
	fmt.Fprintf(stdout, "corpus %s: %d training tokens, %d validation tokens (vocabulary %d)\n", *corpusFlag, len(data.Train), len(data.Val), tok.VocabSize())

	var tr *train.Trainer
	ro := train.RunOptions{OutDir: *out, EvalEvery: *evalEvery, Snapshots: snaps, WriteTokenizer: tok.WriteFiles}
	if *resume {
		stepsOverride := 0
		if fs.Changed("steps") {
			stepsOverride = *steps
		}
		tr, ro.ElapsedS, err = train.Resume(*out, data, stepsOverride)
		if err != nil {
			return err
		}
		if b, err := os.ReadFile(filepath.Join(*out, train.CurveFile)); err == nil {
			if ro.Curve, err = train.ParseCurveCSV(b); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "resuming %s at step %d of %d\n", *out, tr.Step, tr.Opts.Steps)
	} else {
		eot, _ := tok.EndOfText()
		c := model.Config{VocabSize: tok.VocabSize(), NPositions: *nPos, NEmbd: *nEmbd, NLayer: *nLayer, NHead: *nHead,
			BOSTokenID: eot, EOSTokenID: eot}
		o := train.DefaultOptions(c, *steps)
		o.BatchSize, o.LR, o.WeightDecay, o.GradClip, o.Seed, o.Dropout, o.RepeatFrac = *batch, *lr, *wd, *clip, *seed, *dropout, *repeatFrac
		if *warmup >= 0 {
			o.WarmupSteps = *warmup
		}
		if tr, err = train.New(o, data); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	fmt.Fprintf(stdout, "model: %d layers, %d heads, n_embd %d, n_positions %d: %d parameters; %d steps × %d tokens\n",
		tr.Opts.Config.NLayer, tr.Opts.Config.NHead, tr.Opts.Config.NEmbd, tr.Opts.Config.NPositions, tr.NumParams(), tr.Opts.Steps, tr.TokensPerStep())

	bar := progressbar.NewOptions(tr.Opts.Steps,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("train"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(200*time.Millisecond),
	)
	bar.Set(tr.Step)
	start, startStep := time.Now(), tr.Step
	ro.Progress = func(r train.StepResult) {
		tps := float64((r.Step-startStep)*tr.TokensPerStep()) / time.Since(start).Seconds()
		bar.Describe(fmt.Sprintf("loss %.3f, %.0f tok/s", r.Loss, tps))
		bar.Set(r.Step)
	}
	curve, err := train.Run(ctx, tr, ro)
	if err != nil {
		bar.Exit()
		fmt.Fprintln(stderr)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "continue with: gptviz train --out %s --resume\n", *out)
		}
		return err
	}
	bar.Finish()
	fmt.Fprintln(stderr)
	if len(curve) > 0 {
		p := curve[len(curve)-1]
		fmt.Fprintf(stdout, "done: step %d, %d tokens seen, %.0f s; train %.4f, validation %.4f nats/token\n",
			p.Step, p.Tokens, p.ElapsedS, p.TrainEval, p.ValLoss)
	}
	return nil
}

// loadCorpus returns the training and validation text of a corpus flag.
func loadCorpus(name string, splitSeed uint64) (string, string, error) {
	if name == "opticks" {
		return corpus.Opticks(splitSeed)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", "", fmt.Errorf("train: --corpus: %w", err)
	}
	tr, va := corpus.Split(corpus.Paragraphs(string(b)), 0.1, splitSeed)
	if len(tr) == 0 {
		return "", "", fmt.Errorf("train: --corpus %s: no paragraphs", name)
	}
	return corpus.Join(tr), corpus.Join(va), nil
}

// parseSnapshots reads a list of steps or percentages of steps.
func parseSnapshots(s string, steps int) ([]int, error) {
	var out []int
	if s == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if p, ok := strings.CutSuffix(f, "%"); ok {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v < 0 || v > 100 {
				return nil, usagef("train: --snapshots: %q is not a percentage 0..100", f)
			}
			out = append(out, int(v/100*float64(steps)+0.5))
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, usagef("train: --snapshots: %q is not a step number", f)
		}
		out = append(out, v)
	}
	return out, nil
}
