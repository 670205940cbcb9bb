package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/trace"
)

// recordedComparison is a small comparison of the default model as JSON:
// greedy and T = 1, two seeds, 3 steps, 2 candidates and 8 logits a step.
func recordedComparison(t testing.TB) []byte {
	t.Helper()
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	runs, err := model.Compare(context.Background(), m, model.CompareOptions{
		Prompt: "The light", Steps: 3, Seeds: []uint64{1, 2},
		Settings: []model.SamplingParams{{TopP: 1}, {Temperature: 1, TopP: 1}},
		Trace:    model.TraceOptions{TopN: 2, TopLogits: 8, NoAttention: true, NoLogitLens: true, KVLayers: []int{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range runs {
		for _, tr := range row {
			tr.ClearTimings()
		}
	}
	c, err := trace.NewComparison("gptviz compare", []string{"greedy", "temperature=1"}, runs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReadComparison: a written comparison reads back equal; a file whose
// JSON, shape, summaries or divergence steps are wrong is refused with an
// error naming the file and the problem.
func TestReadComparison(t *testing.T) {
	good := recordedComparison(t)
	c, err := trace.ReadComparison(bytes.NewReader(good), "good.json")
	if err != nil {
		t.Fatal(err)
	}
	// Written again and read back, it is the same comparison (the first
	// writing spelled an invalid byte of a token as \ufffd, the second as
	// the character itself: compare the values).
	again, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := trace.ReadComparison(bytes.NewReader(again), "again.json")
	if err != nil {
		t.Fatal(err)
	}
	if third, _ := json.Marshal(c2); !bytes.Equal(third, again) {
		t.Fatal("a round trip changed the comparison")
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad.json: empty input"},
		{"not json", []byte("{x"), "bad.json: at byte 2"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"trailing", append(append([]byte{}, good...), " {}"...), "unexpected data after the comparison"},
		{"unknown key", edit(func(m map[string]any) { m["Prompt"] = "x" }), `"Prompt"`},
		{"wrong kind", edit(func(m map[string]any) { m["seeds"] = "1,2" }), "seeds"},
		{"version", edit(func(m map[string]any) { m["version"] = 9 }), "version 9"},
		{"summary lies", edit(func(m map[string]any) {
			m["summaries"].([]any)[1].([]any)[0].(map[string]any)["perplexity"] = 1.5
		}), "summaries[1][0]"},
		{"divergence lies", edit(func(m map[string]any) {
			d := m["diverges"].([]any)[1].([]any)
			d[0] = float64(3) - d[0].(float64)
		}), "diverges[1][0]"},
	} {
		_, err := trace.ReadComparison(bytes.NewReader(tc.data), "bad.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	// Files: read back; too large refused before reading.
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.ReadComparisonFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := trace.ReadComparisonFile(dir); err == nil {
		t.Error("a folder was read as a comparison")
	}
	restore := trace.SetLimits(int64(len(good)-1), 1<<26)
	_, err = trace.ReadComparisonFile(path)
	restore()
	if err == nil || !strings.Contains(err.Error(), "c.json") {
		t.Errorf("over MaxBytes: %v", err)
	}
	restore = trace.SetLimits(1<<30, 20)
	_, err = trace.ReadComparison(bytes.NewReader(good), "big.json")
	restore()
	if err == nil || !strings.Contains(err.Error(), "more than 20 recorded values") {
		t.Errorf("over MaxRenderValues: %v", err)
	}
}

// FuzzReadComparison: no input panics or hangs the reader, and every
// comparison it accepts survives a round trip.
func FuzzReadComparison(f *testing.F) {
	f.Add(recordedComparison(f))
	f.Add([]byte(`{"version":1,"settings":[],"seeds":[],"runs":[],"summaries":[],"diverges":[]}`))
	f.Add([]byte(`{"version":1,"runs":[[null]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := trace.ReadComparison(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("accepted comparison does not marshal: %v", err)
		}
		if _, err := trace.ReadComparison(bytes.NewReader(b), "again.json"); err != nil {
			t.Fatalf("accepted comparison fails after a round trip: %v", err)
		}
	})
}
