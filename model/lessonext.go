package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/ngram"
	"github.com/gptviz/gptviz/model/trace"
)

// Measurements that lessons ask for beside a run (issue 10): n-gram
// baselines on the prompt, direct logit attribution and one head drilled
// down, and decoding timed with and without the KV cache. Each fills one
// optional field of a Trace (model/trace/lessonext.go).

// BaselineCorpusSeed is the split seed of the mixed corpus the default
// model was trained on (corpus.Mix(1)); the baselines train on the same
// split.
const BaselineCorpusSeed = 1

// ngramSet is a tokenizer's baselines, trained once per process.
type ngramSet struct {
	models           []*ngram.KneserNey
	valBits          []float64
	trainLen, valLen int
	// trainText and valText are the splits with every run of white space
	// made one space, for where.
	trainText, valText string
}

// where says which split holds text verbatim (white space aside): one of
// trace.PromptInTrain, PromptInValidation, PromptInNeither.
func (s *ngramSet) where(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case t != "" && strings.Contains(s.trainText, t):
		return trace.PromptInTrain
	case t != "" && strings.Contains(s.valText, t):
		return trace.PromptInValidation
	}
	return trace.PromptInNeither
}

var (
	ngramMu    sync.Mutex
	ngramCache = map[*bpe.Tokenizer]*ngramSet{}
)

// ngramsFor trains (or returns the trained) Kneser–Ney bigram and trigram
// models on the mixed corpus's training paragraphs, each once
// (corpus.MixBaselineTrain), in tok's tokens, and scores them on its
// validation text.
func ngramsFor(tok *bpe.Tokenizer, vocab int) (*ngramSet, error) {
	ngramMu.Lock()
	defer ngramMu.Unlock()
	if s := ngramCache[tok]; s != nil {
		return s, nil
	}
	_, valText, err := corpus.Mix(BaselineCorpusSeed)
	if err != nil {
		return nil, err
	}
	trainText, err := corpus.MixBaselineTrain(BaselineCorpusSeed)
	if err != nil {
		return nil, err
	}
	train, val := tok.Encode(trainText), tok.Encode(valText)
	s := &ngramSet{trainLen: len(train), valLen: len(val),
		trainText: strings.Join(strings.Fields(trainText), " "), valText: strings.Join(strings.Fields(valText), " ")}
	for order := 2; order <= 3; order++ {
		m, err := ngram.NewKneserNey(order, vocab, train)
		if err != nil {
			return nil, err
		}
		s.models = append(s.models, m)
		s.valBits = append(s.valBits, ngram.CrossEntropy(m, val)/math.Ln2)
	}
	ngramCache[tok] = s
	return s, nil
}

// Baselines scores tr's prompt with Kneser–Ney bigram and trigram models
// trained on the mixed corpus's training split (each paragraph once,
// corpus.MixBaselineTrain: 1.2M tokens in the default model's tokenizer)
// in m's tokenizer, and records them in tr.Baselines; ownCorpus says whether m was trained on that text (the
// default model). Training takes a few seconds, once per tokenizer and
// process. It errors when m has no tokenizer.
func Baselines(m *Model, tr *trace.Trace, ownCorpus bool) error {
	if m.Tokenizer == nil {
		return errors.New("baselines: the model has no tokenizer")
	}
	s, err := ngramsFor(m.Tokenizer, m.Config.VocabSize)
	if err != nil {
		return fmt.Errorf("baselines: %w", err)
	}
	ids := make([]int, tr.PromptLen)
	for i := range ids {
		ids[i] = tr.Tokens[i].ID
	}
	b := &trace.Baselines{Corpus: corpus.MixName, OwnCorpus: ownCorpus, TrainTokens: s.trainLen, ValTokens: s.valLen, PromptIn: s.where(tr.Prompt)}
	for k, nm := range s.models {
		sc := trace.NgramScores{Name: nm.Name(), Order: nm.Order(), Surprisal: make([]float64, len(ids)), ValBits: s.valBits[k]}
		for i := 1; i < len(ids); i++ {
			lo := max(0, i-(nm.Order()-1))
			sc.Surprisal[i] = -math.Log2(nm.Prob(ids[lo:i], ids[i]))
		}
		b.Models = append(b.Models, sc)
	}
	tr.Baselines = b
	return nil
}

// DrillAt chooses the head and query that Inspect drills down: layer,
// head, and an absolute query position inside the prompt's window.
type DrillAt struct{ Layer, Head, Query int }

