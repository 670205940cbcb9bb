package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gptviz/gptviz/model/trace"
)

// CompareOptions describe a comparison of sampling settings: one prompt,
// decoded Steps tokens further with every setting × seed.
type CompareOptions struct {
	Prompt   string
	Steps    int              // decode steps of every run, ≥ 0
	Settings []SamplingParams // at least one, each valid
	Seeds    []uint64         // at least one
	Trace    TraceOptions     // what each run's Trace records
	// Version is copied into every Trace's Settings.
	Version string
	// Progress, if set, is called after the prefill (done 0) and after each
	// decode step of any run, with total = Steps × settings × seeds.
	Progress func(done, total int)
	// Overflow is what happens when prompt + steps exceed the context
	// window, in every run; "" means OverflowBlock (see Run).
	Overflow Overflow
	// Continuation, if not empty, is scored once after the prompt under
	// teacher forcing and shared by every run's Trace.Continuation (see Run).
	Continuation string
}

// Compare prefills the prompt once and then decodes it Steps tokens further
// for every setting × seed, each run continuing from its own copy of the
// prompt's KV cache (Runner.Fork), so the runs differ only by their
// settings and seeds: a run's tokens and logits are bit for bit those of
// Run with the same prompt, setting and seed. It returns the recorded
// Traces indexed [setting][seed]: each a complete, valid Trace whose
// prefill step (Steps[0]), prompt tokens and prompt scores are the shared
// prefill's (the same values, shared in memory; treat them as read-only).
// Timings.PrefillMillis is the shared prefill's time in every Trace.
//
// The check that cached decoding equals a full recompute
// (Checks.CacheVsRecompute) costs a forward pass over the whole run, as
// much as a prefill, so it is measured in the first run only; the others
// record −1 (not measured).
//
// Errors are those of Run: no tokenizer, an invalid prompt (*PromptError),
// invalid steps or settings (*ParamError), or ctx cancelled; and an empty
// list of settings or seeds.
func Compare(ctx context.Context, m *Model, opts CompareOptions) ([][]*trace.Trace, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (vocab.json and merges.txt)", m.Name)
	}
	if opts.Steps < 0 {
		return nil, &ParamError{"steps", opts.Steps, "must be ≥ 0"}
	}
	if len(opts.Settings) == 0 || len(opts.Seeds) == 0 {
		return nil, errors.New("compare: want at least one sampling setting and one seed")
	}
	if err := CheckPrompt(opts.Prompt); err != nil {
		return nil, err
	}
	if err := opts.Overflow.Validate(); err != nil {
		return nil, err
	}
	overflow := cmp.Or(opts.Overflow, OverflowBlock)
	if err := opts.Trace.checkKVFocus(m.Config); err != nil {
		return nil, err
	}
	samplers := make([][]*Sampler, len(opts.Settings))
	for i, p := range opts.Settings {
		for _, seed := range opts.Seeds {
			s, err := NewSampler(p, seed)
			if err != nil {
				return nil, err
			}
			samplers[i] = append(samplers[i], s)
		}
	}
	topts := opts.Trace.withDefaults()
	base, baseRun, baseRec, err := prefill(m, opts.Prompt, opts.Steps, topts, overflow)
	if err != nil {
		return nil, err
	}
	total := opts.Steps * len(opts.Settings) * len(opts.Seeds)
	done := 0
	if opts.Progress != nil {
		opts.Progress(0, total)
	}
	out := make([][]*trace.Trace, len(opts.Settings))
	for i, p := range opts.Settings {
		for j, seed := range opts.Seeds {
			tr, rec := forkTrace(m, base, baseRec, topts)
			tr.Settings = trace.Settings{
				Steps: opts.Steps, Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP,
				Seed: seed, Overflow: string(overflow), Version: opts.Version,
			}
			var run *Runner
			if last := i == len(opts.Settings)-1 && j == len(opts.Seeds)-1; last {
				// The last run takes over the prefilled runner itself: no
				// copy of the KV cache (Run, a comparison of one, never
				// holds two).
				run = baseRun
				run.sampler, run.rec = samplers[i][j], rec
			} else if run, err = baseRun.Fork(samplers[i][j], rec); err != nil {
				return nil, err
			}
			step := func() {
				done++
				if opts.Progress != nil {
					opts.Progress(done, total)
				}
			}
			if err := decode(ctx, run, tr, rec, opts.Steps, step); err != nil {
				return nil, err
			}
			if i == 0 && j == 0 && opts.Steps > 0 {
				d, err := run.RecomputeDiff()
				if err != nil {
					return nil, err
				}
				tr.Checks.CacheVsRecompute = d
			}
			finish(tr, rec, run, overflow)
			out[i] = append(out[i], tr)
		}
	}
	if opts.Continuation != "" {
		// The last run continued the prefilled runner itself and is over:
		// the continuation reuses its buffers, and every run shares it.
		last := out[len(out)-1][len(opts.Seeds)-1]
		ids := make([]int, base.PromptLen)
		for i, t := range base.Tokens[:base.PromptLen] {
			ids[i] = t.ID
		}
		rec := &traceRecorder{m: m, tr: last, opts: topts}
		if err := rec.scoreContinuation(baseRun, ids, opts.Continuation); err != nil {
			return nil, err
		}
		for _, runs := range out {
			for _, tr := range runs {
				tr.Continuation = last.Continuation
			}
		}
	}
	return out, nil
}

