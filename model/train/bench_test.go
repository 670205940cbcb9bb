package train

import (
	"math/rand/v2"
	"testing"

	"github.com/gptviz/gptviz/model/arch"
)

func randomData(n, vocab int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 9))
	s := make([]int, n)
	for i := range s {
		s[i] = r.IntN(vocab)
	}
	return s
}

// BenchmarkTrainStep reports training throughput (tokens/s) of one full
// step for a few model sizes, on all cores.
func BenchmarkTrainStep(b *testing.B) {
	for _, s := range []struct {
		name             string
		L, C, H, V, T, B int
	}{
		{"L4-C128-V512", 4, 128, 4, 512, 128, 16},
		{"L6-C192-V512", 6, 192, 6, 512, 128, 16},
		{"L4-C256-V512", 4, 256, 8, 512, 128, 16},
	} {
		b.Run(s.name, func(b *testing.B) {
			c := arch.Config{VocabSize: s.V, NPositions: s.T, NEmbd: s.C, NLayer: s.L, NHead: s.H}
			o := DefaultOptions(c, 1000)
			o.BatchSize = s.B
			tr, err := New(o, Data{Train: randomData(100000, s.V, 1)})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				tr.TrainStep()
			}
			b.ReportMetric(float64(tr.TokensPerStep())*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(tr.NumParams()), "params")
		})
	}
}
