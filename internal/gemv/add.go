package gemv

// Add computes dst[i] += src[i] for every i < len(dst); src must be at
// least as long. Each sum is rounded as Go's float32 addition rounds it
// (on amd64 with AVX2, eight lanes at a time), so the result is the plain
// loop's bit for bit on every path: the trainer's gradient sums depend on
// it to reproduce a run exactly.
func Add(dst, src []float32) {
	src = src[:len(dst)]
	n := 0
	if Accelerated() {
		n = len(dst) &^ 7
		if n > 0 {
			add8(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// AddRows adds the rows of m [rows, len(dst)] to dst in row order:
// dst[j] += m[0][j], then m[1][j], and so on — each column's sum in the
// order of the plain double loop, bit for bit (see Add). A bias's gradient
// is the column sums of the gradient rows.
func AddRows(dst, m []float32, rows int) {
	c := len(dst)
	_ = m[:rows*c]
	for r := 0; r < rows; r++ {
		Add(dst, m[r*c:(r+1)*c])
	}
}
