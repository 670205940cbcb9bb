// Package viztest builds synthetic Traces (package trace) for tests and benchmarks of
// packages viz and lessons: random but seeded values with the shapes and
// conventions of a real recorded run (model.Run), without a model.
package viztest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// Options shape a synthetic trace. Zero fields take the defaults in
// brackets.
type Options struct {
	NLayer     int // blocks [2]
	NHead      int // heads per block [2]
	DHead      int // width of one head, n_embd / n_head [4]
	NPositions int // context window, tokens [1024]
	Prompt     int // prompt tokens [6]
	Steps      int // decode steps [3]
	TopN       int // candidates kept per prediction [10]
	// MaxAttention, MaxQueries and KVRows bound what is recorded, as
	// model.TraceOptions does [256, 256, 256].
	MaxAttention, MaxQueries, KVRows int
	// LensQueries bounds the logit lens rows of one step, as
	// model.TraceOptions does; 0 means every recorded row (unlike the
	// recorder's default).
	LensQueries int
	// Temperature, TopK and TopP are the sampling settings recorded (they
	// only decide which candidates are marked removed) [1, 0, 1].
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	// TopLogits, when > 0, records that many logits per decode step
	// (trace.Prediction.Logits): the candidates' own, then made-up lower
	// ones; 0 records none, as traces from before gptviz recorded them.
	TopLogits int
	// Words are the token display strings, used in turn; nil means
	// Adversarial.
	Words []string
}

// Adversarial are token strings that must stay inert text in every output:
// markup, go-echarts' function markers, quotes, ampersands, Chinese, emoji,
// a newline (shown as ↵), visible spaces and a partial UTF-8 byte.
var Adversarial = []string{
	"The", "␣</script>", "__f__alert(1)__f__", "␣\"", "␣&amp;", "␣工作", "记忆", "␣🦊", "↵", "␣<b>x</b>",
	"␣{a|b}", "\\x", "␣quick", "␣brown", "␣fox", "{@[2]}", "<!--", "␣jumps", "\\xe4",
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NLayer, 2)
	def(&o.NHead, 2)
	def(&o.DHead, 4)
	def(&o.NPositions, 1024)
	def(&o.TopN, 10)
	def(&o.MaxAttention, 256)
	def(&o.MaxQueries, 256)
	def(&o.KVRows, 256)
	if o.Prompt <= 0 {
		o.Prompt = 6
	}
	if o.Steps < 0 {
		o.Steps = 0
	}
	if o.Temperature == 0 {
		o.Temperature = 1
	}
	if o.TopP == 0 {
		o.TopP = 1
	}
	if o.Words == nil {
		o.Words = Adversarial
	}
	return o
}

