package gemv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddRowsMatchesLoop checks Add and AddRows against the plain loops bit
// for bit, on both paths, at kernel and tail lengths, with values whose
// sums round (wide magnitudes) and special values.
func TestAddRowsMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []int{1, 7, 8, 9, 31, 128, 131} {
		rows := 5
		m := make([]float32, rows*c)
		for i := range m {
			m[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6)))
		}
		m[0] = float32(math.Inf(1))
		if c > 1 {
			m[1] = float32(math.NaN())
		}
		start := make([]float32, c)
		for i := range start {
			start[i] = float32(rng.NormFloat64())
		}
		want := append([]float32(nil), start...)
		for r := 0; r < rows; r++ {
			for j := range want {
				want[j] += m[r*c+j]
			}
		}
		paths(t, func(t *testing.T) {
			got := append([]float32(nil), start...)
			AddRows(got, m, rows)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Errorf("%s: column %d = %v, loop %v", fmt.Sprint("c=", c), j, got[j], want[j])
				}
			}
		})
	}
}
