package train

import "github.com/gptviz/gptviz/internal/vexp"

// expShiftSum replaces each value v of row by e^(v−mx), in float32, and
// returns their sum, added in index order: a softmax's exponentials, with
// mx ≥ every v (the row's maximum). The exponentials are
// vexp.ExpShifted32's (eight at a time on AVX2, bit for bit the Go loop);
// values below e^−87 are 0.
func expShiftSum(row []float32, mx float32) float32 {
	vexp.ExpShifted32(row, mx)
	var sum float32
	for _, e := range row {
		sum += e
	}
	return sum
}

// scratch holds reusable per-worker buffers, so a training step allocates
// nothing. get(i, n) returns buffer i resized to n (contents undefined).
type scratch struct{ bufs [10][]float32 }

func (s *scratch) get(i, n int) []float32 {
	if cap(s.bufs[i]) < n {
		s.bufs[i] = make([]float32, n)
	}
	return s.bufs[i][:n]
}
