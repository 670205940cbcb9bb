package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
	"github.com/gptviz/gptviz/model/trace"
)

// reference is one checkpoint of ../shared/reference with the tensors a
// correct GPT-2 forward pass produces on its input_ids.
type reference struct {
	model   *Model
	ids     []int
	tensors map[string][]float32
	json    struct {
		GreedyContinuation []int `json:"greedy_continuation"`
		LastPositionTop5   struct {
			IDs   []int     `json:"ids"`
			Probs []float64 `json:"probs"`
		} `json:"last_position_top5"`
	}
}

var referenceNames = []string{"gpt2-tiny-random", "tiny-prefix-f16"}

// The default model (gptviz's own small GPT-2, vocabulary 384, n_positions
// 128), loaded once from the checkpoint folder that package defaultmodel
// embeds; that package imports this one, so the tests read the folder.
// Tests that need a real model but no reference values use it, so that
// they run on a plain clone without ../shared. The Model is read-only and
// shared by parallel tests.
var (
	defaultOnce sync.Once
	defaultM    *Model
	defaultErr  error
)

func defaultModel(t testing.TB) *Model {
	t.Helper()
	dir := testref.DefaultModelDir(t)
	defaultOnce.Do(func() { defaultM, defaultErr = LoadFS(os.DirFS(dir), "gptviz-default") })
	if defaultErr != nil {
		t.Fatalf("default model: %v", defaultErr)
	}
	return defaultM
}

func loadReference(t testing.TB, name string) *reference {
	t.Helper()
	dir := testref.Path(t, name)
	m, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := &reference{model: m, tensors: map[string][]float32{}}
	for _, info := range f.Tensors() {
		if info.Name == "input_ids" {
			ids, err := f.Int64(info.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				ref.ids = append(ref.ids, int(id))
			}
			continue
		}
		x, err := f.Float32(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		ref.tensors[info.Name] = append([]float32(nil), x...)
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref.json); err != nil {
		t.Fatal(err)
	}
	return ref
}

// capture is a Recorder that assembles, across passes, the tensors the
// reference holds: hidden.l and ln_f [T][n_embd], attn.l [n_head][T][T],
// k.l and v.l [n_head][T][d_head], logits [T][vocab].
type capture struct {
	c       arch.Config
	T       int
	tensors map[string][]float32
}

func newCapture(c arch.Config, T int) *capture {
	return &capture{c: c, T: T, tensors: map[string][]float32{}}
}

func (r *capture) buf(name string, n int) []float32 {
	if r.tensors[name] == nil {
		r.tensors[name] = make([]float32, n)
	}
	return r.tensors[name]
}

func (r *capture) rows(name string, x []float32, width int, info ForwardInfo) {
	dst := r.buf(name, r.T*width)
	copy(dst[info.QueryStart*width:], x[:info.NQuery*width])
}

func (r *capture) BeginForward(info ForwardInfo, emb []float32) {
	r.rows("hidden.0", emb, r.c.NEmbd, info)
}

func (r *capture) Layer(info ForwardInfo, l int, rec LayerRecord) {
	r.rows(fmt.Sprintf("hidden.%d", l+1), rec.Residual, r.c.NEmbd, info)
	H, T, D := r.c.NHead, r.T, r.c.DHead()
	att := r.buf(fmt.Sprintf("attn.%d", l), H*T*T)
	k := r.buf(fmt.Sprintf("k.%d", l), H*T*D)
	v := r.buf(fmt.Sprintf("v.%d", l), H*T*D)
	for h := 0; h < H; h++ {
		for q := 0; q < info.NQuery; q++ {
			src := rec.Attention[(h*info.NQuery+q)*info.NKeys : (h*info.NQuery+q+1)*info.NKeys]
			copy(att[(h*T+info.QueryStart+q)*T:], src)
		}
		nk, nv := rec.NewKV(h)
		copy(k[(h*T+info.QueryStart)*D:], nk)
		copy(v[(h*T+info.QueryStart)*D:], nv)
	}
}

func (r *capture) EndForward(info ForwardInfo, lnf, logits []float32) {
	r.rows("ln_f", lnf, r.c.NEmbd, info)
	r.rows("logits", logits, r.c.VocabSize, info)
}

func (r *capture) Sampled(int, *SampleResult) {}

// closeEnough applies the reference README's tolerances: attention within
// 1e-5 absolute; everything else within 1e-4 absolute or 1e-5 relative to
// the tensor's largest magnitude.
func closeEnough(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	var maxAbs, maxDiff float64
	at := 0
	for i := range want {
		maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
		if d := math.Abs(float64(got[i] - want[i])); d > maxDiff || math.IsNaN(d) {
			maxDiff, at = d, i
		}
	}
	tol := math.Max(1e-4, 1e-5*maxAbs)
	if len(name) > 4 && name[:5] == "attn." {
		tol = 1e-5
	}
	if !(maxDiff <= tol) {
		t.Errorf("%s: max |Δ| = %.3g at index %d (got %v, want %v), tolerance %.1g", name, maxDiff, at, got[at], want[at], tol)
	}
}

// TestReferenceForward checks every tensor of the shared references, both
// for the prefill (all tokens in one pass) and for one-token decode steps
// that read the KV cache.
func TestReferenceForward(t *testing.T) {
	t.Parallel()
	for _, name := range referenceNames {
		ref := loadReference(t, name)
		m := ref.model
		for _, mode := range []string{"prefill", "decode"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				rec := newCapture(m.Config, len(ref.ids))
				ws, kc := &workspace{}, NewKVCache(m.Config)
				if mode == "prefill" {
					if _, err := m.forward(ws, kc, ref.ids, ForwardInfo{Kind: trace.Prefill}, true, rec); err != nil {
						t.Fatal(err)
					}
				} else {
					for p, id := range ref.ids {
						info := ForwardInfo{Kind: trace.Decode, QueryStart: p, NewFrom: p}
						if _, err := m.forward(ws, kc, []int{id}, info, true, rec); err != nil {
							t.Fatal(err)
						}
					}
				}
				if len(rec.tensors) != len(ref.tensors) {
					t.Errorf("recorded %d tensors, the reference has %d", len(rec.tensors), len(ref.tensors))
				}
				for tname, want := range ref.tensors {
					closeEnough(t, tname, rec.tensors[tname], want)
				}
			})
		}
	}
}