// Trace returns a synthetic trace: o.Prompt prompt tokens, a prefill step
// and o.Steps decode steps, with attention (causal, rows summing to 1),
// residual norms, logit lens, next-token predictions, KV sizes, the final
// KV cache of the first and last layer, evictions once the window of
// NPositions is full (one token per step, as model.OverflowSlide evicts),
// checks and notes. Same options, same trace.
func Trace(o Options) *trace.Trace {
	o = o.withDefaults()
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	L, H, D := o.NLayer, o.NHead, o.DHead
	cfg := arch.Config{
		ModelType: "gpt2", VocabSize: 50257, NPositions: o.NPositions, NEmbd: H * D,
		NLayer: L, NHead: H, NInner: 4 * H * D, LayerNormEpsilon: 1e-5, Activation: "gelu_new",
		BOSTokenID: 50256, EOSTokenID: 50256,
	}
	tok := func(i int, prompt bool) trace.Token {
		w := o.Words[i%len(o.Words)]
		return trace.Token{ID: 100 + i%len(o.Words), Text: w, Display: w, Prompt: prompt}
	}
	tr := &trace.Trace{
		Version: trace.Version,
		Model:   trace.ModelInfo{Name: "synthetic", Config: cfg, NumParams: cfg.NumParams()},
		Settings: trace.Settings{
			Steps: o.Steps, Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, Seed: o.Seed,
			Command: fmt.Sprintf("gptviz report --steps %d --seed %d \"…\"", o.Steps, o.Seed), Version: "test",
		},
		Prompt:    "synthetic prompt",
		PromptLen: o.Prompt,
		Checks:    trace.Checks{MaxRowSumError: 3e-7, CacheVsRecompute: 2e-6, ZeroTempIsGreedy: true},
		Timings:   trace.Timings{LoadMillis: 12, PrefillMillis: 34, DecodeMillis: 56, TokensPerSec: 78},
	}
	for i := 0; i < o.Prompt; i++ {
		tr.Tokens = append(tr.Tokens, tok(i, true))
	}
	// Scores under teacher forcing.
	for i := 0; i < o.Prompt; i++ {
		s := trace.Score{Position: i, ID: tr.Tokens[i].ID}
		if i == 0 {
			s.NoContext = true
		} else {
			s.Prob = math.Pow(rng.Float64(), 2)*0.9 + 1e-4
			s.Surprisal = -math.Log2(s.Prob)
			s.Top = candidates(rng, o, nil)
		}
		tr.Scores = append(tr.Scores, s)
	}
	windowStart := 0
	// What each step writes into the KV cache comes from a stream of its
	// own, so that the other values stay those of traces without it.
	kvRng := rand.New(rand.NewPCG(o.Seed, 0x6a09e667f3bcc908))
	addStep := func(index int, kind trace.StepKind, qStart, nq int, next *trace.Prediction) {
		keep := 0
		if nq > o.MaxQueries {
			keep = nq - o.MaxQueries
			tr.Notes = appendOnce(tr.Notes, trace.Note{Code: trace.NotePromptRows, Args: []int{nq, o.MaxQueries}, Text: fmt.Sprintf("The prompt has %d tokens; attention, logit lens and residual norms are recorded for its last %d positions.", nq, o.MaxQueries)})
		}
		lensFrom := keep
		if n := nq - keep; o.LensQueries > 0 && n > o.LensQueries {
			lensFrom = nq - o.LensQueries
			tr.Notes = appendOnce(tr.Notes, trace.Note{Code: trace.NoteLensRows, Args: []int{n, o.LensQueries}, Text: fmt.Sprintf("A step recorded %d query rows; the logit lens was read out for its last %d.", n, o.LensQueries)})
		}
		nk := qStart + nq - windowStart
		st := trace.Step{Index: index, Kind: kind, QueryStart: qStart + keep, NQuery: nq - keep, WindowStart: windowStart, Next: next, Millis: 1.5, LensStart: lensFrom - keep}
		stride := (nk + o.MaxAttention - 1) / o.MaxAttention
		for l := 0; l < L; l++ {
			la := trace.LayerAttention{Probs: make([][][]float32, H)}
			if stride > 1 {
				la.Summarised, la.KeyStride = true, stride
				tr.Notes = appendOnce(tr.Notes, trace.Note{Code: trace.NoteAttentionStride, Args: []int{o.MaxAttention, stride}, Text: fmt.Sprintf("Attention rows longer than %d keys are stored as averages over blocks of %d keys.", o.MaxAttention, stride)})
			}
			for h := 0; h < H; h++ {
				rows := make([][]float32, 0, nq-keep)
				for q := keep; q < nq; q++ {
					visible := nk - nq + q + 1
					rows = append(rows, trace.BlockAverage(attnRow(rng, nk, visible, l, h), stride))
				}
				la.Probs[h] = rows
			}
			st.Attention = append(st.Attention, la)
		}
		for l := 0; l <= L; l++ {
			row := make([]float32, nq-keep)
			for q := range row {
				row[q] = float32(10 + 5*float64(l) + 3*rng.Float64())
				if st.QueryStart+q == 0 {
					row[q] *= 20 // the first position's residual stream is large
				}
			}
			st.ResidualNorm = append(st.ResidualNorm, row)
		}
		for l := 0; l < L; l++ {
			row := make([]trace.LensEntry, nq-lensFrom)
			for q := range row {
				w := rng.IntN(len(o.Words))
				row[q] = trace.LensEntry{ID: 100 + w, Display: o.Words[w], Prob: math.Pow(rng.Float64(), 3-2*float64(l)/float64(L))}
			}
			st.LogitLens = append(st.LogitLens, row)
		}
		pos := qStart + nq - windowStart
		st.KV.Positions = make([]int, L)
		for l := range st.KV.Positions {
			st.KV.Positions[l] = pos
		}
		st.KV.Bytes = tr.Model.Config.KVBytes(pos)
		st.KVWrite = kvWrite(kvRng, o, &tr.Notes, kind, windowStart, qStart+nq)
		tr.Steps = append(tr.Steps, st)
	}
	addStep(0, trace.Prefill, 0, o.Prompt, nil)
	for s := 1; s <= o.Steps; s++ {
		p := prediction(rng, o, len(tr.Tokens)-1)
		tr.Tokens = append(tr.Tokens, trace.Token{ID: p.Chosen.ID, Text: p.Chosen.Text, Display: p.Chosen.Display})
		q := len(tr.Tokens) - 1
		kind := trace.Decode
		if q-windowStart+1 > o.NPositions {
			// As model.Runner does: the oldest token leaves and the whole
			// window is recomputed; only the new token's row is recorded.
			tr.Evictions = append(tr.Evictions, trace.Eviction{Step: s, Position: windowStart, ID: tr.Tokens[windowStart].ID})
			windowStart++
			kind = trace.Recompute
		}
		addStep(s, kind, q, 1, p)
	}
	if len(tr.Evictions) > 0 {
		tr.Notes = append(tr.Notes, trace.Note{Code: trace.NoteEvicted, Args: []int{len(tr.Evictions), o.NPositions}, Text: fmt.Sprintf("%d tokens left the context window of %d positions; each step after that recomputed the window from scratch.", len(tr.Evictions), o.NPositions)})
	}
	// Final KV cache of the first and last layer.
	n := len(tr.Tokens) - windowStart // every decode step feeds its token
	for _, l := range uniq(0, L-1) {
		kv := trace.LayerKV{Layer: l, WindowStart: windowStart, Keys: make([][][]float32, H), Values: make([][][]float32, H)}
		for h := 0; h < H; h++ {
			kv.Keys[h] = normalRows(rng, n, D, 1.5)
			kv.Values[h] = normalRows(rng, n, D, 0.5)
		}
		tr.Cache = append(tr.Cache, kv)
	}
	return tr
}

