package findings

import (
	"math"

	"github.com/gptviz/gptviz/model/trace"
)

// FlatFraction is how close to a uniform guess a step's next-token
// entropy must come to count as flat: at least FlatFraction × log2
// vocab_size bits (12.35 of 13 bits for an 8,192-token vocabulary, 14.8 of
// 15.6 for GPT-2's 50,257).
const FlatFraction = 0.95

// FlatSteps says that at some steps the model's next-token distribution
// (before temperature and the filters) was almost uniform: the model had
// no preference, and a token sampled there is about 1 in VocabSize.
type FlatSteps struct {
	Steps       []int   // step indices, ascending
	Decoded     int     // steps with a next-token distribution
	MinBits     float64 // lowest and highest entropy among Steps, bits
	MaxBits     float64
	UniformBits float64 // log2 VocabSize: the entropy of a uniform guess
	VocabSize   int
	// FromOn is true when every step from Steps[0] to the last decoded
	// step is flat: once there, the run never left that state.
	FromOn bool
}

// Flat returns the steps whose Prediction.Entropy is at least FlatFraction
// × log2 vocab_size; ok is false when there are none (or the trace has no
// vocabulary size).
func Flat(tr *trace.Trace) (f FlatSteps, ok bool) {
	f.VocabSize = tr.Model.Config.VocabSize
	if f.VocabSize < 2 {
		return FlatSteps{}, false
	}
	f.UniformBits = math.Log2(float64(f.VocabSize))
	tail := 0 // flat steps since the last one that was not
	for _, st := range tr.Steps {
		p := st.Next
		if p == nil {
			continue
		}
		f.Decoded++
		if !(p.Entropy >= FlatFraction*f.UniformBits) {
			tail = 0
			continue
		}
		if len(f.Steps) == 0 || p.Entropy < f.MinBits {
			f.MinBits = p.Entropy
		}
		f.MaxBits = math.Max(f.MaxBits, p.Entropy)
		f.Steps = append(f.Steps, st.Index)
		tail++
	}
	f.FromOn = len(f.Steps) > 1 && tail == len(f.Steps)
	return f, len(f.Steps) > 0
}
