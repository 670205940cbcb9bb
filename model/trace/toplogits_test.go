package trace_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// TestTopLogitsRecorded: a recorded run keeps, per decode step, the 256
// highest logits (of the default model's vocabulary of thousands), consistent with
// the step's candidates, and the trace validates.
func TestTopLogitsRecorded(t *testing.T) {
	t.Parallel()
	tr, err := trace.Read(bytes.NewReader(recordedTrace(t)), "run")
	if err != nil {
		t.Fatal(err)
	}
	for k, st := range tr.Steps[1:] {
		tl := st.Next.Logits
		if tl == nil || len(tl.IDs) != 256 || len(tl.Values) != 256 {
			t.Fatalf("step %d: logits %+v, want 256", k+1, tl)
		}
		for i, c := range st.Next.Top {
			if tl.IDs[i] != c.ID || tl.Values[i] != c.Logit {
				t.Fatalf("step %d: logits[%d] = %d %v, candidate %d %v", k+1, i, tl.IDs[i], tl.Values[i], c.ID, c.Logit)
			}
			if p := math.Exp(float64(tl.Values[i]) - tl.LogSumExp); math.Abs(p-c.Prob) > 1e-9 {
				t.Fatalf("step %d: exp(logit − log_sum_exp) = %v, candidate prob %v", k+1, p, c.Prob)
			}
		}
	}
}

// TestTopLogitsValidate: old traces without logits validate; a trace whose
// logits have the wrong shape is refused with a message naming the field.
func TestTopLogitsValidate(t *testing.T) {
	t.Parallel()
	data := recordedTrace(t)
	rec, err := trace.Read(bytes.NewReader(data), "run")
	if err != nil {
		t.Fatal(err)
	}
	V := rec.Model.Config.VocabSize
	for _, tc := range []struct {
		name  string
		edit  func(tl *trace.TopLogits) *trace.TopLogits
		error string // "" when valid
	}{
		{"as recorded", func(tl *trace.TopLogits) *trace.TopLogits { return tl }, ""},
		{"absent (a version-1 trace from before)", func(*trace.TopLogits) *trace.TopLogits { return nil }, ""},
		{"a prefix", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.IDs, tl.Values = tl.IDs[:3], tl.Values[:3]
			return tl
		}, ""},
		{"empty", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.IDs, tl.Values = nil, nil
			return tl
		}, fmt.Sprintf("steps[1].next.logits.ids: 0 ids, want 1..vocab_size %d", V)},
		{"lengths differ", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.Values = tl.Values[:5]
			return tl
		}, "steps[1].next.logits.values: 5 values, want one per id (256)"},
		{"id outside", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.IDs[2] = V
			return tl
		}, fmt.Sprintf("steps[1].next.logits.ids[2]: id %d outside the vocabulary of %d", V, V)},
		{"id twice", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.IDs[3] = tl.IDs[1]
			return tl
		}, "steps[1].next.logits.ids[3]: id"},
		{"not finite", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.Values[4] = float32(math.Inf(-1))
			return tl
		}, "steps[1].next.logits.values[4]: -Inf is not a finite logit"},
		{"out of order", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.Values[0], tl.Values[1] = tl.Values[1]-1, tl.Values[0]
			return tl
		}, "steps[1].next.logits.values[1]: not in order"},
		{"log-sum-exp below the maximum", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.LogSumExp = float64(tl.Values[0]) - 1
			return tl
		}, "steps[1].next.logits.log_sum_exp:"},
		{"log-sum-exp NaN", func(tl *trace.TopLogits) *trace.TopLogits {
			tl.LogSumExp = math.NaN()
			return tl
		}, "steps[1].next.logits.log_sum_exp: NaN"},
	} {
		tr, err := trace.Read(bytes.NewReader(data), "run")
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k < len(tr.Steps); k++ {
			if k == 1 || tc.error == "" {
				tr.Steps[k].Next.Logits = tc.edit(tr.Steps[k].Next.Logits)
			}
		}
		err = tr.Validate()
		switch {
		case tc.error == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.error != "" && (err == nil || !strings.Contains(err.Error(), tc.error)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.error)
		}
	}
}