// kvWrite is what a step of kind writes into the KV cache whose window
// starts at window and ends (exclusive) at end, as model's recorder keeps
// it: the last layer's head 0 in full for the last KVRows rows (with a
// Note beyond), norms of every layer.
func kvWrite(rng *rand.Rand, o Options, notes *[]trace.Note, kind trace.StepKind, window, end int) *trace.KVWrite {
	w := &trace.KVWrite{Start: end - 1, N: 1, Layer: o.NLayer - 1}
	if kind != trace.Decode {
		w.Start, w.N = window, end-window
	}
	w.From = end - min(w.N, o.KVRows)
	if w.From > w.Start {
		*notes = appendOnce(*notes, trace.Note{Code: trace.NoteKVRows, Args: []int{o.KVRows, w.Layer, 0}, Text: fmt.Sprintf("Steps that write more than %d rows into the KV cache record the keys and values of layer %d, head %d for their last %d rows; the key and value norms of every row and layer are recorded.", o.KVRows, w.Layer, 0, o.KVRows)})
	}
	w.Keys, w.Values = normalRows(rng, end-w.From, o.DHead, 1.5), normalRows(rng, end-w.From, o.DHead, 0.5)
	for l := 0; l < o.NLayer; l++ {
		kn, vn := make([]float32, w.N), make([]float32, w.N)
		for i := range kn {
			kn[i] = float32(1.5*math.Sqrt(float64(o.NHead*o.DHead)) + 0.3*rng.NormFloat64())
			vn[i] = float32(0.5*math.Sqrt(float64(o.NHead*o.DHead)) + 0.1*rng.NormFloat64())
		}
		w.KeyNorm, w.ValueNorm = append(w.KeyNorm, kn), append(w.ValueNorm, vn)
	}
	return w
}