// TestGreedyContinuation runs the Runner greedily and compares with the
// reference's argmax decoding and its top-5 at the last prompt position.
func TestGreedyContinuation(t *testing.T) {
	t.Parallel()
	for _, name := range referenceNames {
		t.Run(name, func(t *testing.T) {
			ref := loadReference(t, name)
			s, err := NewSampler(SamplingParams{Temperature: 0, TopP: 1}, 1)
			if err != nil {
				t.Fatal(err)
			}
			r := NewRunner(ref.model, s, nil)
			if err := r.Prefill(ref.ids); err != nil {
				t.Fatal(err)
			}
			probs := make([]float64, ref.model.Config.VocabSize)
			softmaxInto(probs, r.LastLogits(), 1)
			top := ref.json.LastPositionTop5
			for i, id := range top.IDs {
				if d := math.Abs(probs[id] - top.Probs[i]); d > 1e-6 {
					t.Errorf("P(top %d = id %d) = %.7f, want %.7f", i, id, probs[id], top.Probs[i])
				}
			}
			var got []int
			for range ref.json.GreedyContinuation {
				res, err := r.Step()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res.Chosen)
			}
			if fmt.Sprint(got) != fmt.Sprint(ref.json.GreedyContinuation) {
				t.Errorf("greedy continuation\n got %v\nwant %v", got, ref.json.GreedyContinuation)
			}
		})
	}
}

// TestCacheEqualsRecompute compares, at every decode step, the cached
// logits with a full recompute of the same window, including steps after
// the context window is full and tokens are evicted.
func TestCacheEqualsRecompute(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	s, err := NewSampler(SamplingParams{Temperature: 1, TopK: 50, TopP: 0.95}, 7)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(m, s, nil)
	// A prompt 8 tokens short of the window: 8 steps fill it, the next 16
	// each evict a token.
	prompt := m.Tokenizer.Encode(strings.Repeat("The Rays of Light are refracted by the Prism. ", 20))
	prompt = prompt[:m.Config.NPositions-8]
	if err := r.Prefill(prompt); err != nil {
		t.Fatal(err)
	}
	steps := 24
	for step := 1; step <= steps; step++ {
		if _, err := r.Step(); err != nil {
			t.Fatal(err)
		}
		d, err := r.RecomputeDiff()
		if err != nil {
			t.Fatal(err)
		}
		if d > 1e-4 {
			t.Fatalf("step %d: max |Δlogit| cached vs recompute = %g", step, d)
		}
		if n := len(r.Tokens()) - r.WindowStart(); n > m.Config.NPositions {
			t.Fatalf("step %d: window holds %d tokens, more than n_positions %d", step, n, m.Config.NPositions)
		}
	}
	wantEvicted := len(prompt) + steps - m.Config.NPositions
	if got := len(r.Evictions()); got != wantEvicted {
		t.Errorf("%d evictions, want %d", got, wantEvicted)
	}
	for i, e := range r.Evictions() {
		if e.Position != i || e.ID != r.Tokens()[i] {
			t.Errorf("eviction %d = %+v, want position %d id %d", i, e, i, r.Tokens()[i])
		}
	}
}

