//go:build goexperiment.simd && amd64

package candidates

import "simd/archsimd"

const haveSIMD = true

// simdMul4 is simdMul with a 4×16 tile (eight accumulators), which Go's
// register allocator keeps out of memory; m must be a multiple of 4.
func simdMul4(c, a, b, bp []float32, m, k, n int) { mulTiles(c, a, b, bp, m, k, n, 4, simdTile4) }

func simdTile4(c []float32, ldc int, a []float32, lda int, bp []float32, k int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	a0, a1, a2, a3 := a[0:k], a[lda:lda+k], a[2*lda:2*lda+k], a[3*lda:3*lda+k]
	for p := range a0 {
		q := bp[p*16 : p*16+16]
		b0, b1 := archsimd.LoadFloat32x8Slice(q), archsimd.LoadFloat32x8Slice(q[8:])
		x := archsimd.BroadcastFloat32x8(a0[p])
		c00, c01 = x.MulAdd(b0, c00), x.MulAdd(b1, c01)
		x = archsimd.BroadcastFloat32x8(a1[p])
		c10, c11 = x.MulAdd(b0, c10), x.MulAdd(b1, c11)
		x = archsimd.BroadcastFloat32x8(a2[p])
		c20, c21 = x.MulAdd(b0, c20), x.MulAdd(b1, c21)
		x = archsimd.BroadcastFloat32x8(a3[p])
		c30, c31 = x.MulAdd(b0, c30), x.MulAdd(b1, c31)
	}
	addTile(c, ldc, [][2]archsimd.Float32x8{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}})
}

// simdMul computes C[m,n] += A[m,k]·B[k,n] (row-major) with a 6×16
// micro-kernel in archsimd intrinsics: B is packed into 16-wide panels
// (k×16, as gemm packs it), A is read in place, and each 6×16 tile of C
// stays in twelve 8-lane accumulators over all k (one fused multiply-add
// per lane and step, as gemm's AVX2 kernel). m must be a multiple of 6
// and n of 16; bp holds at least k·16 floats.
func simdMul(c, a, b, bp []float32, m, k, n int) { mulTiles(c, a, b, bp, m, k, n, 6, simdTile) }

// mulTiles packs B one 16-wide panel at a time and runs tile over every
// group of rows of A (rows at a time) against it.
func mulTiles(c, a, b, bp []float32, m, k, n, rows int, tile func(c []float32, ldc int, a []float32, lda int, bp []float32, k int)) {
	for j := 0; j < n; j += 16 {
		packPanel(bp, b, k, n, j)
		for i := 0; i < m; i += rows {
			tile(c[i*n+j:], n, a[i*k:], k, bp, k)
		}
	}
}

// packPanel copies columns [j, j+16) of B [k, n] into bp as k rows of 16.
func packPanel(bp, b []float32, k, n, j int) {
	for p := 0; p < k; p++ {
		copy(bp[p*16:p*16+16], b[p*n+j:p*n+j+16])
	}
}

func simdTile(c []float32, ldc int, a []float32, lda int, bp []float32, k int) {
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 archsimd.Float32x8
	a0, a1, a2 := a[0:k], a[lda:lda+k], a[2*lda:2*lda+k]
	a3, a4, a5 := a[3*lda:3*lda+k], a[4*lda:4*lda+k], a[5*lda:5*lda+k]
	for p := 0; p < k; p++ {
		b0 := archsimd.LoadFloat32x8Slice(bp[p*16:])
		b1 := archsimd.LoadFloat32x8Slice(bp[p*16+8:])
		x := archsimd.BroadcastFloat32x8(a0[p])
		c00, c01 = x.MulAdd(b0, c00), x.MulAdd(b1, c01)
		x = archsimd.BroadcastFloat32x8(a1[p])
		c10, c11 = x.MulAdd(b0, c10), x.MulAdd(b1, c11)
		x = archsimd.BroadcastFloat32x8(a2[p])
		c20, c21 = x.MulAdd(b0, c20), x.MulAdd(b1, c21)
		x = archsimd.BroadcastFloat32x8(a3[p])
		c30, c31 = x.MulAdd(b0, c30), x.MulAdd(b1, c31)
		x = archsimd.BroadcastFloat32x8(a4[p])
		c40, c41 = x.MulAdd(b0, c40), x.MulAdd(b1, c41)
		x = archsimd.BroadcastFloat32x8(a5[p])
		c50, c51 = x.MulAdd(b0, c50), x.MulAdd(b1, c51)
	}
	addTile(c, ldc, [][2]archsimd.Float32x8{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}})
}

// addTile adds each row's two accumulators to C's 16 columns there.
func addTile(c []float32, ldc int, acc [][2]archsimd.Float32x8) {
	for r, a := range acc {
		row := c[r*ldc : r*ldc+16]
		archsimd.LoadFloat32x8Slice(row).Add(a[0]).StoreSlice(row)
		archsimd.LoadFloat32x8Slice(row[8:]).Add(a[1]).StoreSlice(row[8:])
	}
}
