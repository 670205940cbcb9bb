package model

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gptviz/gptviz/internal/gemv"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// smallConfig is big enough for the one-row path to split its products
// across the pool's workers (work ≥ parallelMin), small enough to be quick.
var smallConfig = arch.Config{
	ModelType: "gpt2", VocabSize: 3000, NPositions: 64, NEmbd: 128, NLayer: 2,
	NHead: 4, NInner: 512, LayerNormEpsilon: 1e-5, Activation: "gelu_new",
	BOSTokenID: 0, EOSTokenID: 0,
}

// TestDecodeStepAllocatesNothing: a steady-state decode step without a
// recorder (sampling, the forward pass, the cache append) allocates
// nothing, greedy or not, once the cache holds room for the run.
func TestDecodeStepAllocatesNothing(t *testing.T) {
	exact := smallConfig
	exact.Activation = "gelu" // the erf form takes its own path
	for i, p := range []SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 0.8, TopK: 40, TopP: 0.95}, {Temperature: 1, TopP: 1}, {Temperature: 0, TopP: 1}} {
		m := randomModel(smallConfig, 3)
		if i == 3 {
			m = randomModel(exact, 3)
		}
		s, _ := NewSampler(p, 1)
		r := NewRunner(m, s, nil)
		r.Reserve(64)
		if err := r.Prefill(benchIDs(16, m.Config.VocabSize)); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			r.cache.Len = 16
			r.tokens = r.tokens[:16]
			if _, err := r.Step(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s, %s: %v allocations per decode step, want 0", m.Config.Activation, FormatSampling(p), allocs)
		}
	}
}

