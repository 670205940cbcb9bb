package model

import (
	"fmt"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// KVCache is the model's working memory: for every layer, the keys and values
// of each position in the context window, so that a decode step computes
// attention for one new query without recomputing the past
// (openai/gpt-2 model.py "past"; Hugging Face "past_key_values").
type KVCache struct {
	NLayer, NHead, DHead int
	// Window is the most positions the cache may hold, n_positions.
	Window int
	// Capacity is the number of positions allocated, 0..Window. The cache
	// starts empty and grows as positions are appended (see reserve), so a
	// short run never allocates the whole context window.
	Capacity int
	// Len is the number of positions cached, 0..Capacity.
	Len int
	// K[l] and V[l] are layer l's keys and values, [n_head][Capacity][d_head];
	// positions Len.. are unused.
	K, V [][]float32
}

// NewKVCache returns an empty cache for a model with configuration c. It
// allocates nothing until positions are appended.
func NewKVCache(c arch.Config) *KVCache {
	return &KVCache{NLayer: c.NLayer, NHead: c.NHead, DHead: c.DHead(), Window: c.NPositions,
		K: make([][]float32, c.NLayer), V: make([][]float32, c.NLayer)}
}

// reserve makes room for n positions (n ≤ Window), keeping the cached ones:
// the capacity grows to n, or to twice the old capacity when that is more
// (at most Window), so appending one position at a time costs amortised
// O(1) copies.
func (kc *KVCache) reserve(n int) {
	if n <= kc.Capacity {
		return
	}
	newCap := max(n, min(2*kc.Capacity, kc.Window))
	D := kc.DHead
	for l := range kc.K {
		k, v := make([]float32, kc.NHead*newCap*D), make([]float32, kc.NHead*newCap*D)
		for h := 0; h < kc.NHead; h++ {
			oldK, oldV := kc.Head(l, h)
			copy(k[h*newCap*D:], oldK)
			copy(v[h*newCap*D:], oldV)
		}
		kc.K[l], kc.V[l] = k, v
	}
	kc.Capacity = newCap
}

// clone returns a copy of the cache with the same capacity: the cached
// positions are copied, so appending to either leaves the other unchanged.
func (kc *KVCache) clone() *KVCache {
	c := *kc
	c.K, c.V = make([][]float32, len(kc.K)), make([][]float32, len(kc.V))
	for l := range kc.K {
		c.K[l], c.V[l] = make([]float32, len(kc.K[l])), make([]float32, len(kc.V[l]))
		for h := 0; h < kc.NHead; h++ {
			off := h * kc.Capacity * kc.DHead
			n := kc.Len * kc.DHead
			copy(c.K[l][off:off+n], kc.K[l][off:off+n])
			copy(c.V[l][off:off+n], kc.V[l][off:off+n])
		}
	}
	return &c
}

// Reset empties the cache.
func (kc *KVCache) Reset() { kc.Len = 0 }

// Bytes is the memory the cached positions occupy:
// 2 (K and V) × n_layer × Len × n_embd × 4 bytes (float32).
func (kc *KVCache) Bytes() int64 {
	return 2 * int64(kc.NLayer) * int64(kc.Len) * int64(kc.NHead*kc.DHead) * 4
}

// Head returns layer l, head h's cached keys and values, [Len][d_head] each,
// as views into the cache.
func (kc *KVCache) Head(l, h int) (k, v []float32) {
	off := h * kc.Capacity * kc.DHead
	return kc.K[l][off : off+kc.Len*kc.DHead], kc.V[l][off : off+kc.Len*kc.DHead]
}

// ForwardInfo describes one forward pass to a Recorder.
type ForwardInfo struct {
	// Kind is trace.Prefill (the prompt), trace.Decode (one new token
	// reading the cache) or trace.Recompute (the context window was full:
	// the oldest token was evicted and the whole window is recomputed from
	// scratch).
	Kind trace.StepKind
	// Step is 0 for the prefill and k for the k-th decode step.
	Step int
	// WindowStart is the absolute position of cache position 0.
	WindowStart int
	// QueryStart is the absolute position of the first row computed; NQuery
	// rows follow. NKeys = QueryStart − WindowStart + NQuery keys are visible
	// to the last row.
	QueryStart, NQuery, NKeys int
	// NewFrom is the absolute position of the first token new in this pass;
	// rows before it (in a recompute) were seen before.
	NewFrom int
}

// LayerRecord is what one block did during a forward pass. Its slices belong
// to the runner and are overwritten by the next block: copy what you keep.
type LayerRecord struct {
	// Attention holds the post-softmax attention probabilities,
	// [n_head][NQuery][NKeys]; row q sees keys 0..NKeys−NQuery+q, and the
	// causal upper triangle is exactly 0.
	Attention []float32
	// Residual is the residual stream after the block, [NQuery][n_embd].
	Residual []float32

	kc          *KVCache
	layer, from int // cache positions from..from+n−1 were appended
	n           int
}

// NewKV returns the keys and values that this pass appended to the cache for
// head h, [NQuery][d_head] each, as views into the cache.
func (r LayerRecord) NewKV(h int) (k, v []float32) {
	D := r.kc.DHead
	off := (h*r.kc.Capacity + r.from) * D
	return r.kc.K[r.layer][off : off+r.n*D], r.kc.V[r.layer][off : off+r.n*D]
}

// Recorder observes the runner. Every call receives views of the runner's
// buffers that are valid only during the call. With no Recorder attached the
// runner computes only what generation needs.
type Recorder interface {
	// BeginForward is called before each forward pass, with the embeddings
	// (token + position, hidden state 0), [NQuery][n_embd].
	BeginForward(info ForwardInfo, embeddings []float32)
	// Layer is called after block l.
	Layer(info ForwardInfo, l int, rec LayerRecord)
	// EndForward is called with the final LayerNorm output [NQuery][n_embd]
	// and the logits [NQuery][vocab_size] of every row.
	EndForward(info ForwardInfo, lnf, logits []float32)
	// Sampled is called after each decode step's choice with the full
	// record of what the sampler did.
	Sampled(step int, s *SampleResult)
}

// rowsRecorder is a Recorder that says which passes need the final
// LayerNorm output and logits of every row in EndForward; on the others it
// receives the last row's only ([1][n_embd], [1][vocab_size]), which saves
// the output head over the other rows. A Recorder without the method gets
// every row on every pass.
type rowsRecorder interface {
	needsAllRows(info ForwardInfo) bool
}

// lensRecorder is a Recorder whose logit lens reads rows out through ln_f
// and the head at the end of a pass. On a one-row pass (a decode step),
// and on a pass of own > 1 rows (a recorded prefill) where headRowsAgree,
// forward asks it for those rows, after ln_f, [n][n_embd], and a buffer for
// their logits, [n][vocab_size], and sends them through the head together
// with the pass's own rows, in one read of the head's weights (n = 0:
// none). Both buffers have room past their length for one row more, where
// headWithRows may put a decode step's own row.
type lensRecorder interface {
	lensHead(info ForwardInfo, own int) (ln, logits []float32)
}

// workspace holds the activations of one forward pass, reused across passes.
type workspace struct {
	x, ln, qkv, atty, tmp, fc, logits []float32
	att                               []float32
	wide                              []float32 // a 16-bit matrix widened (ws.float32)
	dec                               decodeOps // the one-row path's tasks
}

// grow makes every buffer big enough for T rows with nkeys visible keys.
func (ws *workspace) grow(c arch.Config, T, nkeys int, allLogits bool) {
	C := c.NEmbd
	ensure := func(b *[]float32, n int) {
		if cap(*b) < n {
			*b = make([]float32, n)
		}
		*b = (*b)[:n]
	}
	ensure(&ws.x, T*C)
	ensure(&ws.ln, T*C)
	ensure(&ws.qkv, T*3*C)
	ensure(&ws.atty, T*C)
	ensure(&ws.tmp, T*C)
	ensure(&ws.fc, T*c.NInner)
	ensure(&ws.att, c.NHead*T*nkeys)
	rows := 1
	if allLogits {
		rows = T
	}
	ensure(&ws.logits, rows*c.VocabSize)
}

// forward runs the model over ids, the tokens at cache positions
// kc.Len..kc.Len+T−1, appending their keys and values to kc. It returns the
// logits [T][vocab_size] when allLogits is set, else only the last row's
// [vocab_size]; the slice is valid until the next call. rec may be nil.
//
// The block is GPT-2's pre-LN transformer block (openai/gpt-2 model.py
// block): x += attn(ln_1(x)); x += mlp(ln_2(x)); then ln_f and the tied head.
func (m *Model) forward(ws *workspace, kc *KVCache, ids []int, info ForwardInfo, allLogits bool, rec Recorder) ([]float32, error) {
	c := m.Config
	T := len(ids)
	past := kc.Len
	if T == 0 {
		return nil, fmt.Errorf("model: forward over no tokens")
	}
	if past+T > c.NPositions {
		return nil, fmt.Errorf("model: %d tokens exceed the context window of %d positions", past+T, c.NPositions)
	}
	for _, id := range ids {
		if id < 0 || id >= c.VocabSize {
			return nil, fmt.Errorf("model: token id %d outside the vocabulary [0, %d)", id, c.VocabSize)
		}
	}
	if rec != nil {
		if rr, ok := rec.(rowsRecorder); !ok || rr.needsAllRows(info) {
			allLogits = true
		}
	}
	C, H, D, nkeys := c.NEmbd, c.NHead, c.DHead(), past+T
	ws.grow(c, T, nkeys, allLogits)
	kc.reserve(nkeys)
	w := &m.Weights

	encoder(ws.x, ids, past, w.wte(), w.WPE, C)
	info.NQuery, info.NKeys = T, nkeys
	if rec != nil {
		rec.BeginForward(info, ws.x)
	}
	for l := range w.Blocks {
		b := &w.Blocks[l]
		// Attention sub-block.
		layernorm(ws.ln, ws.x, b.LN1G, b.LN1B, T, C, c.LayerNormEpsilon)
		ws.linear(ws.qkv, ws.ln, b.attnW(), b.AttnB, T, C, 3*C)
		appendKV(kc, l, ws.qkv, past, T, H, D)
		splitQ(ws.tmp, ws.qkv, T, C)
		ws.attend(ws.atty, ws.att, ws.tmp, kc.K[l], kc.V[l], T, past, H, D, kc.Capacity)
		ws.linear(ws.tmp, ws.atty, b.attnProjW(), b.AttnProjB, T, C, C)
		residual(ws.x, ws.tmp)
		// MLP sub-block.
		layernorm(ws.ln, ws.x, b.LN2G, b.LN2B, T, C, c.LayerNormEpsilon)
		ws.linear(ws.fc, ws.ln, b.fcW(), b.FCB, T, C, c.NInner)
		if c.Activation == "gelu" {
			geluExact(ws.fc)
		} else {
			geluNew(ws.fc)
		}
		ws.linear(ws.tmp, ws.fc, b.mlpProjW(), b.MLPProjB, T, c.NInner, C)
		residual(ws.x, ws.tmp)
		if rec != nil {
			rec.Layer(info, l, LayerRecord{Attention: ws.att, Residual: ws.x, kc: kc, layer: l, from: past, n: T})
		}
	}
	kc.Len = nkeys

	rows, in := T, ws.x
	if !allLogits {
		rows, in = 1, ws.x[(T-1)*C:]
	}
	layernorm(ws.ln, in, w.LNFG, w.LNFB, rows, C, c.LayerNormEpsilon)
	var lensLn, lensOut []float32
	if lr, ok := rec.(lensRecorder); ok && (rows == 1 || headRowsAgree()) {
		lensLn, lensOut = lr.lensHead(info, rows)
	}
	switch n := len(lensLn) / C; {
	case n > 0 && rows == 1: // a recorded decode step
		ws.headWithRows(ws.logits, ws.ln[:C], lensOut, lensLn, w.head(), n, C, c.VocabSize)
	case n > 0: // a recorded prefill: its logits and its lens rows
		ws.headAllWithRows(ws.logits, ws.ln[:rows*C], lensOut, lensLn, w.head(), rows, n, C, c.VocabSize)
	default:
		ws.allRowsHead(ws.logits, ws.ln[:rows*C], w.head(), rows, C, c.VocabSize)
	}
	if rec != nil {
		rec.EndForward(info, ws.ln[:rows*C], ws.logits)
	}
	return ws.logits, nil
}

// appendKV copies the key and value columns of qkv [T, 3C] (q, k, v slices of
// n_embd each, head h in columns h·d_head…) into layer l of the cache at
// positions past..past+T−1.
func appendKV(kc *KVCache, l int, qkv []float32, past, T, H, D int) {
	if serial(T, T*H*D*2*elementwiseCost) {
		appendKVRows(kc, l, qkv, past, 0, T, H, D)
		return
	}
	parallelFor(T, T*H*D*2*elementwiseCost, func(lo, hi int) {
		appendKVRows(kc, l, qkv, past, lo, hi, H, D)
	})
}

// appendKVRows is appendKV for the new rows [lo, hi).
func appendKVRows(kc *KVCache, l int, qkv []float32, past, lo, hi, H, D int) {
	C := H * D
	for t := lo; t < hi; t++ {
		row := qkv[t*3*C : (t+1)*3*C]
		for h := 0; h < H; h++ {
			dst := (h*kc.Capacity + past + t) * D
			copy(kc.K[l][dst:dst+D], row[C+h*D:C+(h+1)*D])
			copy(kc.V[l][dst:dst+D], row[2*C+h*D:2*C+(h+1)*D])
		}
	}
}

// splitQ copies the query columns of qkv [T, 3C] into q [T, C].
func splitQ(q, qkv []float32, T, C int) {
	for t := 0; t < T; t++ {
		copy(q[t*C:(t+1)*C], qkv[t*3*C:t*3*C+C])
	}
}
