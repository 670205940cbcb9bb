// Package gemm is the one single-precision matrix-multiply kernel of gptviz,
// shared by the inference engine (package model) and the trainer (package
// model/train).
//
// Gemm computes C[m,n] += A[m,k] @ B[k,n] for contiguous row-major
// matrices. On amd64 with AVX2 and FMA, 4×16 and 1×16 tiles run in assembly
// micro-kernels (gemm_amd64.s): per k, two 8-wide loads of B, a broadcast of
// each A element and fused multiply-adds into register accumulators; the
// edges and other CPUs use a plain Go loop. The 4×16 kernel and the Go loop
// sum over k in the same order for each output element (results differ only
// by FMA rounding); the 1×16 kernel sums even and odd k separately.
// (The blocking follows the GotoBLAS/BLIS micro-kernel idea: Goto & van de
// Geijn, "Anatomy of high-performance matrix multiplication", 2008.)
package gemm

// Gemm computes C[m,n] += A[m,k] @ B[k,n]; a, b and c are row-major and
// hold at least m·k, k·n and m·n elements.
func Gemm(c, a, b []float32, m, k, n int) {
	Cols(c, a, b, m, k, n, 0, n)
}

// Cols computes only columns [j0, j1) of C += A @ B, so that callers can
// split one product across goroutines by columns (a single-row product, a
// decode step, has no rows to split). 0 ≤ j0 ≤ j1 ≤ n.
func Cols(c, a, b []float32, m, k, n, j0, j1 int) {
	if m == 0 || j0 >= j1 || k == 0 {
		return
	}
	// Length checks, not reads: another goroutine may be writing c's
	// other columns (a read of c[m*n-1] was a data race under -race).
	_ = a[:m*k]
	_ = b[:k*n]
	_ = c[:m*n]
	if !useAsm {
		gemmGo(c, a, b, m, k, n, 0, m, j0, j1)
		return
	}
	m4 := m &^ 3
	jEnd := j0 + (j1-j0)&^15
	for j := j0; j < jEnd; j += 16 {
		for i := 0; i < m4; i += 4 {
			gemm4x16(&a[i*k], k, &b[j], n, &c[i*n+j], n, k)
		}
		for i := m4; i < m; i++ {
			gemm1x16(&a[i*k], &b[j], n, &c[i*n+j], k)
		}
	}
	if jEnd < j1 {
		gemmGo(c, a, b, m, k, n, 0, m, jEnd, j1)
	}
}

// gemmGo computes rows [i0,i1) and columns [j0,j1) of C += A @ B in
// i-k-j order (unit stride over B's and C's rows).
func gemmGo(c, a, b []float32, m, k, n, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		ci := c[i*n+j0 : i*n+j1]
		ai := a[i*k : i*k+k]
		for p, av := range ai {
			if av == 0 {
				continue
			}
			Axpy(ci, av, b[p*n+j0:p*n+j1])
		}
	}
}

// Axpy computes y += a·x for x at least as long as y, unrolled by 4 (the
// BLAS saxpy); the engine's attention uses it to sum values.
func Axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// Transpose writes dst[n,m] = src[m,n]ᵀ, in 16×16 blocks.
func Transpose(dst, src []float32, m, n int) {
	const bs = 16
	for i0 := 0; i0 < m; i0 += bs {
		i1 := min(i0+bs, m)
		for j0 := 0; j0 < n; j0 += bs {
			j1 := min(j0+bs, n)
			for i := i0; i < i1; i++ {
				row := src[i*n : i*n+n]
				for j := j0; j < j1; j++ {
					dst[j*m+i] = row[j]
				}
			}
		}
	}
}
