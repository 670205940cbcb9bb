package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// MaxBytes is the largest Trace JSON that Read and ReadFile accept, 1 GiB.
const MaxBytes = 1 << 30

// MaxRenderValues is the most recorded values (attention probabilities,
// residual norms, logit-lens entries, cached keys and values, candidates; see
// Trace.Values) that Read and ReadFile accept: 2^26, about 600 MB of trace
// JSON. Every one of them may appear in a rendered report, and a report of
// more takes minutes and gigabytes to render and is more than a browser
// opens. A run records fewer values with fewer steps, a shorter prompt or a
// smaller attention window (TraceOptions in package model).
const MaxRenderValues = 1 << 26

// The limits in force; tests lower them to exercise the refusals without
// gigabyte files.
var (
	maxBytes        int64 = MaxBytes
	maxRenderValues int64 = MaxRenderValues
)

// ReadFile reads and validates a Trace written as JSON (by gptviz
// report --format json or generate --trace). A path that is not a regular
// file (after following symbolic links) or holds more than MaxBytes is
// refused before anything is read (*inputfile.Error). Other errors are
// those of Read. Errors name the file.
func ReadFile(path string) (*Trace, error) {
	f, fi, err := inputfile.Open(path, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	if fi.Size() == 0 {
		return nil, fmt.Errorf("trace %s: empty file", path)
	}
	return read(f, path, fi.Size())
}

// Read decodes a Trace from r and validates it (see Trace.Validate);
// name is used in error messages. A trace is untrusted input, so before
// decoding anything Read walks the JSON text token by token against the
// Trace's shape and refuses (*InputError, with the byte offset and where in
// the trace):
//   - a key not spelled exactly as one of the Trace's JSON names (keys do
//     not match case-insensitively) or given twice in one object;
//   - a value of the wrong kind, such as an array where a number belongs,
//     which also keeps nesting to the Trace's own depth;
//   - a string longer than MaxStringBytes, or one that is not valid UTF-8
//     or holds a lone UTF-16 surrogate escape (gptviz writes neither: it
//     records the bytes of a partial UTF-8 token as U+FFFD in Token.Text and
//     shows them in hex in Token.Display);
//   - more than MaxRenderValues recorded values (*TooLargeError with the
//     offset where the count passed the limit).
//
// It also refuses other versions of the format, trailing data and inputs
// over MaxBytes. Memory use is the JSON text (at most MaxBytes) plus the
// decoded Trace; the walk itself needs memory only for the nesting depth
// and the longest token. Syntax and type errors give the byte offset in the
// input where they occur.
func Read(r io.Reader, name string) (*Trace, error) {
	return read(r, name, -1)
}

// read is Read with the input's size when known (else -1), to read it in
// one allocation.
func read(r io.Reader, name string, size int64) (*Trace, error) {
	data, err := readAll(r, size)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", name, err)
	}
	if err := scan(data); err != nil {
		return nil, fmt.Errorf("trace %s: %w", name, decodeError(err, int64(len(data))))
	}
	var tr Trace
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, fmt.Errorf("trace %s: %w", name, decodeError(err, int64(len(data))))
	}
	if n := tr.Values(); n > maxRenderValues {
		return nil, fmt.Errorf("trace %s: %w", name, &TooLargeError{Values: n, Limit: maxRenderValues, Offset: -1})
	}
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("trace %s: %w", name, err)
	}
	return &tr, nil
}

// readAll reads r to its end, refusing more than maxBytes; size, when not
// negative, is the expected size.
func readAll(r io.Reader, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(size, 0), maxBytes)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, maxBytes+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > maxBytes {
		return nil, fmt.Errorf("larger than the limit of %d bytes", maxBytes)
	}
	return buf.Bytes(), nil
}

// TooLargeError is a trace holding more recorded values than a report can
// render (MaxRenderValues).
type TooLargeError struct {
	// Values is how many recorded values were counted: all of them, or,
	// when Offset is not negative, Limit+1, counted by byte Offset of the
	// input where reading stopped.
	Values, Limit int64
	Offset        int64
}

