package gemm

import "github.com/gptviz/gptviz/internal/gemv"

// MulColsHalf is MulCols(NN, …) with B in 16 bits (F16 or BF16, row-major
// [k, n]): columns [j0, j1) of C[m,n] += A[m,k]·B[k,n]. B is widened to
// float32 as it is packed (the packing copies B's block anyway), so the
// product reads the 16-bit weights once and allocates nothing in steady
// state; below the packing threshold (m < 8 rows) the columns' strip of B
// is widened into a pooled buffer first. Widening is exact and the
// micro-kernels are those of MulCols, so the result is bit for bit that of
// MulCols on the widened B. It panics when a slice is too short.
func MulColsHalf(c, a []float32, b gemv.Half, m, k, n, j0, j1 int) {
	kn := active
	if j0 < 0 || j1 > n || j0 > j1 {
		panic("gemm: column range outside [0, n]")
	}
	if m == 0 || j0 == j1 || k == 0 {
		return
	}
	checkStored("A", a, m, k, k)
	_ = b.Bits[:(k-1)*n+n]
	checkStored("C", c, m, n, n)
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	if m < smallM {
		w := j1 - j0
		strip := bufs.get(&bufs.b, k*w)
		for p := 0; p < k; p++ {
			gemv.Widen(strip[p*w:(p+1)*w], b.From(p*n+j0))
		}
		colsDirect(kn, c[j0:], n, a, k, strip, w, m, k, 0, w)
		return
	}
	ap := bufs.get(&bufs.a, kn.mc*kn.kc)
	bp := bufs.get(&bufs.b, kn.kc*kn.nc)
	for jc := j0; jc < j1; jc += kn.nc {
		nb := min(kn.nc, j1-jc)
		for pc := 0; pc < k; pc += kn.kc {
			kb := min(kn.kc, k-pc)
			packBHalf(bp, b, n, pc, kb, jc, nb, kn.nr)
			for ic := 0; ic < m; ic += kn.mc {
				mb := min(kn.mc, m-ic)
				packA(ap, a, false, k, ic, mb, pc, kb, kn.mr)
				macro(kn, ap, bp, c[ic*n+jc:], n, mb, nb, kb, &bufs.tile)
			}
		}
	}
}

// packBHalf is packB (not transposed) for a 16-bit B: rows [pc, pc+kb)
// and columns [jc, jc+nb) widened into ⌈nb/nr⌉ panels of kb×nr.
func packBHalf(dst []float32, b gemv.Half, ldb, pc, kb, jc, nb, nr int) {
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : jr*kb+nr*kb]
		nv := min(nr, nb-jr)
		for p := 0; p < kb; p++ {
			d := panel[p*nr : p*nr+nr]
			gemv.Widen(d[:nv], b.From((pc+p)*ldb+jc+jr))
			clear(d[nv:])
		}
	}
}