// prefill tokenizes the prompt, writes it into a new runner's working
// memory (with room for steps more positions, evicting by policy o when the
// window fills) and records it: the returned Trace holds the prompt's
// tokens, its scores (a prompt longer than the window scored in sliding
// windows first) and the prefill step, and no settings. An empty prompt
// starts from <|endoftext|>.
func prefill(m *Model, prompt string, steps int, opts TraceOptions, o Overflow) (*trace.Trace, *Runner, *traceRecorder, error) {
	ids := m.Tokenizer.Encode(prompt)
	if len(ids) == 0 {
		eot, ok := m.Tokenizer.EndOfText()
		if !ok {
			return nil, nil, nil, errors.New("the prompt is empty and the tokenizer has no <|endoftext|> to start from")
		}
		ids = []int{eot}
	}
	tr := &trace.Trace{
		Version:   trace.Version,
		Model:     trace.ModelInfo{Name: m.Name, Config: m.Config, NumParams: m.NumParams()},
		Prompt:    prompt,
		PromptLen: len(ids),
		Checks:    trace.Checks{CacheVsRecompute: -1, ZeroTempIsGreedy: true},
	}
	rec := newTraceRecorder(m, tr, opts)
	if prompt == "" {
		rec.note(trace.NoteEmptyPrompt, "The prompt was empty: the run starts from <|endoftext|>, the token that separates documents in training, so the model writes as at the start of a new text.")
	}
	for _, id := range ids {
		tr.Tokens = append(tr.Tokens, rec.token(id, true))
	}
	run := NewRunner(m, nil, rec)
	if err := run.SetOverflow(o); err != nil {
		return nil, nil, nil, err
	}
	run.Reserve(len(ids) + steps) // what the run needs, not n_positions
	start := time.Now()
	if err := rec.scoreEarlyWindows(run, ids); err != nil {
		return nil, nil, nil, err
	}
	if err := run.Prefill(ids); err != nil {
		return nil, nil, nil, err
	}
	tr.Timings.PrefillMillis = ms(time.Since(start))
	return tr, run, rec, nil
}

// forkTrace returns a new Trace that starts as base (the recorded prefill)
// and a recorder that continues it: tokens, steps and notes are copied,
// scores and the prefill step's contents shared.
func forkTrace(m *Model, base *trace.Trace, baseRec *traceRecorder, opts TraceOptions) (*trace.Trace, *traceRecorder) {
	tr := *base
	tr.Tokens = slices.Clone(base.Tokens)
	tr.Steps = slices.Clone(base.Steps)
	tr.Notes = slices.Clone(base.Notes)
	rec := newTraceRecorder(m, &tr, opts)
	rec.noted = maps.Clone(baseRec.noted)
	return &tr, rec
}

// decode performs steps decode steps of run, appending each chosen token to
// tr and calling done after each. It checks, on the first 8 steps, that a
// temperature → 0 sampler picks the argmax (Checks.ZeroTempIsGreedy).
func decode(ctx context.Context, run *Runner, tr *trace.Trace, rec *traceRecorder, steps int, done func()) error {
	tiny, _ := NewSampler(SamplingParams{Temperature: 1e-6, TopP: 1}, 0)
	start := time.Now()
	for step := 1; step <= steps; step++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if step <= 8 { // T → 0 must pick the argmax
			res, err := tiny.Sample(run.LastLogits())
			if err != nil {
				return fmt.Errorf("step %d: %w", step, err)
			}
			if res.Chosen != int(res.Order[0]) {
				tr.Checks.ZeroTempIsGreedy = false
			}
		}
		res, err := run.Step()
		if err != nil {
			return err
		}
		tr.Tokens = append(tr.Tokens, rec.token(res.Chosen, false))
		done()
	}
	tr.Timings.DecodeMillis = ms(time.Since(start))
	if steps > 0 && tr.Timings.DecodeMillis > 0 {
		tr.Timings.TokensPerSec = float64(steps) / (tr.Timings.DecodeMillis / 1000)
	}
	return nil
}

// finish records what a run leaves at its end: evictions, the KV cache
// contents and the eviction note of policy o.
func finish(tr *trace.Trace, rec *traceRecorder, run *Runner, o Overflow) {
	tr.Evictions = run.Evictions()
	rec.recordCache(run)
	rec.noteEvictions(o)
}
