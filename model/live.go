package model

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gptviz/gptviz/model/trace"
)

// Truncate keeps the first n cached positions and drops the rest, n in
// 0..Len: the keys and values of the positions kept are untouched, so
// appending after Truncate(n) computes exactly what it computed when the
// cache first held n positions. It panics on n outside 0..Len, a caller's
// bug.
func (kc *KVCache) Truncate(n int) {
	if n < 0 || n > kc.Len {
		panic(fmt.Sprintf("model: KVCache.Truncate(%d) outside 0..%d", n, kc.Len))
	}
	kc.Len = n
}

// LiveOptions describe a live run (NewLive).
type LiveOptions struct {
	Prompt string
	// MaxSteps is how many decode steps the run is expected to take at
	// most; it only sizes the KV cache up front (Runner.Reserve).
	MaxSteps int
	// Trace bounds what each step records, as in RunOptions.
	Trace TraceOptions
	// Overflow is what happens when the window is full; "" means
	// OverflowBlock, as in Run.
	Overflow Overflow
}

// Live is a run that a person drives one step at a time: prefilled once,
// then stepped with any sampler, forced to any token (teacher forcing by
// hand), undone and forked, while it records the same Trace that Run
// records. A Live run stepped n times with one sampler (NewSampler(p,
// seed)) gives, through Trace, the Trace that Run gives for the same
// prompt, n steps, settings and seed, value for value (timings aside).
//
// A Live run is not safe for concurrent use; Fork gives an independent one.
type Live struct {
	m        *Model
	run      *Runner
	rec      *traceRecorder
	tr       *trace.Trace // the prompt, the prefill and the steps so far; no Cache, Evictions or Settings
	opts     TraceOptions
	overflow Overflow
	// saved holds the last position's logits after the prefill (key 0) and
	// after each decode step that recomputed the window, [vocab_size]:
	// Undo restores these instead of recomputing a whole window.
	saved map[int][]float32
	// undo[k-1] is what step k changed that is not recomputed on undo.
	undo   []liveUndo
	decode time.Duration
}

type liveUndo struct {
	checks trace.Checks
	notes  int
	forced bool
}

// ErrUndoEvicted is returned by Live.Undo for a step that evicted tokens
// from the context window: their keys and values are gone from the KV
// cache, so the step cannot be undone by truncating it.
var ErrUndoEvicted = errors.New("undo: this step evicted tokens from the context window, and their keys and values are no longer in the KV cache")

// NewLive tokenizes and scores the prompt and prefills it, recording as Run
// does. An empty prompt starts from <|endoftext|>. Errors are Run's: no
// tokenizer, a prompt that is not valid UTF-8 (*PromptError), an unknown
// overflow policy or KV focus (*ParamError).
func NewLive(m *Model, opts LiveOptions) (*Live, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("model %s has no tokenizer (vocab.json and merges.txt)", m.Name)
	}
	if err := CheckPrompt(opts.Prompt); err != nil {
		return nil, err
	}
	if err := opts.Overflow.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Trace.checkKVFocus(m.Config); err != nil {
		return nil, err
	}
	o := cmp.Or(opts.Overflow, OverflowBlock)
	topts := opts.Trace.withDefaults()
	tr, run, rec, err := prefill(m, opts.Prompt, max(opts.MaxSteps, 0), topts, o)
	if err != nil {
		return nil, err
	}
	l := &Live{m: m, run: run, rec: rec, tr: tr, opts: topts, overflow: o,
		saved: map[int][]float32{0: slices.Clone(run.LastLogits())}}
	return l, nil
}

// Model returns the model the run reads.
func (l *Live) Model() *Model { return l.m }

// Runner returns the run's runner, for reading its working memory (tokens,
// window start, KV cache, last logits); it must not be stepped or changed.
func (l *Live) Runner() *Runner { return l.run }

// Steps is the number of decode steps taken.
func (l *Live) Steps() int { return l.run.steps }

// PromptLen is the number of prompt tokens.
func (l *Live) PromptLen() int { return l.tr.PromptLen }

// Forced reports whether decode step k (1..Steps) was forced.
func (l *Live) Forced(k int) bool { return k >= 1 && k <= len(l.undo) && l.undo[k-1].forced }

// LastStep returns the recording of the last forward pass (the prefill
// before any step); it must not be modified.
func (l *Live) LastStep() *trace.Step { return &l.tr.Steps[len(l.tr.Steps)-1] }

// Tokens returns every token of the run as recorded, prompt first; it must
// not be modified.
func (l *Live) Tokens() []trace.Token { return l.tr.Tokens }

// Step samples the next token with s from the last position's logits,
// appends it and runs the model over it, recording the step as Run does.
func (l *Live) Step(s *Sampler) (*SampleResult, error) {
	return l.advance(s, -1)
}

// Force appends token id instead of a sampled one (teacher forcing): the
// step records s's distribution and filters, as Step would, with id as
// the chosen token. s's generator does not advance. It errors on an id
// outside the vocabulary.
func (l *Live) Force(s *Sampler, id int) (*SampleResult, error) {
	if id < 0 || id >= l.m.Config.VocabSize {
		return nil, &ParamError{"token", id, fmt.Sprintf("must be a token id in 0..%d", l.m.Config.VocabSize-1)}
	}
	return l.advance(s, id)
}