func (e *TooLargeError) Error() string {
	const how = "record fewer steps, a shorter prompt or a smaller attention window"
	if e.Offset >= 0 {
		return fmt.Sprintf("at byte %d: more than %d recorded values, the most a report can render; %s", e.Offset, e.Limit, how)
	}
	return fmt.Sprintf("%d recorded values, more than the %d a report can render; %s", e.Values, e.Limit, how)
}

// decodeError places a json.Decoder error in the input: syntax and type
// errors at the byte offset where they occur, a truncated input at its end
// (read bytes were read in all).
func decodeError(err error, read int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("at byte %d: %w", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("at byte %d: %w", te.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated: the JSON ends unfinished at byte %d: %w", read, err)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("empty input: %w", err)
	}
	return err
}

// Values is the number of recorded values the trace holds: attention
// probabilities, residual norms, logit-lens entries and candidates of every
// step, prompt scores and their candidates, and cached keys and values. It
// measures what rendering the trace costs (see MaxRenderValues).
func (tr *Trace) Values() int64 {
	var n int64
	for _, s := range tr.Scores {
		n += 1 + int64(len(s.Top))
	}
	if c := tr.Continuation; c != nil {
		for _, s := range c.Scores {
			n += 1 + int64(len(s.Top))
		}
	}
	for i := range tr.Steps {
		st := &tr.Steps[i]
		for _, la := range st.Attention {
			for _, rows := range la.Probs {
				for _, row := range rows {
					n += int64(len(row))
				}
			}
		}
		for _, row := range st.ResidualNorm {
			n += int64(len(row))
		}
		for _, row := range st.LogitLens {
			n += int64(len(row))
		}
		n += st.KVWrite.values()
		if st.Next != nil {
			n += 1 + int64(len(st.Next.Top))
			if st.Next.Logits != nil {
				n += int64(len(st.Next.Logits.IDs))
			}
		}
	}
	for _, lk := range tr.Cache {
		for _, x := range [][][][]float32{lk.Keys, lk.Values} {
			for _, rows := range x {
				for _, row := range rows {
					n += int64(len(row))
				}
			}
		}
	}
	return n
}

// Validate checks that a Trace is internally consistent, so that code
// rendering it may index it without further checks: the version, the model
// configuration, token ids inside the vocabulary, and every recorded array
// the shape its Step says (attention [n_layer][n_head][NQuery][keys],
// residual norms [n_layer+1][NQuery], logit lens [n_layer][NQuery], KV cache
// [n_head][positions][d_head]), and settings that agree with the recorded
// run (settings.steps the number of decode steps, sampling settings in the
// sampler's ranges). Errors name the offending field, e.g.
// "steps[3].attention[1]: 2 heads, want 4".
func (tr *Trace) Validate() error {
	if tr.Version != Version {
		return fmt.Errorf("version %d: this gptviz reads version %d", tr.Version, Version)
	}
	c := tr.Model.Config
	if err := c.Validate(); err != nil {
		return fmt.Errorf("model.config: %w", err)
	}
	L, H, D := c.NLayer, c.NHead, c.DHead()
	n := len(tr.Tokens)
	if tr.PromptLen < 1 || tr.PromptLen > n {
		return fmt.Errorf("prompt_len %d: want 1..%d (the number of tokens)", tr.PromptLen, n)
	}
	for i, t := range tr.Tokens {
		if t.ID < 0 || t.ID >= c.VocabSize {
			return fmt.Errorf("tokens[%d]: id %d outside the vocabulary of %d", i, t.ID, c.VocabSize)
		}
	}
	if len(tr.Scores) != 0 && len(tr.Scores) != tr.PromptLen {
		return fmt.Errorf("scores: %d entries, want prompt_len %d", len(tr.Scores), tr.PromptLen)
	}
	for i, s := range tr.Scores {
		if s.Position != i || s.ID != tr.Tokens[i].ID {
			return fmt.Errorf("scores[%d]: position %d id %d, want position %d id %d", i, s.Position, s.ID, i, tr.Tokens[i].ID)
		}
		if err := checkScore(s, c.VocabSize, c.NPositions); err != nil {
			return fmt.Errorf("scores[%d]%w", i, err)
		}
	}
	switch tr.Settings.Overflow {
	case "", OverflowSlide, OverflowBlock:
	default:
		return fmt.Errorf("settings.overflow %q: want %q or %q", tr.Settings.Overflow, OverflowSlide, OverflowBlock)
	}
	if err := tr.validateContinuation(); err != nil {
		return fmt.Errorf("continuation%w", err)
	}
	if len(tr.Steps) == 0 {
		return fmt.Errorf("steps: empty, want the prefill at least")
	}
	if want := tr.PromptLen + len(tr.Steps) - 1; n != want {
		return fmt.Errorf("tokens: %d, want prompt_len + decode steps = %d", n, want)
	}
	if err := tr.Settings.validate(len(tr.Steps) - 1); err != nil {
		return fmt.Errorf("settings%w", err)
	}
	for k := range tr.Steps {
		if err := tr.validateStep(k, L, H); err != nil {
			return fmt.Errorf("steps[%d]%w", k, err)
		}
	}
	for i, e := range tr.Evictions {
		if e.Position < 0 || e.Position >= n || e.Step < 0 || e.Step >= len(tr.Steps) {
			return fmt.Errorf("evictions[%d]: position %d at step %d outside the run", i, e.Position, e.Step)
		}
	}
	if err := tr.validateExt(); err != nil {
		return err
	}
	if err := tr.validateNumbers(); err != nil {
		return err
	}
	for i, lk := range tr.Cache {
		if lk.Layer < 0 || lk.Layer >= L || lk.WindowStart < 0 || lk.WindowStart > n {
			return fmt.Errorf("cache[%d]: layer %d, window_start %d outside the model or run", i, lk.Layer, lk.WindowStart)
		}
		for _, kv := range []struct {
			name string
			x    [][][]float32
		}{{"keys", lk.Keys}, {"values", lk.Values}} {
			if len(kv.x) != H {
				return fmt.Errorf("cache[%d].%s: %d heads, want %d", i, kv.name, len(kv.x), H)
			}
			for h, rows := range kv.x {
				if len(rows) > c.NPositions || lk.WindowStart+len(rows) > n || len(rows) != len(kv.x[0]) {
					return fmt.Errorf("cache[%d].%s[%d]: %d positions do not fit the run", i, kv.name, h, len(rows))
				}
				for p, row := range rows {
					if len(row) != D {
						return fmt.Errorf("cache[%d].%s[%d][%d]: %d values, want d_head %d", i, kv.name, h, p, len(row), D)
					}
				}
			}
		}
	}
	return nil
}

// validateNumbers checks the run's single numbers that a page prints as
// they are: a parameter count, the checks' maxima and the timings must be
// numbers a run can measure (a trace once rendered "parameters -5" and a
// causal leak of 1e+30).
func (tr *Trace) validateNumbers() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	if tr.Model.NumParams < 0 {
		return fmt.Errorf("model.num_params %d: must be ≥ 0", tr.Model.NumParams)
	}
	ck := tr.Checks
	switch {
	case bad(ck.MaxRowSumError) || ck.MaxRowSumError > 1:
		return fmt.Errorf("checks.max_row_sum_error %v: want 0..1", ck.MaxRowSumError)
	case bad(ck.MaxCausalLeak) || ck.MaxCausalLeak > 1:
		return fmt.Errorf("checks.max_causal_leak %v: want a probability, 0..1", ck.MaxCausalLeak)
	case math.IsNaN(ck.CacheVsRecompute) || math.IsInf(ck.CacheVsRecompute, 0):
		return fmt.Errorf("checks.cache_vs_recompute %v: want a finite number (negative: not measured)", ck.CacheVsRecompute)
	}
	tm := tr.Timings
	for _, f := range []struct {
		name string
		v    float64
	}{{"load_ms", tm.LoadMillis}, {"prefill_ms", tm.PrefillMillis}, {"decode_ms", tm.DecodeMillis}, {"tokens_per_sec", tm.TokensPerSec}} {
		if bad(f.v) {
			return fmt.Errorf("timings.%s %v: want a finite number ≥ 0", f.name, f.v)
		}
	}
	return nil
}

