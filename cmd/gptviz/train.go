package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/train"
)

const trainUsage = `Usage: gptviz train --out DIR [flags]

Trains a byte-level BPE tokenizer and a small GPT-2 from text, on the CPU,
and writes a Hugging Face GPT-2 checkpoint folder (config.json,
model.safetensors, vocab.json, merges.txt) plus the optimizer state, the
loss curve (loss.csv), weight snapshots and checkpoint.json, which lists
every file of the checkpoint with its SHA-256. Each checkpoint is written as
one unit, so a kill or a full disk leaves the previous one or the new one,
never a mix; --resume verifies it and refuses a mixed or damaged folder,
naming the file. The same flags and --seed give the same model. Ctrl-C
stops after saving a checkpoint; --resume continues. One gptviz train at a
time may use a folder (a second is refused while the first runs), and a
run whose loss or weights stop being finite numbers stops without saving
them, keeping its last good checkpoint.

--resume continues the run as it was started: the checkpoint records its
settings, --corpus (the name given and the SHA-256 of its text),
--split-seed, --eval-every and the planned --snapshots. The corpus is read
again and must be unchanged; a flag given with --resume must equal the
recorded value, except --steps (a new total, not before the checkpoint's
step), --eval-every, --snapshots (replaces the plan for the steps to come),
--corpus (the same text at another path) and --dropout, --repeat-frac and
--random-repeat-frac (for the steps to come: a later phase of training with
less regularisation; train_state.json lists each phase's values). A
checkpoint of an older gptviz records no corpus: give its --corpus and
--split-seed.

The corpus is split by paragraphs: a seeded random 10% of the paragraphs
(--split-seed) is the validation text. The tokenizer learns from the
training text only (for --corpus mix, with each source repeated as its
tokenizer weight says, see model/corpus/README.md). The defaults train a 6-layer model with a 384-token
vocabulary on Opticks (about 25 minutes on two cores). The embedded default
model (gptviz-default) was trained with other flags on --corpus mix, for
28,000 steps and then resumed with --steps 52000 and --steps 60000:
model/defaultmodel/train-mix.sh runs it, and
model/defaultmodel/MODEL_CARD.md describes the recipe.

Examples:
  gptviz train --out /tmp/tiny --steps 50 --n-layer 1 --n-embd 32 --n-head 2 --n-positions 32
  gptviz train --out run1 --snapshots 0,5%,25%
  gptviz train --out run1 --resume

Flags:
`

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	corpusFlag := fs.String("corpus", "opticks", `training text: "opticks" (built in: Newton's Opticks), "mix" (built in: Opticks, King James Bible, Devil's Dictionary, Jargon File, Tom Sawyer, Sherlock Holmes, Tang and Song poems, each split on its own) or the path of a UTF-8 text file with paragraphs separated by blank lines`)
	out := fs.String("out", "", "checkpoint folder to write (required)")
	steps := fs.Int("steps", 3000, "optimizer steps")
	vocab := fs.Int("vocab-size", 384, "BPE vocabulary size, including the 256 bytes and <|endoftext|>")
	nLayer := fs.Int("n-layer", 6, "transformer blocks")
	nEmbd := fs.Int("n-embd", 128, "width of the residual stream")
	nHead := fs.Int("n-head", 4, "attention heads per block")
	nPos := fs.Int("n-positions", 128, "context window in tokens (also the training sequence length)")
	batch := fs.Int("batch", 16, "sequences per step")
	lr := fs.Float64("lr", 3e-3, "peak learning rate")
	warmup := fs.Int("warmup", -1, "linear warm-up steps; -1 means 10% of --steps, at most 200")
	wd := fs.Float64("weight-decay", 0.1, "AdamW weight decay on matrices and embeddings")
	clip := fs.Float64("grad-clip", 1, "clip the global gradient norm to this; 0 disables")
	dropout := fs.Float64("dropout", 0.2, "dropout probability on the embeddings and residual branches while training")
	repeatFrac := fs.Float64("repeat-frac", 0, "fraction of training windows that begin with a passage repeated once (teaches in-context copying)")
	randomRepeatFrac := fs.Float64("random-repeat-frac", 0, "fraction of training windows that hold random tokens repeated (teaches copying that only attention can do: induction heads)")
	maskRandom := fs.Bool("mask-random-prefix", false, "with --random-repeat-frac: leave each random sequence's first occurrence, which no model can predict, out of the loss (without it the model learns to predict uniformly whenever the context looks random)")
	seed := fs.Uint64("seed", 1, "random seed for initialisation and batches")
	splitSeed := fs.Uint64("split-seed", 1, "random seed of the paragraph train/validation split")
	evalEvery := fs.Int("eval-every", 0, "steps between evaluations and checkpoints; 0 means --steps/20")
	snapshots := fs.String("snapshots", "", `steps at which to keep F16 weight snapshots in DIR/snapshots, e.g. "0,5%,25%"`)
	resume := fs.Bool("resume", false, "continue the run saved in --out with its recorded settings and corpus (--steps may raise the total)")
	if err := parseFlags(fs, args, trainUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("train: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("train: --out is required")
	}
	if err := checkTrainFlags(*steps, *vocab, *nLayer, *nEmbd, *nHead, *nPos, *batch, *warmup, *evalEvery,
		*lr, *wd, *clip, *dropout, *repeatFrac, *randomRepeatFrac); err != nil {
		return err
	}
	snapSpecs, err := parseSnapshots(*snapshots)
	if err != nil {
		return err
	}
	if err := checkCorpusNotOutput(*corpusFlag, *out); err != nil {
		return err
	}
	if *maskRandom && !*resume && *randomRepeatFrac == 0 {
		return usagef("train: --mask-random-prefix: needs --random-repeat-frac above 0 (it masks the random sequences that flag adds)")
	}
	var snaps []int
	var st *train.State
	if !*resume {
		if err := checkFreshOut(*out); err != nil {
			return err
		} else if fi, err := os.Stat(*out); err == nil && !fi.IsDir() {
			return usagef("train: --out %s is a file, not a folder", *out)
		}
	} else if fi, err := os.Stat(*out); err != nil || !fi.IsDir() {
		return usagef("train: --resume: %s holds no training run to continue (not a folder)", *out)
	}
	// One process at a time: two would interleave their checkpoints.
	release, err := train.Lock(*out)
	if err != nil {
		return err
	}
	defer release()
	if !*resume {
		// Again under the lock: another run may have filled the folder
		// between the check above and the lock.
		if err := checkFreshOut(*out); err != nil {
			return err
		}
	}
	if *resume {
		// Verify before the tokenizer is read from the folder: a mixed or
		// damaged checkpoint is refused here, naming the file.
		if st, err = train.ReadState(*out); errors.Is(err, train.ErrNoCheckpoint) {
			return usagef("train: --resume: %s holds no training run to continue (no %s)", *out, train.ManifestFile)
		} else if err != nil {
			return err
		}
		if err := checkResumeFlags(fs, st); err != nil {
			return err
		}
	} else {
		if snaps, err = snapSpecs.steps(*steps); err != nil {
			return err
		}
	}

	var text corpusText
	if *resume {
		text, err = resumeCorpus(fs, *corpusFlag, *splitSeed, *out, st)
	} else {
		text, err = readCorpus(*corpusFlag, *splitSeed)
	}
	if err != nil {
		return err
	}
	if text.rec.Name != *corpusFlag { // the recorded corpus of a resumed run
		if err := checkCorpusNotOutput(text.rec.Name, *out); err != nil {
			return err
		}
	}
	var tok *bpe.Tokenizer
	if *resume {
		tok, err = bpe.Load(filepath.Join(*out, arch.VocabFile), filepath.Join(*out, arch.MergesFile))
	} else {
		tok, err = bpe.Train(text.tok, *vocab)
	}
	if err != nil {
		return fmt.Errorf("train: tokenizer: %w", err)
	}
	data := train.Data{Train: tok.Encode(text.train), Val: tok.Encode(text.val)}
	fmt.Fprintf(stdout, "corpus %s: %d training tokens, %d validation tokens (vocabulary %d)\n", text.rec.Name, len(data.Train), len(data.Val), tok.VocabSize())

	var tr *train.Trainer
	ro := train.RunOptions{OutDir: *out, EvalEvery: *evalEvery, Snapshots: snaps, WriteTokenizer: tok.WriteFiles, Corpus: &text.rec}
	if *resume {
		stepsOverride := 0
		if fs.Changed("steps") {
			stepsOverride = *steps
		}
		var resumed train.RunOptions
		tr, resumed, err = train.ResumeWith(*out, data, resumeChanges(fs, stepsOverride, *dropout, *repeatFrac, *randomRepeatFrac))
		if err != nil {
			return err
		}
		ro.Curve, ro.ElapsedS, ro.Phases = resumed.Curve, resumed.ElapsedS, resumed.Phases
		if o, was := tr.Opts, st.Options; o.Dropout != was.Dropout || o.RepeatFrac != was.RepeatFrac || o.RandomRepeatFrac != was.RandomRepeatFrac {
			fmt.Fprintf(stdout, "from step %d: dropout %g, repeat-frac %g, random-repeat-frac %g (were %g, %g, %g)\n", tr.Step,
				o.Dropout, o.RepeatFrac, o.RandomRepeatFrac, was.Dropout, was.RepeatFrac, was.RandomRepeatFrac)
		}
		if !fs.Changed("eval-every") {
			ro.EvalEvery = resumed.EvalEvery
		}
		// Percentages are of the run's total, known only now.
		if ro.Snapshots, err = resumeSnapshots(fs.Changed("snapshots"), snapSpecs, resumed.Snapshots, tr.Step, tr.Opts.Steps); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resuming %s at step %d of %d\n", *out, tr.Step, tr.Opts.Steps)
	} else {
		eot, _ := tok.EndOfText()
		c := arch.Config{VocabSize: tok.VocabSize(), NPositions: *nPos, NEmbd: *nEmbd, NLayer: *nLayer, NHead: *nHead,
			BOSTokenID: eot, EOSTokenID: eot}
		o := train.DefaultOptions(c, *steps)
		o.BatchSize, o.LR, o.WeightDecay, o.GradClip, o.Seed, o.Dropout, o.RepeatFrac = *batch, *lr, *wd, *clip, *seed, *dropout, *repeatFrac
		o.RandomRepeatFrac, o.MaskRandomPrefix = *randomRepeatFrac, *maskRandom
		if *warmup >= 0 {
			o.WarmupSteps = *warmup
		}
		if tr, err = train.New(o, data); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	fmt.Fprintf(stdout, "model: %d layers, %d heads, n_embd %d, n_positions %d: %d parameters; %d steps × %d tokens\n",
		tr.Opts.Config.NLayer, tr.Opts.Config.NHead, tr.Opts.Config.NEmbd, tr.Opts.Config.NPositions, tr.NumParams(), tr.Opts.Steps, tr.TokensPerStep())

	if !isTerminal(stderr) {
		// A log, not a terminal: a plain line every 30 seconds.
		start, startStep, last := time.Now(), tr.Step, time.Now()
		ro.Progress = func(r train.StepResult) {
			if time.Since(last) < 30*time.Second && r.Step < tr.Opts.Steps {
				return
			}
			last = time.Now()
			tps := float64((r.Step-startStep)*tr.TokensPerStep()) / time.Since(start).Seconds()
			fmt.Fprintf(stderr, "train: step %d/%d, loss %.3f, %.0f tokens/s\n", r.Step, tr.Opts.Steps, r.Loss, tps)
		}
		return finishTrain(ctx, tr, ro, *out, stdout, stderr, nil)
	}
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
	return finishTrain(ctx, tr, ro, *out, stdout, stderr, bar)
}

// stepHookKey is the context key of a func(step int) that finishTrain
// calls after every step: tests use it to stop a run at a chosen step.
type stepHookKey struct{}

// finishTrain runs the training loop and reports the result; bar is the
// terminal progress bar, or nil when progress goes to a log.
func finishTrain(ctx context.Context, tr *train.Trainer, ro train.RunOptions, out string, stdout, stderr io.Writer, bar *progressbar.ProgressBar) error {
	if h, ok := ctx.Value(stepHookKey{}).(func(int)); ok {
		progress := ro.Progress
		ro.Progress = func(r train.StepResult) {
			progress(r)
			h(r.Step)
		}
	}
	curve, err := train.Run(ctx, tr, ro)
	if err != nil {
		if bar != nil {
			bar.Exit()
			fmt.Fprintln(stderr)
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "continue with: gptviz train --out %s --resume\n", out)
		}
		return err
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	if len(curve) > 0 {
		p := curve[len(curve)-1]
		fmt.Fprintf(stdout, "done: step %d, %d tokens seen, %.0f s; train %.4f, validation %.4f nats/token\n",
			p.Step, p.Tokens, p.ElapsedS, p.TrainEval, p.ValLoss)
	}
	return nil
}

// checkCorpusNotOutput refuses a --corpus file that is one of the files
// already in --out (by any name), which training replaces.
func checkCorpusNotOutput(corpusFlag, out string) error {
	if corpusFlag == "opticks" || corpusFlag == corpus.MixName {
		return nil
	}
	var in inputs
	in.add(corpusFlag)
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if err := in.check("--out", filepath.Join(out, e.Name())); err != nil {
			return usagef("train: %v", err)
		}
	}
	return nil
}