// Inspect runs the model once more over the prompt's context window
// (the tokens of tr's prefill) without a cache and records, for the last
// prompt position, the direct logit attribution of its most likely next
// token (tr.Attribution), and, when drill is not nil, the computation of
// one head for one query (tr.Drill). It errors when drill is outside the
// model or the window.
func Inspect(m *Model, tr *trace.Trace, drill *DrillAt) error {
	c := m.Config
	ws0 := tr.Steps[0].WindowStart
	ids := make([]int, 0, tr.PromptLen-ws0)
	for _, t := range tr.Tokens[ws0:tr.PromptLen] {
		ids = append(ids, t.ID)
	}
	if drill != nil && (drill.Layer < 0 || drill.Layer >= c.NLayer || drill.Head < 0 || drill.Head >= c.NHead || drill.Query < ws0 || drill.Query >= tr.PromptLen) {
		return fmt.Errorf("inspect: drill layer %d head %d query %d: outside the model's %d layers × %d heads or the prompt's window %d..%d",
			drill.Layer, drill.Head, drill.Query, c.NLayer, c.NHead, ws0, tr.PromptLen-1)
	}
	T, C, H, D := len(ids), c.NEmbd, c.NHead, c.DHead()
	if T == 0 || T > c.NPositions {
		return fmt.Errorf("inspect: %d tokens in the window", T)
	}
	var ws workspace
	ws.grow(c, T, T, false)
	kc := NewKVCache(c)
	kc.reserve(T)
	w := &m.Weights
	last := (T - 1) * C

	// Components of the last row's residual stream.
	embed := make([]float32, C)
	heads := make([][][]float32, c.NLayer)
	attnBias := make([][]float32, c.NLayer)
	mlp := make([][]float32, c.NLayer)
	one := make([]float32, C)

	encoder(ws.x, ids, 0, w.wte(), w.WPE, C)
	copy(embed, ws.x[last:])
	for l := range w.Blocks {
		b := &w.Blocks[l]
		layernorm(ws.ln, ws.x, b.LN1G, b.LN1B, T, C, c.LayerNormEpsilon)
		matmul(ws.qkv, ws.ln, ws.float32(b.attnW(), C*3*C), b.AttnB, T, C, 3*C)
		appendKV(kc, l, ws.qkv, 0, T, H, D)
		splitQ(ws.tmp, ws.qkv, T, C)
		attention(ws.atty, ws.att, ws.tmp, kc.K[l], kc.V[l], T, 0, H, D, kc.Capacity)
		if drill != nil && l == drill.Layer {
			tr.Drill = drillOf(kc, &ws, l, drill.Head, drill.Query-ws0, T, C, D, ws0)
		}
		proj := ws.float32(b.attnProjW(), C*C)
		heads[l] = make([][]float32, H)
		for h := range H {
			clear(one)
			copy(one[h*D:(h+1)*D], ws.atty[last+h*D:last+(h+1)*D])
			heads[l][h] = make([]float32, C)
			matmul(heads[l][h], one, proj, nil, 1, C, C)
		}
		attnBias[l] = b.AttnProjB
		matmul(ws.tmp, ws.atty, proj, b.AttnProjB, T, C, C)
		residual(ws.x, ws.tmp)
		layernorm(ws.ln, ws.x, b.LN2G, b.LN2B, T, C, c.LayerNormEpsilon)
		matmul(ws.fc, ws.ln, ws.float32(b.fcW(), C*c.NInner), b.FCB, T, C, c.NInner)
		if c.Activation == "gelu" {
			geluExact(ws.fc)
		} else {
			geluNew(ws.fc)
		}
		matmul(ws.tmp, ws.fc, ws.float32(b.mlpProjW(), c.NInner*C), b.MLPProjB, T, c.NInner, C)
		mlp[l] = append([]float32(nil), ws.tmp[last:last+C]...)
		residual(ws.x, ws.tmp)
	}
	x := ws.x[last : last+C]
	layernorm(ws.ln, x, w.LNFG, w.LNFB, 1, C, c.LayerNormEpsilon)
	logits := make([]float32, c.VocabSize)
	if head := w.head(); head.half() {
		ws.logitsHead(logits, ws.ln[:C], head, 1, C, c.VocabSize)
	} else {
		matmulTransB(logits, ws.ln[:C], head.f, 1, C, c.VocabSize)
	}
	tok := 0
	for i, v := range logits {
		if v > logits[tok] {
			tok = i
		}
	}
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(C)
	var ss float64
	for _, v := range x {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	sigma := math.Sqrt(ss/float64(C) + c.LayerNormEpsilon)
	u := w.head().row(tok, C, make([]float32, C))
	// part is W_U[tok] · (g ⊙ (v − mean(v)) / σ).
	part := func(v []float32) float64 {
		var m, s float64
		for _, x := range v {
			m += float64(x)
		}
		m /= float64(C)
		for i, x := range v {
			s += float64(u[i]) * float64(w.LNFG[i]) * (float64(x) - m)
		}
		return s / sigma
	}
	a := &trace.Attribution{Position: tr.PromptLen - 1, Token: tok, Logit: logits[tok], Sigma: float32(sigma),
		Embed: part(embed), Heads: make([][]float64, c.NLayer), AttnBias: make([]float64, c.NLayer), MLP: make([]float64, c.NLayer)}
	if m.Tokenizer != nil {
		a.Display = m.Tokenizer.Display(tok)
	}
	for i := range u {
		a.LNBias += float64(u[i]) * float64(w.LNFB[i])
	}
	for l := range heads {
		a.Heads[l] = make([]float64, H)
		for h := range heads[l] {
			a.Heads[l][h] = part(heads[l][h])
		}
		a.AttnBias[l] = part(attnBias[l])
		a.MLP[l] = part(mlp[l])
	}
	tr.Attribution = a
	return nil
}

// drillOf copies head h of layer l's computation for query row q (of T)
// out of the workspace and cache right after attention.
func drillOf(kc *KVCache, ws *workspace, l, h, q, T, C, D, ws0 int) *trace.Drill {
	n := q + 1
	d := &trace.Drill{Layer: l, Head: h, Query: ws0 + q, WindowStart: ws0, Masked: T - n,
		Q:     append([]float32(nil), ws.tmp[q*C+h*D:q*C+(h+1)*D]...),
		Scale: float32(1 / math.Sqrt(float64(D))),
		Probs: append([]float32(nil), ws.att[(h*T+q)*T:(h*T+q)*T+n]...), Output: append([]float32(nil), ws.atty[q*C+h*D:q*C+(h+1)*D]...)}
	k, v := kc.Head(l, h)
	for j := 0; j < n; j++ {
		kj, vj := append([]float32(nil), k[j*D:(j+1)*D]...), append([]float32(nil), v[j*D:(j+1)*D]...)
		d.Keys, d.Values = append(d.Keys, kj), append(d.Values, vj)
		d.Dots = append(d.Dots, dot(d.Q, kj))
	}
	return d
}

// MeasureCache decodes steps greedy tokens after tr's prompt window twice,
// token for token: with the KV cache (one new row per step) and without it
// (the whole window recomputed every step), timing each step and counting
// its FLOPs (arch.Config.ForwardFLOPs), and records both in tr.CacheCost
// with the largest logit difference between them. Decoding stops when the
// window is full. It errors when ctx is cancelled.
func MeasureCache(ctx context.Context, m *Model, tr *trace.Trace, steps int) error {
	c := m.Config
	ws0 := tr.Steps[0].WindowStart
	ids := make([]int, 0, tr.PromptLen-ws0+steps)
	for _, t := range tr.Tokens[ws0:tr.PromptLen] {
		ids = append(ids, t.ID)
	}
	var cws, uws workspace
	kc, ukc := NewKVCache(c), NewKVCache(c)
	logits, err := m.forward(&cws, kc, ids, ForwardInfo{Kind: trace.Prefill}, false, nil)
	if err != nil {
		return fmt.Errorf("measure cache: %w", err)
	}
	cc := &trace.CacheCost{SameTokens: true}
	for range steps {
		if len(ids) >= c.NPositions {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		next := argmax(logits)
		ids = append(ids, next)
		n := len(ids)
		t0 := time.Now()
		cl, err := m.forward(&cws, kc, ids[n-1:], ForwardInfo{Kind: trace.Decode}, false, nil)
		if err != nil {
			return fmt.Errorf("measure cache: %w", err)
		}
		t1 := time.Now()
		ukc.Reset()
		ul, err := m.forward(&uws, ukc, ids, ForwardInfo{Kind: trace.Recompute}, false, nil)
		if err != nil {
			return fmt.Errorf("measure cache: %w", err)
		}
		t2 := time.Now()
		for i := range cl {
			cc.MaxLogitDiff = math.Max(cc.MaxLogitDiff, math.Abs(float64(cl[i]-ul[i])))
		}
		if argmax(cl) != argmax(ul) {
			cc.SameTokens = false
		}
		cc.Steps = append(cc.Steps, trace.CostStep{Context: n,
			CachedFLOPs: c.ForwardFLOPs(1, n-1), UncachedFLOPs: c.ForwardFLOPs(n, 0),
			CachedMillis: ms(t1.Sub(t0)), UncachedMillis: ms(t2.Sub(t1))})
		logits = cl
	}
	tr.CacheCost = cc
	return nil
}

// argmax returns the index of the largest value, the first on ties.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