func uniq(a, b int) []int {
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

func appendOnce(notes []trace.Note, note trace.Note) []trace.Note {
	for _, n := range notes {
		if n.Code == note.Code {
			return notes
		}
	}
	return append(notes, note)
}

// attnRow is one attention row over nk keys whose first visible are
// visible: a softmax of random scores with a preference that depends on the
// layer and head (previous token, first token, recent tokens), zeros after.
func attnRow(rng *rand.Rand, nk, visible, l, h int) []float32 {
	row := make([]float32, nk)
	var sum float64
	ws := make([]float64, visible)
	for k := range ws {
		s := rng.NormFloat64()
		switch (l + h) % 3 {
		case 0:
			if k == visible-2 {
				s += 4
			}
		case 1:
			if k == 0 {
				s += 4
			}
		default:
			s += 2 * float64(k) / float64(visible)
		}
		ws[k] = math.Exp(s)
		sum += ws[k]
	}
	for k := range ws {
		row[k] = float32(ws[k] / sum)
	}
	return row
}

func normalRows(rng *rand.Rand, n, d int, scale float64) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, d)
		for j := range out[i] {
			out[i][j] = float32(rng.NormFloat64() * scale)
		}
	}
	return out
}

// candidates returns TopN candidates with decreasing probabilities,
// marking those top-k / top-p would remove.
func candidates(rng *rand.Rand, o Options, _ []trace.Candidate) []trace.Candidate {
	var cs []trace.Candidate
	p := 0.3 + 0.5*rng.Float64()
	var mass float64
	for i := 0; i < o.TopN; i++ {
		w := (i*7 + rng.IntN(len(o.Words))) % len(o.Words)
		c := trace.Candidate{ID: 100 + w, Text: o.Words[w], Display: o.Words[w], Prob: p, Logit: float32(math.Log(p))}
		switch {
		case o.TopK > 0 && i >= o.TopK:
			c.RemovedBy = "top-k"
		case mass >= o.TopP:
			c.RemovedBy = "top-p"
		}
		mass += p
		cs = append(cs, c)
		p *= 0.3 + 0.5*rng.Float64()
	}
	var kept float64
	for _, c := range cs {
		if c.RemovedBy == "" {
			kept += c.Prob
		}
	}
	for i := range cs {
		if cs[i].RemovedBy == "" {
			cs[i].SampleProb = cs[i].Prob / kept
		}
	}
	return cs
}

// prediction is one decode step's next-token distribution at position pos.
func prediction(rng *rand.Rand, o Options, pos int) *trace.Prediction {
	cs := candidates(rng, o, nil)
	kept := 0
	for _, c := range cs {
		if c.RemovedBy == "" {
			kept++
		}
	}
	chosen := cs[rng.IntN(max(1, kept))]
	var h float64
	for _, c := range cs {
		h -= c.Prob * math.Log2(c.Prob)
	}
	return &trace.Prediction{
		Position: pos, Top: cs, Entropy: h + 1, SampleEntropy: h,
		Filters: []trace.FilterResult{{Name: "temperature", Kept: 50257, Mass: 1}, {Name: "top-k", Kept: min(50257, max(o.TopK, 0)), Mass: 0.95}, {Name: "top-p", Kept: kept, Mass: 0.9}},
		Chosen:  chosen,
		Logits:  topLogits(cs, o.TopLogits),
	}
}

// topLogits returns n recorded logits: the candidates' (each id once, in
// order), then ids 1000, 1001 … with lower and lower logits, and a
// log-sum-exp that leaves 5% of the mass to unrecorded tokens. It uses no
// random numbers, so traces without it are unchanged. Nil when n ≤ 0.
func topLogits(cs []trace.Candidate, n int) *trace.TopLogits {
	if n <= 0 {
		return nil
	}
	tl := &trace.TopLogits{}
	seen := map[int]bool{}
	for _, c := range cs {
		if len(tl.IDs) < n && !seen[c.ID] {
			seen[c.ID] = true
			tl.IDs, tl.Values = append(tl.IDs, c.ID), append(tl.Values, c.Logit)
		}
	}
	for j := 0; len(tl.IDs) < n; j++ {
		v := float32(0)
		if len(tl.Values) > 0 {
			v = tl.Values[len(tl.Values)-1] - 0.5
		}
		tl.IDs, tl.Values = append(tl.IDs, 1000+j), append(tl.Values, v)
	}
	var sum float64
	for _, v := range tl.Values {
		sum += math.Exp(float64(v))
	}
	tl.LogSumExp = math.Log(sum / 0.95)
	return tl
}
