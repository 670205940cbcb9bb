package train

// gemm computes C[m,n] += A[m,k] @ B[k,n] for contiguous row-major
// matrices. It is the one matrix-multiply kernel of the trainer: every
// Conv1D forward and backward product and the attention products reduce to
// it (with transposes where needed).
//
// On amd64 with AVX2 and FMA, 4×16 tiles run in an assembly micro-kernel
// (gemm_amd64.s); the edges and other CPUs use gemmGo. Both sum over k in
// the same order per output element, so results differ only by FMA rounding.
func gemm(c, a, b []float32, m, k, n int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	_ = a[m*k-1]
	_ = b[k*n-1]
	_ = c[m*n-1]
	if !useAsm {
		gemmGo(c, a, b, m, k, n, 0, m, 0, n)
		return
	}
	m4, n16 := m&^3, n&^15
	for j := 0; j < n16; j += 16 {
		for i := 0; i < m4; i += 4 {
			gemm4x16(&a[i*k], k, &b[j], n, &c[i*n+j], n, k)
		}
	}
	if n16 < n {
		gemmGo(c, a, b, m, k, n, 0, m4, n16, n)
	}
	if m4 < m {
		gemmGo(c, a, b, m, k, n, m4, m, 0, n)
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
			bp := b[p*n+j0 : p*n+j1]
			bp = bp[:len(ci)]
			j := 0
			for ; j+4 <= len(ci); j += 4 {
				ci[j] += av * bp[j]
				ci[j+1] += av * bp[j+1]
				ci[j+2] += av * bp[j+2]
				ci[j+3] += av * bp[j+3]
			}
			for ; j < len(ci); j++ {
				ci[j] += av * bp[j]
			}
		}
	}
}

// transpose writes dst[n,m] = src[m,n]ᵀ.
func transpose(dst, src []float32, m, n int) {
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
