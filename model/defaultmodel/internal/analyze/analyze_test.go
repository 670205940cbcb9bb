package analyze

import (
	"testing"

	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestDefaultModelHeads pins what MODEL_CARD.md says of the heads: layer 0
// heads 0–2 attend to the previous token (≥ 0.25, uniform attention would
// give ≈ 0.035), no head is an induction head, and the untrained step-0
// weights attend uniformly.
func TestDefaultModelHeads(t *testing.T) {
	t.Parallel()
	_, valText, err := corpus.Opticks(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	val := m.Tokenizer.Encode(valText)
	stats, reps, err := Heads(m, val, 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != m.Config.NLayer*m.Config.NHead {
		t.Fatalf("%d head stats, want %d", len(stats), m.Config.NLayer*m.Config.NHead)
	}
	for _, s := range stats {
		for _, v := range []float64{s.PrevToken, s.FirstToken, s.Self, s.Induction, s.InductionText} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("layer %d head %d: %+v has a value outside [0, 1]", s.Layer, s.Head, s)
			}
		}
		if s.Layer == 0 && s.Head < 3 && s.PrevToken < 0.25 {
			t.Errorf("layer 0 head %d: attention to the previous token %.3f, the card says ≥ 0.25", s.Head, s.PrevToken)
		}
		if s.InductionText > 0.05 || s.Induction > 0.05 {
			t.Errorf("layer %d head %d: induction score %.3f/%.3f, the card says there is no induction head", s.Layer, s.Head, s.Induction, s.InductionText)
		}
	}
	if !(reps[1].Second < reps[1].First) {
		t.Errorf("repeated text: second copy %.3f nats/token, not below the first %.3f", reps[1].Second, reps[1].First)
	}

	m0, err := defaultmodel.LoadSnapshot(0)
	if err != nil {
		t.Fatal(err)
	}
	stats0, _, err := Heads(m0, val, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats0 {
		if s.PrevToken > 0.05 {
			t.Errorf("step 0, layer %d head %d: attention to the previous token %.3f, want ≈ 0.035 (uniform)", s.Layer, s.Head, s.PrevToken)
		}
	}
}