// TestLongPrompt feeds a prompt longer than the context window.
func TestLongPrompt(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	var ids []int
	for i := 0; i < 3*m.Config.NPositions; i++ {
		ids = append(ids, i%m.Config.VocabSize)
	}
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	r := NewRunner(m, s, nil)
	if err := r.Prefill(ids); err != nil {
		t.Fatal(err)
	}
	if got, want := len(r.Evictions()), len(ids)-m.Config.NPositions; got != want {
		t.Errorf("%d evictions, want %d", got, want)
	}
	want, err := m.Logits(ids[len(ids)-m.Config.NPositions:])
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	for i, v := range r.LastLogits() {
		if d := math.Abs(float64(v - want[len(want)-V+i])); d > 1e-4 {
			t.Fatalf("logit %d differs by %g", i, d)
		}
	}
	if _, err := m.Score(ids); err != nil {
		t.Fatal(err)
	}
}

func TestForwardErrors(t *testing.T) {
	t.Parallel()
	m := defaultModel(t)
	s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
	for _, tc := range []struct {
		name string
		ids  []int
	}{
		{"empty", nil},
		{"negative id", []int{1, -1}},
		{"id past vocabulary", []int{m.Config.VocabSize}},
	} {
		r := NewRunner(m, s, nil)
		if err := r.Prefill(tc.ids); err == nil {
			t.Errorf("%s: Prefill(%v) succeeded", tc.name, tc.ids)
		}
	}
	r := NewRunner(m, s, nil)
	if _, err := r.Step(); err == nil {
		t.Error("Step before Prefill succeeded")
	}
}

// TestRecordedSamplesSameLogits checks that recording does not change what
// is sampled: a recorded prefill, which computes every row's logits for
// the prompt scores, gives the last row bit for bit the logits of an
// unrecorded one, which computes that row alone (the multi-row head sums
// in another order); so do the recorded decode steps, whose head pass also
// reads out the logit lens (headLensTask).
func TestRecordedSamplesSameLogits(t *testing.T) {
	t.Parallel()
	small := arch.Config{VocabSize: 1000, NPositions: 64, NEmbd: 96, NLayer: 2, NHead: 2, NInner: 384,
		LayerNormEpsilon: 1e-5, Activation: "gelu_new", ModelType: "gpt2"}
	for _, tc := range []struct {
		name string
		m    *Model
	}{{"default (F16)", defaultModel(t)}, {"random F32", randomModel(small, 3)}} {
		for n := 40; n <= 42; n++ { // the multi-row head takes rows in threes
			sameLogits(t, fmt.Sprintf("%s, %d tokens", tc.name, n), tc.m, benchIDs(n, tc.m.Config.VocabSize))
		}
	}
}

// sameLogits runs ids through m unrecorded and recorded, then 5 greedy
// steps, and requires the same logits after each pass, bit for bit, and
// the same tokens.
func sameLogits(t *testing.T, name string, m *Model, ids []int) {
	t.Helper()
	const steps = 5
	var logits [2][][]float32
	var toks [2][]int
	for k := range 2 {
		s, err := NewSampler(SamplingParams{TopP: 1}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var rec Recorder
		if k == 1 {
			tr := &trace.Trace{PromptLen: len(ids)}
			for _, id := range ids {
				tr.Tokens = append(tr.Tokens, trace.Token{ID: id})
			}
			rec = newTraceRecorder(m, tr, TraceOptions{}.withDefaults())
		}
		r := NewRunner(m, s, rec)
		if err := r.Prefill(ids); err != nil {
			t.Fatal(err)
		}
		logits[k] = append(logits[k], slices.Clone(r.LastLogits()))
		for range steps {
			if _, err := r.Step(); err != nil {
				t.Fatal(err)
			}
			logits[k] = append(logits[k], slices.Clone(r.LastLogits()))
		}
		toks[k] = slices.Clone(r.Tokens())
	}
	for p := range logits[0] {
		for i := range logits[0][p] {
			if math.Float32bits(logits[0][p][i]) != math.Float32bits(logits[1][p][i]) {
				t.Errorf("%s, pass %d: logit %d: unrecorded %v, recorded %v", name, p, i, logits[0][p][i], logits[1][p][i])
				break
			}
		}
	}
	if !slices.Equal(toks[0], toks[1]) {
		t.Errorf("%s: tokens unrecorded %v, recorded %v", name, toks[0], toks[1])
	}
}