// TestRecordedDecodeStepAllocatesNothing: with the full Trace recorder
// attached (attention, K/V rows and norms, residual norms, logit lens,
// candidates, top logits), a decode step allocates nothing in steady
// state: what the Trace keeps is carved from chunks (recslab.go), whose
// occasional allocation, amortised over the steps, rounds to 0. A token
// id's Text and Display strings are made the first time the run meets
// it; the test meets them all first.
func TestRecordedDecodeStepAllocatesNothing(t *testing.T) {
	m := randomModel(smallConfig, 3)
	for _, p := range []SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 0.8, TopK: 40, TopP: 0.95}, {Temperature: 1, TopP: 1}} {
		s, _ := NewSampler(p, 1)
		tr := &trace.Trace{}
		rec := newTraceRecorder(m, tr, TraceOptions{}.withDefaults())
		r := NewRunner(m, s, rec)
		r.Reserve(64)
		if err := r.Prefill(benchIDs(16, m.Config.VocabSize)); err != nil {
			t.Fatal(err)
		}
		tr.Steps = make([]trace.Step, 0, 256)
		for id := range m.Config.VocabSize {
			rec.text(id)
			rec.display(id)
		}
		allocs := testing.AllocsPerRun(100, func() {
			r.cache.Len = 16
			r.tokens = r.tokens[:16]
			if _, err := r.Step(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per recorded decode step, want 0", FormatSampling(p), allocs)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range 100 {
			r.cache.Len = 16
			r.tokens = r.tokens[:16]
			if _, err := r.Step(); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&m1)
		t.Logf("%s: %d allocations in 100 recorded steps (slab chunks)", FormatSampling(p), m1.Mallocs-m0.Mallocs)
		if len(tr.Steps) < 100 || tr.Steps[len(tr.Steps)-1].Next == nil || len(tr.Steps[len(tr.Steps)-1].Attention) != m.Config.NLayer {
			t.Fatalf("%s: the trace holds %d steps, the last %+v", FormatSampling(p), len(tr.Steps), tr.Steps[len(tr.Steps)-1])
		}
	}
}

// TestOneRowPathMatchesBatched: a decode step (the one-row path: gemv
// kernels on the pool) gives the logits of a batched pass over the same
// tokens within float32 rounding, with the assembly kernels and forced
// onto the portable Go loops.
func TestOneRowPathMatchesBatched(t *testing.T) {
	m := randomModel(smallConfig, 5)
	ids := benchIDs(20, m.Config.VocabSize)
	V := m.Config.VocabSize
	want, err := m.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, portable := range []bool{false, true} {
		old := gemv.SetPortable(portable)
		s, _ := NewSampler(SamplingParams{TopP: 1}, 1)
		r := NewRunner(m, s, nil)
		if err := r.Prefill(ids[:4]); err != nil {
			t.Fatal(err)
		}
		for p := 4; p < len(ids); p++ {
			if err := r.Append(ids[p]); err != nil {
				t.Fatal(err)
			}
			closeEnough(t, "logits", r.LastLogits(), want[p*V:(p+1)*V])
		}
		gemv.SetPortable(old)
	}
}

// TestBenchRandomModel runs Bench on random weights with the synthetic
// tokenizer: every figure is positive and the vocabulary is complete.
func TestBenchRandomModel(t *testing.T) {
	m := randomModel(smallConfig, 7)
	if got := m.Tokenizer.VocabSize(); got != smallConfig.VocabSize {
		t.Fatalf("synthetic tokenizer has %d tokens, want %d", got, smallConfig.VocabSize)
	}
	if eot, ok := m.Tokenizer.EndOfText(); !ok || eot != smallConfig.VocabSize-1 {
		t.Errorf("<|endoftext|> = %d, %v", eot, ok)
	}
	res, err := Bench(context.Background(), m, BenchOptions{Prompt: 8, Steps: 2, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Figures) != 6 {
		t.Fatalf("%d figures, want 6", len(res.Figures))
	}
	for _, f := range res.Figures {
		if !(f.TokensPer > 0) {
			t.Errorf("%s: %v tokens/s", f.Name, f.TokensPer)
		}
	}
	if _, err := Bench(context.Background(), m, BenchOptions{Prompt: 60, Steps: 10}); err == nil {
		t.Error("a run past the context window was accepted")
	}
}

// TestOneRowLinearSplits: the one-row product w's rows split into parts
// (kParts) that workers stream whole. Every column's sum is the same bit
// for bit however the tiles are shared out — on the pool (ws.linear) or in
// one serial pass with 1, 2, 3 or 5 column chunks per part — and agrees
// with a float64 sum within float32 rounding, for shapes with one part,
// two (GPT-2's 768 rows), four (gpt2-xl's 1,600) and six (3,072), and odd
// sizes that leave scalar tails.
func TestOneRowLinearSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randn := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, sh := range []struct{ C, OC, parts int }{
		{128, 384, 1}, {512, 128, 1}, {768, 2304, 2}, {1600, 400, 4}, {3072, 768, 6}, {777, 100, 2}, {1030, 33, 3},
	} {
		if got := kPartsOf(sh.C); got != sh.parts {
			t.Fatalf("kParts(%d) = %d parts, want %d", sh.C, got, sh.parts)
		}
		in, w, b := randn(sh.C), randn(sh.C*sh.OC), randn(sh.OC)
		var ws workspace
		pooled := make([]float32, sh.OC)
		ws.linear(pooled, in, matrix{f: w}, b, 1, sh.C, sh.OC)
		for _, cols := range []int{1, 2, 3, 5} {
			out := make([]float32, sh.OC)
			var part []float32
			mv := newMatvec(out, in, matrix{f: w}, b, &part, sh.C, sh.OC, cols)
			mv.runRange(0, mv.tiles())
			mv.sumParts()
			for j := range out {
				if math.Float32bits(out[j]) != math.Float32bits(pooled[j]) {
					t.Fatalf("C=%d OC=%d cols=%d: out[%d] = %v, on the pool %v", sh.C, sh.OC, cols, j, out[j], pooled[j])
				}
			}
		}
		for j := range pooled {
			want, mag := float64(b[j]), math.Abs(float64(b[j]))
			for k := range sh.C {
				p := float64(in[k]) * float64(w[k*sh.OC+j])
				want += p
				mag += math.Abs(p)
			}
			if d := math.Abs(float64(pooled[j]) - want); d > 4*float64(sh.C+4)*0x1p-24*mag {
				t.Fatalf("C=%d OC=%d: out[%d] = %v, float64 sum %v", sh.C, sh.OC, j, pooled[j], want)
			}
		}
	}
}

// TestHeadWithRowsMatchesOneRow: a recorded decode step's head pass
// (headWithRows: the step's row and the logit lens's rows in one read of
// the head) gives the step's row the one-row head's logits bit for bit,
// and each lens row headRows's, whether the step's row joins the lens rows
// (buffers with room for it, gemv.RowsAgree) or goes through the one-row
// kernel; for float32 and BF16 weights, shapes with and without tails.
func TestHeadWithRowsMatchesOneRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range []struct{ C, V, rows int }{{192, 8192, 3}, {64, 1001, 11}, {100, 517, 4}, {768, 2053, 11}} {
		wf := randFloats(rng, sh.V*sh.C)
		bits := make([]uint16, len(wf)) // BF16: the top half of each float32
		for i, v := range wf {
			bits[i] = uint16(math.Float32bits(v) >> 16)
		}
		for _, w := range []matrix{{f: wf}, {h: gemv.Half{Bits: bits, BF16: true}}} {
			in, x := randFloats(rng, sh.C), randFloats(rng, sh.rows*sh.C)
			var ws workspace
			want := make([]float32, sh.V)
			ws.logitsHead(want, in, w, 1, sh.C, sh.V)
			wantRows := make([]float32, sh.rows*sh.V)
			ws.headRows(wantRows, x, w, sh.rows, sh.C, sh.V)
			for _, room := range []int{0, 1} {
				xx := make([]float32, sh.rows*sh.C, (sh.rows+room)*sh.C)
				copy(xx, x)
				out, xout := make([]float32, sh.V), make([]float32, sh.rows*sh.V, (sh.rows+room)*sh.V)
				ws.headWithRows(out, in, xout, xx, w, sh.rows, sh.C, sh.V)
				for j := range out {
					if math.Float32bits(out[j]) != math.Float32bits(want[j]) {
						t.Fatalf("C=%d V=%d rows=%d half=%v room=%d: logit %d = %v, one-row head %v", sh.C, sh.V, sh.rows, w.half(), room, j, out[j], want[j])
					}
				}
				for j := range xout {
					if math.Float32bits(xout[j]) != math.Float32bits(wantRows[j]) {
						t.Fatalf("C=%d V=%d rows=%d half=%v room=%d: lens logit %d = %v, headRows %v", sh.C, sh.V, sh.rows, w.half(), room, j, xout[j], wantRows[j])
					}
				}
			}
		}
	}
}

