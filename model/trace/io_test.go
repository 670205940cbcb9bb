package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

func recordedTrace(t testing.TB) []byte {
	t.Helper()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: "one two three", Continuation: " four", Steps: 3, Sampling: model.SamplingParams{TopP: 1}, Trace: model.TraceOptions{TopN: 2}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRead(t *testing.T) {
	t.Parallel()
	good := recordedTrace(t)
	if _, err := trace.Read(bytes.NewReader(good), "good.json"); err != nil {
		t.Fatalf("a recorded trace does not validate: %v", err)
	}
	edit := func(f func(tr map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	step := func(m map[string]any, k int) map[string]any { return m["steps"].([]any)[k].(map[string]any) }
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "EOF"},
		{"not json", "{x", "invalid character"},
		{"trailing data", string(good) + "{}", "after the trace"},
		{"unknown field", edit(func(m map[string]any) { m["surprise"] = 1 }), "unknown field"},
		{"version", edit(func(m map[string]any) { m["version"] = 99 }), "version 99"},
		{"bad config", edit(func(m map[string]any) { m["model"].(map[string]any)["config"].(map[string]any)["n_head"] = 5 }), "model.config"},
		{"token id", edit(func(m map[string]any) { m["tokens"].([]any)[1].(map[string]any)["id"] = 1e9 }), "tokens[1]"},
		{"prompt_len", edit(func(m map[string]any) { m["prompt_len"] = 0 }), "prompt_len"},
		{"missing steps", edit(func(m map[string]any) { m["steps"] = []any{} }), "steps"},
		{"too many tokens", edit(func(m map[string]any) { m["tokens"] = append(m["tokens"].([]any), m["tokens"].([]any)[0]) }), "tokens:"},
		{"attention layers", edit(func(m map[string]any) {
			a := step(m, 1)["attention"].([]any)
			step(m, 1)["attention"] = a[:1]
		}), "steps[1].attention"},
		{"attention row", edit(func(m map[string]any) {
			h := step(m, 0)["attention"].([]any)[0].(map[string]any)["probs"].([]any)[0].([]any)
			h[0] = []any{0.5}
		}), "steps[0].attention[0][0][0]"},
		{"probability", edit(func(m map[string]any) {
			h := step(m, 2)["attention"].([]any)[1].(map[string]any)["probs"].([]any)[3].([]any)
			row := h[0].([]any)
			row[0] = 7
		}), "not a probability"},
		{"query range", edit(func(m map[string]any) { step(m, 3)["query_start"] = 1000 }), "steps[3]"},
		{"kind", edit(func(m map[string]any) { step(m, 0)["kind"] = "decode" }), "steps[0].kind"},
		{"lens", edit(func(m map[string]any) { step(m, 0)["logit_lens"] = []any{} }), "logit_lens"},
		{"next on prefill", edit(func(m map[string]any) { step(m, 0)["next"] = step(m, 1)["next"] }), "prefill has no prediction"},
		{"cache head", edit(func(m map[string]any) {
			c := m["cache"].([]any)[0].(map[string]any)
			c["keys"] = c["keys"].([]any)[:1]
		}), "cache[0].keys"},
		{"kv_write norms", edit(func(m map[string]any) {
			w := step(m, 2)["kv_write"].(map[string]any)
			w["key_norm"] = w["key_norm"].([]any)[:1]
		}), "steps[2].kv_write.key_norm"},
		{"kv_write negative norm", edit(func(m map[string]any) {
			w := step(m, 0)["kv_write"].(map[string]any)
			w["value_norm"].([]any)[0].([]any)[0] = -1
		}), "steps[0].kv_write.value_norm[0]"},
		{"kv_write rows", edit(func(m map[string]any) {
			w := step(m, 0)["kv_write"].(map[string]any)
			w["keys"] = w["keys"].([]any)[1:]
		}), "steps[0].kv_write.keys"},
		{"kv_write row width", edit(func(m map[string]any) {
			w := step(m, 1)["kv_write"].(map[string]any)
			w["values"].([]any)[0] = []any{1.0}
		}), "steps[1].kv_write.values[0]"},
		{"kv_write decode rows", edit(func(m map[string]any) {
			w := step(m, 3)["kv_write"].(map[string]any)
			w["start"], w["n"] = w["start"].(float64)-1, 2.0
		}), "steps[3].kv_write.n"},
		{"kv_write focus", edit(func(m map[string]any) { step(m, 1)["kv_write"].(map[string]any)["head"] = 99 }), "steps[1].kv_write: layer"},
		{"kv_write from", edit(func(m map[string]any) { step(m, 0)["kv_write"].(map[string]any)["from"] = -1 }), "steps[0].kv_write.from"},
		{"eviction", edit(func(m map[string]any) { m["evictions"] = []any{map[string]any{"step": 0, "position": 500, "id": 1}} }), "evictions[0]"},
		{"context past the position", edit(func(m map[string]any) { m["scores"].([]any)[1].(map[string]any)["context"] = 2 }), "scores[1].context"},
		{"context without context", edit(func(m map[string]any) { m["scores"].([]any)[0].(map[string]any)["context"] = 1 }), "scores[0].context"},
		{"overflow", edit(func(m map[string]any) { m["settings"].(map[string]any)["overflow"] = "drop" }), "settings.overflow"},
		{"continuation sum", edit(func(m map[string]any) { m["continuation"].(map[string]any)["log2_prob"] = -1e6 }), "continuation.log2_prob"},
		{"continuation position", edit(func(m map[string]any) {
			m["continuation"].(map[string]any)["scores"].([]any)[0].(map[string]any)["position"] = 0
		}), "continuation.scores[0]"},
		// Single numbers a page prints as they are (from the hostile pass:
		// "parameters -5", a causal leak of 1e+30 marked "✗ fail").
		{"num_params", edit(func(m map[string]any) { m["model"].(map[string]any)["num_params"] = -5 }), "model.num_params -5"},
		{"causal leak", edit(func(m map[string]any) { m["checks"].(map[string]any)["max_causal_leak"] = 1e30 }), "checks.max_causal_leak"},
		{"row sum error", edit(func(m map[string]any) { m["checks"].(map[string]any)["max_row_sum_error"] = -1 }), "checks.max_row_sum_error"},
		{"prefill time", edit(func(m map[string]any) { m["timings"] = map[string]any{"prefill_ms": -1e300} }), "timings.prefill_ms"},
		{"speed", edit(func(m map[string]any) { m["timings"] = map[string]any{"tokens_per_sec": -3} }), "timings.tokens_per_sec"},
		{"continuation empty", edit(func(m map[string]any) {
			c := m["continuation"].(map[string]any)
			c["tokens"], c["scores"] = []any{}, []any{}
		}), "continuation: 0 tokens"},
	} {
		_, err := trace.Read(strings.NewReader(tc.data), "t.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "t.json") {
			t.Errorf("%s: error %v, want one naming t.json and %q", tc.name, err, tc.want)
		}
	}
}

// FuzzReadTrace feeds arbitrary bytes to ReadTrace: it must never panic,
// and whatever it accepts must validate again after a JSON round trip.
func FuzzRead(f *testing.F) {
	// A recorded trace is accepted, so the seed run checks the round trip.
	rec := recordedTrace(f)
	if _, err := trace.Read(bytes.NewReader(rec), "recorded.json"); err != nil {
		f.Fatalf("a recorded trace is refused: %v", err)
	}
	f.Add(rec)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"model":{"config":{"model_type":"gpt2","vocab_size":5,"n_positions":4,"n_embd":4,"n_layer":1,"n_head":1,"n_inner":16,"layer_norm_epsilon":1e-5,"activation_function":"gelu_new"}},"tokens":[{"id":1}],"prompt_len":1,"steps":[{"kind":"prefill","n_query":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := trace.Read(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		b, err := json.Marshal(tr)
		if err != nil {
			t.Fatalf("accepted trace does not marshal: %v", err)
		}
		if _, err := trace.Read(bytes.NewReader(b), "again.json"); err != nil {
			t.Fatalf("accepted trace fails after a round trip: %v", err)
		}
	})
}

// TestReadLegacyContext: a version-1 trace written before Score.Context and
// Settings.Overflow were recorded still reads: each scored token's context
// is what those versions did, its position less the prefill's window start
// (the prompt was cropped to its last window), and the policy was slide.
func TestReadLegacyContext(t *testing.T) {
	t.Parallel()
	var m map[string]any
	if err := json.Unmarshal(recordedTrace(t), &m); err != nil {
		t.Fatal(err)
	}
	delete(m["settings"].(map[string]any), "overflow")
	scores := m["scores"].([]any)
	for _, s := range scores {
		delete(s.(map[string]any), "context")
	}
	b, _ := json.Marshal(m)
	tr, err := trace.Read(bytes.NewReader(b), "old.json")
	if err != nil {
		t.Fatalf("a trace without context fields is refused: %v", err)
	}
	for i, s := range tr.Scores {
		if s.Context != 0 || tr.ScoreContext(i) != i {
			t.Errorf("scores[%d]: context %d reads as %d, want 0 read as %d", i, s.Context, tr.ScoreContext(i), i)
		}
	}
	// As an old gptviz cropped a long prompt: the window started at 1, so
	// positions 0 and 1 had no context and position p saw p − 1 tokens.
	tr.Steps[0].WindowStart = 1
	for i := range tr.Scores {
		tr.Scores[i].Context = 0
	}
	tr.Scores[1].NoContext = true
	for i := range tr.Scores {
		if got, want := tr.ScoreContext(i), max(i-1, 0); got != want {
			t.Errorf("window from 1: ScoreContext(%d) = %d, want %d", i, got, want)
		}
	}
	if tr.Settings.Overflow != "" || tr.OverflowOf() != trace.OverflowSlide {
		t.Errorf("overflow %q reads as %q, want slide", tr.Settings.Overflow, tr.OverflowOf())
	}
}