// corpusText is the text a run trains on: its record (name, SHA-256 of
// the bytes read, split seed), its training and validation text, and the
// text its tokenizer learns from (the training text but for the mix,
// whose sources have their own tokenizer weights).
type corpusText struct {
	rec             train.Corpus
	train, val, tok string
}

// readCorpusBytes reads the corpus named by a --corpus value: the built-in
// Opticks, the built-in mix (its manifest, corpus.MixManifest, which names
// the hash of every source), or a file (at most corpus.MaxFileBytes).
func readCorpusBytes(name string) ([]byte, error) {
	switch name {
	case "opticks":
		return corpus.OpticksRaw()
	case corpus.MixName:
		return corpus.MixManifest()
	}
	b, err := inputfile.ReadFile(name, corpus.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return b, nil
}

// splitCorpus splits the corpus raw, named name, with seed and records it.
func splitCorpus(name string, raw []byte, seed uint64) (corpusText, error) {
	var tr, va, tok string
	var err error
	if name == corpus.MixName {
		tr, va, err = corpus.Mix(seed) // each source split on its own
		if err == nil {
			tok, err = corpus.MixTokenizerTrain(seed)
		}
	} else {
		tr, va, err = corpus.Parse(raw, name, seed)
		tok = tr
	}
	if err != nil {
		return corpusText{}, fmt.Errorf("train: --corpus: %w", err)
	}
	return corpusText{rec: train.Corpus{Name: name, SHA256: sha256Hex(raw), SplitSeed: seed}, train: tr, val: va, tok: tok}, nil
}

// readCorpus reads and splits the corpus of a --corpus value.
func readCorpus(name string, seed uint64) (corpusText, error) {
	raw, err := readCorpusBytes(name)
	if err != nil {
		return corpusText{}, fmt.Errorf("train: --corpus: %w", err)
	}
	return splitCorpus(name, raw, seed)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// resumeCorpus returns the corpus of a resumed run, split as recorded in
// st. Without --corpus it reads the recorded corpus again and refuses it
// when it is gone or its text changed (SHA-256), naming the file; a
// --corpus whose text differs from the recorded one is a usage error (the
// same text under another path is accepted, and recorded under the new
// name). A checkpoint of an older gptviz records no corpus: the run's
// --corpus and --split-seed must then be given.
func resumeCorpus(fs *pflag.FlagSet, name string, splitSeed uint64, out string, st *train.State) (corpusText, error) {
	rec := st.Corpus
	if rec == nil {
		if !fs.Changed("corpus") || !fs.Changed("split-seed") {
			return corpusText{}, usagef("train: --resume: the checkpoint in %s was written by an older gptviz and does not record its corpus: give the run's --corpus and --split-seed", out)
		}
		return readCorpus(name, splitSeed)
	}
	if fs.Changed("corpus") {
		raw, err := readCorpusBytes(name)
		if err != nil {
			return corpusText{}, fmt.Errorf("train: --corpus: %w", err)
		}
		if got := sha256Hex(raw); got != rec.SHA256 {
			return corpusText{}, usagef("train: --resume: --corpus %s is not the run's corpus %s (SHA-256 %.12s…, recorded %.12s…); leave --corpus out to reuse the run's",
				name, rec.Name, got, rec.SHA256)
		}
		return splitCorpus(name, raw, rec.SplitSeed)
	}
	raw, err := readCorpusBytes(rec.Name)
	if err != nil {
		return corpusText{}, fmt.Errorf("train: --resume: the run's corpus %s (recorded in %s) cannot be read: %w; if it moved, give --corpus with its new path",
			rec.Name, train.StateFile, err)
	}
	if got := sha256Hex(raw); got != rec.SHA256 {
		return corpusText{}, fmt.Errorf("train: --resume: the run's corpus %s changed since the run began: its text has SHA-256 %.12s…, recorded %.12s… in %s",
			rec.Name, got, rec.SHA256, train.StateFile)
	}
	return splitCorpus(rec.Name, raw, rec.SplitSeed)
}

// checkFreshOut refuses, for a new run, a folder that holds anything but
// the training lock file (train.LockFile, left by a run that failed before
// its first checkpoint).
func checkFreshOut(out string) error {
	ents, err := os.ReadDir(out)
	if err == nil && slices.ContainsFunc(ents, func(e os.DirEntry) bool { return e.Name() != train.LockFile }) {
		return usagef("train: --out %s is not empty: choose a new folder, or add --resume to continue the run in it", out)
	}
	return nil
}

// checkResumeFlags refuses, before anything is read or written, flags of a
// --resume that contradict the checkpoint's state st: --steps before the
// checkpoint's step, and an explicitly given architecture, optimisation or
// split flag whose value differs from the recorded one (one that matches
// is accepted). --corpus is checked by resumeCorpus; --eval-every,
// --snapshots, --dropout, --repeat-frac and --random-repeat-frac may
// change (resumeChanges).
func checkResumeFlags(fs *pflag.FlagSet, st *train.State) error {
	if fs.Changed("steps") {
		if n, _ := fs.GetInt("steps"); n < st.Step {
			return usagef("train: --resume: --steps %d is before the checkpoint's step %d: a run cannot be shortened to before where it is", n, st.Step)
		}
	}
	o := st.Options
	recorded := map[string]any{
		"vocab-size": o.Config.VocabSize, "n-layer": o.Config.NLayer, "n-embd": o.Config.NEmbd, "n-head": o.Config.NHead,
		"n-positions": o.Config.NPositions, "batch": o.BatchSize, "lr": o.LR, "weight-decay": o.WeightDecay,
		"grad-clip": o.GradClip, "seed": o.Seed, "warmup": o.WarmupSteps, "mask-random-prefix": o.MaskRandomPrefix,
	}
	if st.Corpus != nil {
		recorded["split-seed"] = st.Corpus.SplitSeed
	}
	var err error
	fs.Visit(func(f *pflag.Flag) {
		want, ok := recorded[f.Name]
		if !ok || err != nil {
			return
		}
		var given any
		switch want.(type) {
		case int:
			given, _ = fs.GetInt(f.Name)
			if f.Name == "warmup" && given == -1 {
				given = train.DefaultOptions(o.Config, o.Steps).WarmupSteps
			}
		case float64:
			given, _ = fs.GetFloat64(f.Name)
		case uint64:
			given, _ = fs.GetUint64(f.Name)
		case bool:
			given, _ = fs.GetBool(f.Name)
		}
		if given != want {
			err = usagef("train: --resume: --%s %s differs from the checkpoint's %v: a resumed run keeps its settings (leave --%s out, or give %v)",
				f.Name, f.Value, want, f.Name, want)
		}
	})
	return err
}

// resumeChanges returns the changes a --resume asks for: a new total of
// steps (0 keeps it) and the dropout and repeat fractions given on the
// command line.
func resumeChanges(fs *pflag.FlagSet, steps int, dropout, repeatFrac, randomRepeatFrac float64) train.Changes {
	c := train.Changes{Steps: steps}
	for _, f := range []struct {
		name string
		v    float64
		dst  **float64
	}{{"dropout", dropout, &c.Dropout}, {"repeat-frac", repeatFrac, &c.RepeatFrac}, {"random-repeat-frac", randomRepeatFrac, &c.RandomRepeatFrac}} {
		if fs.Changed(f.name) {
			*f.dst = &f.v
		}
	}
	return c
}

// resumeSnapshots returns the snapshot plan of a resumed run at step of
// total steps. Without --snapshots (changed false) the recorded plan is
// kept, and a planned step after a lowered total is refused. With it, the
// given plan (percentages of the new total) replaces the steps still to
// come; a given step not after the checkpoint's step can no longer be
// written and is refused unless the recorded plan already had it.
func resumeSnapshots(changed bool, specs snapshotSpecs, recorded []int, step, total int) ([]int, error) {
	if !changed {
		for _, s := range recorded {
			if s > total {
				return nil, usagef("train: --resume: --steps %d is before the run's planned snapshot at step %d: give --snapshots to change the plan", total, s)
			}
		}
		return recorded, nil
	}
	given, err := specs.steps(total)
	if err != nil {
		return nil, err
	}
	var plan []int
	for _, s := range recorded {
		if s <= step {
			plan = append(plan, s) // written before the checkpoint
		}
	}
	for _, s := range given {
		done := s < step || (s == step && s > 0)
		if done && !slices.Contains(recorded, s) {
			return nil, usagef("train: --resume: --snapshots: step %d is not after the checkpoint's step %d, so it can no longer be written", s, step)
		}
		if !done {
			plan = append(plan, s)
		}
	}
	slices.Sort(plan)
	return slices.Compact(plan), nil
}

// snapshotSpec is one entry of --snapshots: a step, or a percentage of
// the run's steps.
type snapshotSpec struct {
	text    string
	step    int
	percent float64 // ≥ 0 for a percentage, -1 for a step
}

type snapshotSpecs []snapshotSpec

// parseSnapshots reads --snapshots, a comma-separated list of step numbers
// and percentages 0%..100% of the run's steps, refusing anything else.
func parseSnapshots(s string) (snapshotSpecs, error) {
	if s == "" {
		return nil, nil
	}
	var out snapshotSpecs
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if p, ok := strings.CutSuffix(f, "%"); ok {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || !(v >= 0 && v <= 100) {
				return nil, usagef("train: --snapshots: %q is not a percentage in [0, 100]", f)
			}
			out = append(out, snapshotSpec{text: f, percent: v})
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, usagef("train: --snapshots: %q is not a step number ≥ 0 or a percentage", f)
		}
		out = append(out, snapshotSpec{text: f, step: v, percent: -1})
	}
	return out, nil
}

// steps returns the snapshot steps of a run of total steps, refusing a
// step after the last one (it would never be written).
func (ss snapshotSpecs) steps(total int) ([]int, error) {
	var out []int
	for _, s := range ss {
		v := s.step
		if s.percent >= 0 {
			v = int(s.percent/100*float64(total) + 0.5)
		}
		if v > total {
			return nil, usagef("train: --snapshots: step %s is after the run's last step %d (--steps)", s.text, total)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkTrainFlags refuses settings that cannot train, naming the flag and
// its valid range: sizes out of range, n_embd not divisible by n_head,
// non-finite or out-of-range rates, and models too large for memory
// (train.MemoryBytes over train.MaxTrainBytes, estimated before anything is
// allocated).
func checkTrainFlags(steps, vocab, nLayer, nEmbd, nHead, nPos, batch, warmup, evalEvery int,
	lr, wd, clip, dropout, repeatFrac, randomRepeatFrac float64) error {
	ints := []struct {
		flag      string
		v, lo, hi int
	}{
		{"--steps", steps, 1, 1 << 30}, {"--vocab-size", vocab, 257, 1 << 20},
		{"--n-layer", nLayer, 1, 256}, {"--n-embd", nEmbd, 1, 1 << 14}, {"--n-head", nHead, 1, 1 << 10},
		{"--n-positions", nPos, 2, 1 << 14}, {"--batch", batch, 1, 1 << 14},
		{"--warmup", warmup, -1, 1 << 30}, {"--eval-every", evalEvery, 0, 1 << 30},
	}
	for _, c := range ints {
		if c.v < c.lo || c.v > c.hi {
			return usagef("train: %s %d: must be in %d..%d", c.flag, c.v, c.lo, c.hi)
		}
	}
	if nEmbd%nHead != 0 {
		return usagef("train: --n-embd %d is not a multiple of --n-head %d", nEmbd, nHead)
	}
	for _, r := range []floatRange{
		{"--lr", lr, 0, 10, true, false}, {"--weight-decay", wd, 0, 10, false, false},
		{"--grad-clip", clip, 0, math.MaxFloat32, false, false},
		{"--dropout", dropout, 0, 1, false, true}, {"--repeat-frac", repeatFrac, 0, 1, false, false},
		{"--random-repeat-frac", randomRepeatFrac, 0, 1, false, false},
	} {
		if err := r.check(); err != nil {
			return err
		}
	}
	c := arch.Config{VocabSize: vocab, NPositions: nPos, NEmbd: nEmbd, NLayer: nLayer, NHead: nHead, NInner: 4 * nEmbd}
	o := train.DefaultOptions(c, steps)
	o.BatchSize = batch
	if need := train.MemoryBytes(o); need > train.MaxTrainBytes {
		return usagef("train: a model of %.3g parameters with --batch %d × --n-positions %d needs about %.1f GB; the limit is %d GB",
			float64(c.NumParams()), batch, nPos, need/1e9, train.MaxTrainBytes>>30)
	}
	return nil
}

// floatRange is the valid range of a float flag: [lo, hi], with either end
// open when loOpen or hiOpen is set.
type floatRange struct {
	flag           string
	v, lo, hi      float64
	loOpen, hiOpen bool
}

// check refuses a value outside the range (NaN included) with a usage error
// that states the range in interval notation, e.g. "(0, 10]".
func (r floatRange) check() error {
	ok := r.v >= r.lo && r.v <= r.hi && !(r.loOpen && r.v == r.lo) && !(r.hiOpen && r.v == r.hi)
	if ok {
		return nil
	}
	return usagef("train: %s %v: must be a number in %s", r.flag, r.v, r.interval())
}

// interval writes the range in interval notation: "[0, 1)", "(0, 10]".
func (r floatRange) interval() string {
	open, close := "[", "]"
	if r.loOpen {
		open = "("
	}
	if r.hiOpen {
		close = ")"
	}
	return fmt.Sprintf("%s%v, %v%s", open, r.lo, r.hi, close)
}