// TestHeadAllWithRows: a recorded prefill's head pass (headAllWithRows: all
// of its rows and its lens rows in one read of the head) gives every row
// headRows's logits bit for bit, and, where headRowsAgree (forward uses it
// only there), allRowsHead's, the last row the one-row head's.
func TestHeadAllWithRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range []struct{ C, V, rows, n int }{{192, 8192, 42, 33}, {64, 1001, 2, 1}, {100, 517, 5, 11}} {
		w := matrix{f: randFloats(rng, sh.V*sh.C)}
		in, x := randFloats(rng, sh.rows*sh.C), randFloats(rng, sh.n*sh.C)
		var ws workspace
		want, wantX, wantAll := make([]float32, sh.rows*sh.V), make([]float32, sh.n*sh.V), make([]float32, sh.rows*sh.V)
		ws.headRows(want, in, w, sh.rows, sh.C, sh.V)
		ws.headRows(wantX, x, w, sh.n, sh.C, sh.V)
		ws.allRowsHead(wantAll, in, w, sh.rows, sh.C, sh.V)
		last := make([]float32, sh.V)
		ws.logitsHead(last, in[(sh.rows-1)*sh.C:], w, 1, sh.C, sh.V)
		out, xout := make([]float32, sh.rows*sh.V), make([]float32, sh.n*sh.V)
		ws.headAllWithRows(out, in, xout, x, w, sh.rows, sh.n, sh.C, sh.V)
		checks := []struct {
			what      string
			got, want []float32
		}{{"logits", out, want}, {"lens", xout, wantX}}
		if headRowsAgree() {
			checks = append(checks, []struct {
				what      string
				got, want []float32
			}{{"allRowsHead", out, wantAll}, {"last row", out[(sh.rows-1)*sh.V:], last}}...)
		}
		for _, c := range checks {
			for j := range c.want {
				if math.Float32bits(c.got[j]) != math.Float32bits(c.want[j]) {
					t.Fatalf("C=%d V=%d rows=%d n=%d: %s[%d] = %v, want %v", sh.C, sh.V, sh.rows, sh.n, c.what, j, c.got[j], c.want[j])
				}
			}
		}
	}
}
