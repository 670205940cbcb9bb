package analyze

import (
	"testing"

	"github.com/gptviz/gptviz/model/corpus"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestDefaultModelHeads pins what MODEL_CARD.md says of the heads, measured
// as evalmix measures them (the first 40 of 8 windows per source's
// validation text, so the first five sources; 64 random tokens repeated
// twice): the strongest previous-token head gives
// i−1 at least prevTokenMin of its attention (uniform attention would give
// ≈ 0.035), an induction head in a layer after a previous-token head
// (the two-layer circuit) gives at least
// inductionMin of a repeated random token's attention to the token after
// its first occurrence (uniform ≈ 0.016 over 64 earlier tokens and more),
// with which the second copy of the random tokens costs at least
// copyGainMin nats/token less than the first, and the untrained step-0
// weights attend uniformly.
func TestDefaultModelHeads(t *testing.T) {
	t.Parallel()
	const prevTokenMin, inductionMin, copyGainMin = 0.15, 0.5, 2.0
	parts, err := corpus.MixSplit(1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	var val []int
	for _, p := range parts {
		ids := m.Tokenizer.Encode(corpus.Join(p.Val))
		val = append(val, ids[:min(len(ids), 8*m.Config.NPositions)]...)
	}
	stats, rep, err := Heads(m, val, 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != m.Config.NLayer*m.Config.NHead {
		t.Fatalf("%d head stats, want %d", len(stats), m.Config.NLayer*m.Config.NHead)
	}
	best, ind := stats[0], stats[0]
	firstPrev := m.Config.NLayer // the lowest layer with a previous-token head
	for _, s := range stats {
		if s.PrevToken >= prevTokenMin {
			firstPrev = min(firstPrev, s.Layer)
		}
		for _, v := range []float64{s.PrevToken, s.FirstToken, s.Self, s.Induction, s.InductionText} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("layer %d head %d: %+v has a value outside [0, 1]", s.Layer, s.Head, s)
			}
		}
		if s.PrevToken > best.PrevToken {
			best = s
		}
		if s.Induction > ind.Induction {
			ind = s
		}
	}
	if best.PrevToken < prevTokenMin {
		t.Errorf("strongest previous-token head %d.%d: %.3f, the card says ≥ %.2f", best.Layer, best.Head, best.PrevToken, prevTokenMin)
	}
	// The two-layer circuit: the induction head reads what a previous-token
	// head in an earlier layer wrote.
	if ind.Induction < inductionMin || ind.Layer <= firstPrev {
		t.Errorf("strongest induction head %d.%d: %.3f, the card says ≥ %.2f in a layer after a previous-token head (first in layer %d)", ind.Layer, ind.Head, ind.Induction, inductionMin, firstPrev)
	}
	if gain := rep[0].First - rep[0].Second; gain < copyGainMin {
		t.Errorf("repeated random tokens: first copy %.3f, second %.3f nats/token, the card says the second is ≥ %.1f cheaper", rep[0].First, rep[0].Second, copyGainMin)
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