// validate checks run settings against the run they describe, decoded
// decode steps: the recorder performs exactly the steps asked for (it does
// not stop at <|endoftext|>), and the sampler takes settings only in these
// ranges (model.SamplingParams.Validate), so a rerun of other settings
// would not be the recorded run.
func (s *Settings) validate(decoded int) error {
	switch {
	case s.Steps != decoded:
		return fmt.Errorf(": steps %d: the trace records %d decode steps", s.Steps, decoded)
	case math.IsNaN(s.Temperature) || math.IsInf(s.Temperature, 0) || s.Temperature < 0:
		return fmt.Errorf(": temperature %v: must be a finite number ≥ 0 (0 means greedy)", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf(": top_k %d: must be ≥ 0 (0 means off)", s.TopK)
	case math.IsNaN(s.TopP) || s.TopP <= 0 || s.TopP > 1:
		return fmt.Errorf(": top_p %v: must be in (0, 1] (1 means off)", s.TopP)
	}
	return nil
}

func (tr *Trace) validateStep(k, L, H int) error {
	st := &tr.Steps[k]
	n := len(tr.Tokens)
	if st.Index != k {
		return fmt.Errorf(".index: %d, want %d", st.Index, k)
	}
	switch {
	case k == 0 && st.Kind != Prefill:
		return fmt.Errorf(".kind: %v, want prefill", st.Kind)
	case k > 0 && !st.Kind.Generates():
		return fmt.Errorf(".kind: %v, want decode or recompute", st.Kind)
	}
	if st.WindowStart < 0 || st.QueryStart < st.WindowStart || st.NQuery < 1 || st.QueryStart+st.NQuery > n ||
		st.QueryStart+st.NQuery-st.WindowStart > tr.Model.Config.NPositions {
		return fmt.Errorf(": window_start %d, query_start %d, n_query %d do not fit %d tokens and %d positions",
			st.WindowStart, st.QueryStart, st.NQuery, n, tr.Model.Config.NPositions)
	}
	if st.Attention != nil && len(st.Attention) != L {
		return fmt.Errorf(".attention: %d layers, want %d", len(st.Attention), L)
	}
	for l, la := range st.Attention {
		if len(la.Probs) != H {
			return fmt.Errorf(".attention[%d]: %d heads, want %d", l, len(la.Probs), H)
		}
		stride := 1
		if la.Summarised {
			stride = la.KeyStride
		}
		if stride < 1 {
			return fmt.Errorf(".attention[%d].key_stride: %d, want ≥ 1", l, la.KeyStride)
		}
		for h, rows := range la.Probs {
			if len(rows) != st.NQuery {
				return fmt.Errorf(".attention[%d][%d]: %d rows, want n_query %d", l, h, len(rows), st.NQuery)
			}
			for q, row := range rows {
				keys := st.QueryStart + st.NQuery - st.WindowStart // keys the pass saw
				if want := (keys + stride - 1) / stride; len(row) != want {
					return fmt.Errorf(".attention[%d][%d][%d]: %d keys, want %d", l, h, q, len(row), want)
				}
				for j, p := range row {
					if err := checkProb(float64(p)); err != nil {
						return fmt.Errorf(".attention[%d][%d][%d][%d]: %w", l, h, q, j, err)
					}
				}
			}
		}
	}
	if st.ResidualNorm != nil && len(st.ResidualNorm) != L+1 {
		return fmt.Errorf(".residual_norm: %d rows, want n_layer+1 = %d", len(st.ResidualNorm), L+1)
	}
	for l, row := range st.ResidualNorm {
		if len(row) != st.NQuery {
			return fmt.Errorf(".residual_norm[%d]: %d values, want %d", l, len(row), st.NQuery)
		}
		for _, v := range row {
			if v < 0 || math.IsInf(float64(v), 0) {
				return fmt.Errorf(".residual_norm[%d]: %v is not a norm", l, v)
			}
		}
	}
	if st.LogitLens != nil && len(st.LogitLens) != L {
		return fmt.Errorf(".logit_lens: %d layers, want %d", len(st.LogitLens), L)
	}
	if st.LensStart < 0 || st.LensStart > st.NQuery {
		return fmt.Errorf(".lens_start: %d outside 0..n_query %d", st.LensStart, st.NQuery)
	}
	if st.LensMillis < 0 || st.LensMillis > st.Millis || math.IsNaN(st.LensMillis) {
		return fmt.Errorf(".lens_ms: %v outside 0..millis %v", st.LensMillis, st.Millis)
	}
	for l, row := range st.LogitLens {
		if len(row) != st.NQuery-st.LensStart {
			return fmt.Errorf(".logit_lens[%d]: %d entries, want n_query − lens_start = %d", l, len(row), st.NQuery-st.LensStart)
		}
		for q, e := range row {
			if e.ID < 0 || e.ID >= tr.Model.Config.VocabSize || checkProb(e.Prob) != nil {
				return fmt.Errorf(".logit_lens[%d][%d]: id %d prob %v invalid", l, q, e.ID, e.Prob)
			}
		}
	}
	if st.KV.Positions != nil && len(st.KV.Positions) != L {
		return fmt.Errorf(".kv.positions: %d layers, want %d", len(st.KV.Positions), L)
	}
	for l, p := range st.KV.Positions {
		if p < 0 || p > tr.Model.Config.NPositions {
			return fmt.Errorf(".kv.positions[%d]: %d outside 0..n_positions %d", l, p, tr.Model.Config.NPositions)
		}
	}
	if st.KV.Bytes < 0 {
		return fmt.Errorf(".kv.bytes: %d is negative", st.KV.Bytes)
	}
	if w := st.KVWrite; w != nil {
		if err := w.validate(st, n, tr.Model.Config.NLayer, tr.Model.Config.NHead, tr.Model.Config.DHead()); err != nil {
			return fmt.Errorf(".kv_write%w", err)
		}
	}
	if p := st.Next; p != nil {
		if k == 0 {
			return fmt.Errorf(".next: the prefill has no prediction")
		}
		if p.Position < 0 || p.Position >= n {
			return fmt.Errorf(".next.position: %d outside the run", p.Position)
		}
		if !(p.Entropy >= 0) || !(p.SampleEntropy >= 0) || math.IsInf(p.Entropy, 0) || math.IsInf(p.SampleEntropy, 0) {
			return fmt.Errorf(".next: entropy %v, sample_entropy %v: want finite values ≥ 0", p.Entropy, p.SampleEntropy)
		}
		if err := checkCandidates(append(p.Top, p.Chosen), tr.Model.Config.VocabSize); err != nil {
			return fmt.Errorf(".next.top%w", err)
		}
		if p.Logits != nil {
			if err := p.Logits.validate(tr.Model.Config.VocabSize); err != nil {
				return fmt.Errorf(".next.logits%w", err)
			}
		}
	}
	return nil
}

// values is the number of values w holds (0 for nil).
func (w *KVWrite) values() int64 {
	if w == nil {
		return 0
	}
	var n int64
	for _, x := range [][][]float32{w.KeyNorm, w.ValueNorm, w.Keys, w.Values} {
		for _, row := range x {
			n += int64(len(row))
		}
	}
	return n
}

// validate checks a KVWrite against its step st in a run of n tokens and a
// model of L layers, H heads of width D: the rows written end at the
// step's last query position and start at its window (prefill, recompute)
// or are the one new row (decode); norms [L][N], finite and ≥ 0; the focus
// inside the model; Keys and Values [Start+N−From][D].
func (w *KVWrite) validate(st *Step, n, L, H, D int) error {
	end := w.Start + w.N
	switch {
	case w.N < 1 || w.Start < 0 || end > n || end != st.QueryStart+st.NQuery:
		return fmt.Errorf(": start %d, n %d: want rows ending at the step's last query position %d", w.Start, w.N, st.QueryStart+st.NQuery-1)
	case st.Kind == Decode && w.N != 1:
		return fmt.Errorf(".n: %d rows, want 1 on a decode step", w.N)
	case st.Kind != Decode && w.Start != st.WindowStart:
		return fmt.Errorf(".start: %d, want the window start %d on a %v step", w.Start, st.WindowStart, st.Kind)
	case w.Layer < 0 || w.Layer >= L || w.Head < 0 || w.Head >= H:
		return fmt.Errorf(": layer %d, head %d outside the model (%d layers, %d heads)", w.Layer, w.Head, L, H)
	case w.From < w.Start || w.From > end:
		return fmt.Errorf(".from: %d outside %d..%d", w.From, w.Start, end)
	}
	for _, x := range []struct {
		name string
		rows [][]float32
	}{{"key_norm", w.KeyNorm}, {"value_norm", w.ValueNorm}} {
		if len(x.rows) != L {
			return fmt.Errorf(".%s: %d layers, want %d", x.name, len(x.rows), L)
		}
		for l, row := range x.rows {
			if len(row) != w.N {
				return fmt.Errorf(".%s[%d]: %d values, want n %d", x.name, l, len(row), w.N)
			}
			for _, v := range row {
				if !(v >= 0) || math.IsInf(float64(v), 0) {
					return fmt.Errorf(".%s[%d]: %v is not a norm", x.name, l, v)
				}
			}
		}
	}
	for _, x := range []struct {
		name string
		rows [][]float32
	}{{"keys", w.Keys}, {"values", w.Values}} {
		if len(x.rows) != end-w.From {
			return fmt.Errorf(".%s: %d rows, want %d (positions %d..%d)", x.name, len(x.rows), end-w.From, w.From, end-1)
		}
		for i, row := range x.rows {
			if len(row) != D {
				return fmt.Errorf(".%s[%d]: %d values, want d_head %d", x.name, i, len(row), D)
			}
		}
	}
	return nil
}

// validate checks the shape of recorded top logits: 1..vocab ids, each
// inside the vocabulary and distinct, as many finite values, highest first
// (ties by ascending id), and a finite LogSumExp at least the highest value.
func (tl *TopLogits) validate(vocab int) error {
	n := len(tl.IDs)
	switch {
	case n == 0 || n > vocab:
		return fmt.Errorf(".ids: %d ids, want 1..vocab_size %d", n, vocab)
	case len(tl.Values) != n:
		return fmt.Errorf(".values: %d values, want one per id (%d)", len(tl.Values), n)
	}
	seen := make(map[int]bool, n)
	for i, id := range tl.IDs {
		v := float64(tl.Values[i])
		switch {
		case id < 0 || id >= vocab:
			return fmt.Errorf(".ids[%d]: id %d outside the vocabulary of %d", i, id, vocab)
		case seen[id]:
			return fmt.Errorf(".ids[%d]: id %d given twice", i, id)
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf(".values[%d]: %v is not a finite logit", i, v)
		case i > 0 && (tl.Values[i] > tl.Values[i-1] || tl.Values[i] == tl.Values[i-1] && id < tl.IDs[i-1]):
			return fmt.Errorf(".values[%d]: not in order (highest first, ties by id)", i)
		}
		seen[id] = true
	}
	if lse := tl.LogSumExp; math.IsNaN(lse) || math.IsInf(lse, 0) || lse < float64(tl.Values[0]) {
		return fmt.Errorf(".log_sum_exp: %v, want a finite number ≥ the highest logit %v", lse, tl.Values[0])
	}
	return nil
}

// checkScore checks one Score's probability, context and candidates.
// Context 0 without NoContext is a trace written before Context was
// recorded (see Trace.ScoreContext).
func checkScore(s Score, vocab, nPositions int) error {
	if err := checkProb(s.Prob); err != nil {
		return fmt.Errorf(".prob: %w", err)
	}
	if s.Context < 0 || s.Context > s.Position || s.Context >= nPositions || (s.NoContext && s.Context != 0) {
		return fmt.Errorf(".context: %d at position %d (no_context %v): want 0..min(position, n_positions−1 = %d), 0 with no_context",
			s.Context, s.Position, s.NoContext, nPositions-1)
	}
	if err := checkCandidates(s.Top, vocab); err != nil {
		return fmt.Errorf(".top%w", err)
	}
	return nil
}

// validateContinuation checks Continuation: tokens in the vocabulary, one
// score each at positions PromptLen.., every one with context, and the log
// probability their sum.
func (tr *Trace) validateContinuation() error {
	ct := tr.Continuation
	if ct == nil {
		return nil
	}
	c := tr.Model.Config
	if len(ct.Tokens) == 0 || len(ct.Scores) != len(ct.Tokens) {
		return fmt.Errorf(": %d tokens and %d scores, want the same number, at least 1", len(ct.Tokens), len(ct.Scores))
	}
	var sum float64
	for i, t := range ct.Tokens {
		s := ct.Scores[i]
		if t.ID < 0 || t.ID >= c.VocabSize {
			return fmt.Errorf(".tokens[%d]: id %d outside the vocabulary of %d", i, t.ID, c.VocabSize)
		}
		if s.Position != tr.PromptLen+i || s.ID != t.ID {
			return fmt.Errorf(".scores[%d]: position %d id %d, want position %d id %d", i, s.Position, s.ID, tr.PromptLen+i, t.ID)
		}
		if s.NoContext || s.Context < 1 {
			return fmt.Errorf(".scores[%d]: context %d, want ≥ 1 (the prompt precedes it)", i, s.Context)
		}
		if err := checkScore(s, c.VocabSize, c.NPositions); err != nil {
			return fmt.Errorf(".scores[%d]%w", i, err)
		}
		sum += s.Surprisal
	}
	if math.IsNaN(ct.Log2Prob) || math.IsInf(ct.Log2Prob, 0) || ct.Log2Prob > 0 || math.Abs(-ct.Log2Prob-sum) > 1e-6*max(1, sum) {
		return fmt.Errorf(".log2_prob: %v, want −Σ surprisal = %v", ct.Log2Prob, -sum)
	}
	if want := sum / float64(len(ct.Tokens)); math.IsNaN(ct.BitsPerToken) || math.Abs(ct.BitsPerToken-want) > 1e-6*max(1, want) {
		return fmt.Errorf(".bits_per_token: %v, want %v", ct.BitsPerToken, want)
	}
	return nil
}

func checkProb(p float64) error {
	if !(p >= 0 && p <= 1+1e-5) {
		return fmt.Errorf("%v is not a probability", p)
	}
	return nil
}

func checkCandidates(cs []Candidate, vocab int) error {
	for i, c := range cs {
		if c.ID < 0 || c.ID >= vocab {
			return fmt.Errorf("[%d]: id %d outside the vocabulary of %d", i, c.ID, vocab)
		}
		if checkProb(c.Prob) != nil || checkProb(c.SampleProb) != nil {
			return fmt.Errorf("[%d]: prob %v, sample_prob %v", i, c.Prob, c.SampleProb)
		}
	}
	return nil
}