func (l *Live) advance(s *Sampler, forced int) (*SampleResult, error) {
	if s == nil {
		return nil, errors.New("step: no sampler")
	}
	run, tr := l.run, l.tr
	u := liveUndo{checks: tr.Checks, notes: len(tr.Notes), forced: forced >= 0}
	start := time.Now()
	step := run.steps + 1
	if step <= 8 { // T → 0 must pick the argmax, as decode checks
		tiny, _ := NewSampler(SamplingParams{Temperature: 1e-6, TopP: 1}, 0)
		res, err := tiny.Sample(run.LastLogits())
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step, err)
		}
		if res.Chosen != int(res.Ranked(1)[0]) {
			tr.Checks.ZeroTempIsGreedy = false
		}
	}
	evicted := len(run.evictions)
	var res *SampleResult
	var err error
	if forced < 0 {
		run.sampler = s
		res, err = run.Step()
		run.sampler = nil
	} else {
		res, err = s.Clone().Sample(run.last)
		if err == nil {
			res.Chosen = forced
			run.steps++
			l.rec.Sampled(run.steps, res)
			err = run.Append(forced)
		}
	}
	if err != nil {
		return nil, err
	}
	tr.Tokens = append(tr.Tokens, l.rec.token(res.Chosen, false))
	if len(run.evictions) > evicted {
		l.saved[run.steps] = slices.Clone(run.LastLogits())
	}
	l.undo = append(l.undo, u)
	l.decode += time.Since(start)
	return res, nil
}

// Undo takes back the last decode step: the KV cache is truncated (not
// recomputed) and the last position's logits restored, so that stepping
// again computes exactly what the step computed the first time. It errors
// with no step to undo, and with ErrUndoEvicted for a step that evicted
// tokens.
func (l *Live) Undo() error {
	run, tr := l.run, l.tr
	k := run.steps
	if k == 0 {
		return errors.New("undo: no decode step to undo")
	}
	for _, e := range run.evictions {
		if e.Step == k {
			return ErrUndoEvicted
		}
	}
	n := len(run.tokens) - 1 // tokens kept
	p := n - 1               // the last token kept, absolute
	if logits, ok := l.saved[k-1]; ok {
		// Step k−1 (or the prefill) computed its logits over a whole
		// window: restore them rather than recompute the window.
		run.cache.Truncate(n - run.windowStart)
		run.last = slices.Clone(logits)
	} else {
		// Step k−1 was one token reading the cache: run it again.
		run.cache.Truncate(p - run.windowStart)
		info := ForwardInfo{Kind: trace.Decode, Step: k - 1, WindowStart: run.windowStart, QueryStart: p, NewFrom: p}
		logits, err := run.model.forward(&run.ws, run.cache, run.tokens[p:n], info, false, nil)
		if err != nil {
			return fmt.Errorf("undo: %w", err)
		}
		run.setLast(logits)
	}
	delete(l.saved, k)
	run.tokens = run.tokens[:n]
	run.steps--
	u := l.undo[k-1]
	l.undo = l.undo[:k-1]
	tr.Tokens = tr.Tokens[:n]
	tr.Steps = tr.Steps[:len(tr.Steps)-1]
	tr.Checks = u.checks
	tr.Notes = tr.Notes[:u.notes]
	clear(l.rec.noted)
	for _, note := range tr.Notes {
		l.rec.noted[note.Code] = true
	}
	return nil
}

// Fork returns an independent copy of the run: stepping, forcing or undoing
// either leaves the other unchanged, and the copy decodes exactly as this
// run would.
func (l *Live) Fork() (*Live, error) {
	tr, rec := forkTrace(l.m, l.tr, l.rec, l.opts)
	run, err := l.run.Fork(nil, rec)
	if err != nil {
		return nil, err
	}
	saved := make(map[int][]float32, len(l.saved))
	for k, v := range l.saved {
		saved[k] = v // never written after it is saved
	}
	return &Live{m: l.m, run: run, rec: rec, tr: tr, opts: l.opts, overflow: l.overflow,
		saved: saved, undo: slices.Clone(l.undo), decode: l.decode}, nil
}

// Trace returns the run so far as a complete Trace, as Run would record
// it: settings s (its Steps and Overflow are the run's), the check that
// cached decoding equals a recompute (when a step was taken), the
// evictions, the KV cache contents and the notes. The Trace shares the
// recorded steps with the run; treat it as read-only. It costs one forward
// pass over the window.
func (l *Live) Trace(s trace.Settings) (*trace.Trace, error) {
	tr, rec := forkTrace(l.m, l.tr, l.rec, l.opts)
	s.Steps, s.Overflow = l.run.steps, string(l.overflow)
	tr.Settings = s
	if l.run.steps > 0 {
		d, err := l.run.RecomputeDiff()
		if err != nil {
			return nil, err
		}
		tr.Checks.CacheVsRecompute = d
		tr.Timings.DecodeMillis = ms(l.decode)
		if tr.Timings.DecodeMillis > 0 {
			tr.Timings.TokensPerSec = float64(l.run.steps) / (tr.Timings.DecodeMillis / 1000)
		}
	}
	tr.Evictions = slices.Clone(l.run.evictions)
	rec.recordCache(l.run)
	rec.noteEvictions(l.overflow)
	return tr, nil
}

// Recorded returns the run as recorded so far: the prompt, its scores, the
// prefill and every decode step, without settings, checks of the whole run,
// evictions or cache contents (Trace adds those, at the cost of a forward
// pass). It is a view, valid until the next Step, Force or Undo; it must
// not be modified.
func (l *Live) Recorded() *trace.Trace { return l.tr }

// WithParams returns a sampler with settings p whose generator continues
// from where s's is (a copy of it): changing the settings in the middle of a
// run keeps the random stream, so only the settings differ. It errors
// (a *ParamError) on invalid settings.
func (s *Sampler) WithParams(p SamplingParams) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := s.Clone()
	c.params = p
	return c, nil
}
