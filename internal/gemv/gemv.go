// Package gemv holds the one-row matrix products of a decode step, where a
// single activation row meets a whole weight matrix and the speed limit is
// the memory bandwidth of streaming the weights once:
//
//   - DotRows, out[i] = x · w[i] for weight rows w[i] (the tied output head
//     and the logit lens, logits = h @ wteᵀ with wte [vocab, n_embd]);
//   - AxpyRows, out += x @ W for W [len(x), ld] row-major (Hugging Face's
//     Conv1D layout, [in, out]), one contiguous stream per weight row.
//
// On amd64 with AVX2 and FMA, blocks of four weight rows run in assembly
// kernels (gemv_amd64.s), DotRowsMulti's in AVX-512F where the CPU has it; other CPUs, and a build with the purego tag, use
// the plain Go loops, which the tests also force (SetPortable). Results
// agree with a float64 reference within float32 rounding; the kernels use
// fused multiply-adds and a different summation order than the Go loops,
// so the two paths may differ in the last bits.
package gemv

import "unsafe"

// portable forces the Go loops even where the assembly could run.
var portable = false

// SetPortable forces (true) or releases (false) the portable Go loops, for
// tests of the path that CPUs without AVX2 take. It returns the previous
// setting and must not be called while products are running.
func SetPortable(p bool) bool {
	old := portable
	portable = p
	return old
}

// Accelerated reports whether the assembly kernels run.
func Accelerated() bool { return useAsm && !portable }

// DotRows computes out[i] = Σ_k x[k]·w[i·ld+k] for i in [0, len(out)):
// len(out) rows of w, ld floats apart (ld ≥ len(x)), each dotted with x.
func DotRows(out, x, w []float32, ld int) {
	n, K := len(out), len(x)
	if n == 0 {
		return
	}
	if K == 0 {
		clear(out)
		return
	}
	_ = w[(n-1)*ld+K-1] // w holds every row read: the kernels cannot overrun
	i := 0
	if Accelerated() && K >= 8 {
		k8 := K &^ 7
		for ; i+4 <= n; i += 4 {
			dot4(&x[0], &w[i*ld], ld, k8, &out[i])
			if k8 < K {
				for r := 0; r < 4; r++ {
					out[i+r] += Dot(x[k8:], w[(i+r)*ld+k8:(i+r)*ld+K])
				}
			}
		}
	}
	for ; i < n; i++ {
		out[i] = Dot(x, w[i*ld:i*ld+K])
	}
}

// AxpyRows computes out[j] += Σ_k x[k]·w[k·ld+j] for j in [0, len(out)):
// the columns len(out) wide at the start of w's rows (pass w sliced at the
// first column to compute a column range), rows ld floats apart. Columns
// past the last multiple of 16 are summed as the portable loop sums them,
// so a column range that starts at a multiple of 16 gives each column the
// same bits as one call over all columns.
func AxpyRows(out, x, w []float32, ld int) {
	n, K := len(out), len(x)
	if n == 0 || K == 0 {
		return
	}
	_ = w[(K-1)*ld+n-1] // w holds every row read: the kernels cannot overrun
	k := 0
	if Accelerated() && n >= 16 {
		n16 := n &^ 15
		for ; k+4 <= K; k += 4 {
			axpy4(&out[0], n16, &w[k*ld], ld, &x[k])
			if n16 < n { // the last columns as the Go loop below sums them
				axpy4Go(out[n16:], x[k], x[k+1], x[k+2], x[k+3], w[k*ld+n16:k*ld+n], w[(k+1)*ld+n16:(k+1)*ld+n], w[(k+2)*ld+n16:(k+2)*ld+n], w[(k+3)*ld+n16:(k+3)*ld+n])
			}
		}
	}
	for ; k+4 <= K; k += 4 {
		axpy4Go(out, x[k], x[k+1], x[k+2], x[k+3], w[k*ld:k*ld+n], w[(k+1)*ld:(k+1)*ld+n], w[(k+2)*ld:(k+2)*ld+n], w[(k+3)*ld:(k+3)*ld+n])
	}
	for ; k < K; k++ {
		axpyGo(out, x[k], w[k*ld:k*ld+n])
	}
}

// dotGo returns Σ x[i]·y[i] with four partial sums.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGo computes y += a·x.
func axpyGo(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}

// axpy4Go computes y += a0·x0 + a1·x1 + a2·x2 + a3·x3, one pass over y.
func axpy4Go(y []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	x0, x1, x2, x3 = x0[:len(y)], x1[:len(y)], x2[:len(y)], x3[:len(y)]
	for i := range y {
		y[i] += a0*x0[i] + a1*x1[i] + a2*x2[i] + a3*x3[i]
	}
}

// DotRowsMulti computes out[j·ldo+i] = Σ_{k<K} x[j·ldx+k]·w[i·ldw+k] for
// nx input rows j and n weight rows i: DotRows for several input rows at
// once, each weight row read once per three input rows (the logit lens
// reads a block of the head for every layer's row). ldx, ldw ≥ K and
// ldo ≥ n.
//
// With nx ≥ 3, every input row goes through the three-row kernel: when nx
// is not a multiple of three, the last group is rows nx−3 … nx−1, which
// computes one or two rows of the group before it again (to the same
// values) instead of sending them through the one-row kernel, which reads
// the weights once per row. A caller that walks a large w (the head: 154
// MB in GPT-2 124M) passes w from the first row wanted to its end: the
// rows that follow the n computed here are then hinted into cache while
// these are computed, so that they arrive from memory in the meantime.
// The hints change no value.
func DotRowsMulti(out []float32, ldo int, x []float32, ldx, nx, K int, w []float32, ldw, n int) {
	if nx == 0 || n == 0 {
		return
	}
	_ = out[(nx-1)*ldo+n-1]
	if !Accelerated() || K < 8 || n < 4 || nx < 3 {
		for j := 0; j < nx; j++ {
			DotRows(out[j*ldo:j*ldo+n], x[j*ldx:j*ldx+K], w, ldw)
		}
		return
	}
	_ = x[(nx-1)*ldx+K-1]
	_ = w[(n-1)*ldw+K-1]
	n4, kn := n&^3, K&^7
	switch {
	case useAVX512 && K >= 16:
		kn = K &^ 15
		dotMultiByGroup(out, ldo, x, ldx, nx, kn, w, ldw, n4, dot4x3z)
	case nx*K <= quadMajorFloats:
		dotMultiByQuad(out, ldo, x, ldx, nx, kn, w, ldw, n4, dot4x3)
	default:
		dotMultiByGroup(out, ldo, x, ldx, nx, kn, w, ldw, n4, dot4x3g)
	}
	// What the kernels leave: the last K−kn terms of the first n4 rows, and
	// the last n−n4 rows.
	for j := 0; j < nx; j++ {
		xj, oj := x[j*ldx:j*ldx+K], out[j*ldo:j*ldo+n]
		if kn < K {
			for r := 0; r < n4; r++ {
				oj[r] += Dot(xj[kn:], w[r*ldw+kn:r*ldw+K])
			}
		}
		for r := n4; r < n; r++ {
			oj[r] = Dot(xj, w[r*ldw:r*ldw+K])
		}
	}
}

// quadMajorFloats is the most input floats (rows × K) that
// DotRowsMulti sends through the kernel four weight rows at a time with
// every input row (dotMultiByQuad): 256 KiB, half a core's L2 here, the
// rest for the weights streaming through. A recorded decode step's rows
// (one per layer) are 36 KiB in GPT-2 124M, 96 in GPT-2 medium; a
// 128-token prefill's 128 rows are 384 KiB in GPT-2 124M. Measured (2
// cores, the 50,257-row head, model/PERF.md): 12, 24 and 48 rows 1.1–1.6×
// as fast by quad as by group, 96–176 rows alike.
// It is a variable only so that tests can hold DotRowsMulti to the
// by-group order.
var quadMajorFloats = 64 << 10

// dotMultiByQuad computes the first kn terms of out's first n4 columns
// (kn a multiple of 8, n4 of 4): for each four weight rows, every group of
// three input rows, while the four rows are in L1 and the next ones are
// hinted into cache (kern's pf), so that the weights stream from memory
// at the pace of the arithmetic. Each group's pass hints a row's length:
// four groups (a GPT-2 124M step's 12 rows) hint exactly the next four
// rows, fewer hint part of them (the rest is left to the hardware's
// prefetcher), more hint some lines twice. Hints may reach past w's end:
// they never fault, and their addresses exist only inside the kernel.
// kern is dot4x3, dot4x3h or dot4x3b.
func dotMultiByQuad[E float32 | uint16](out []float32, ldo int, x []float32, ldx, nx, kn int, w []E, ldw, n4 int,
	kern func(x *float32, ldx int, w *E, ldw int, n int, groups int, out *float32, ldo int, pf *E)) {
	groups, last := nx/3, -1
	if nx%3 != 0 {
		last = nx - 3 // the one or two rows left over, as the last three
	}
	hinted := groups * (kn &^ 15) // elements kern hints for the groups
	for i := 0; i < n4; i += 4 {
		next := (i + 4) * ldw
		if next >= len(w) {
			next = i * ldw // the last rows of w: nothing follows to hint
		}
		kern(&x[0], ldx, &w[i*ldw], ldw, kn, groups, &out[i], ldo, &w[next])
		if last >= 0 {
			more := next + hinted
			if more >= len(w) {
				more = next
			}
			kern(&x[last*ldx], ldx, &w[i*ldw], ldw, kn, 1, &out[last*ldo+i], ldo, &w[more])
		}
	}
}

// dotMultiByGroup computes what dotMultiByQuad computes for more input
// rows than fit in cache beside the weights: for each group of three
// input rows (in L1), every four weight rows of w's first n4, which a
// caller keeps few enough to stay in L2 (the head: 64 rows, 192 KiB, per
// call); the n4 rows that follow them in w are hinted into L2 during the
// calls. kern is one group's kernel: dot4x3g, dot4x3z or their 16-bit
// forms.
func dotMultiByGroup[E float32 | uint16](out []float32, ldo int, x []float32, ldx, nx, kn int, w []E, ldw, n4 int,
	kern func(x *float32, ldx int, w *E, ldw int, n int, out *float32, ldo int)) {
	pf := newPrefetcher(followingRows(w, ldw, n4), (nx+2)/3*(n4/4))
	for g := 0; g < nx; g += 3 {
		j := min(g, nx-3)
		for i := 0; i < n4; i += 4 {
			pf.step()
			kern(&x[j*ldx], ldx, &w[i*ldw], ldw, kn, &out[j*ldo+i], ldo)
		}
	}
}

// dot4x3g, dot4x3hg and dot4x3bg are dot4x3, dot4x3h and dot4x3b for one
// group of three input rows, their hints on their own weight rows
// (already on their way to cache, so they cost a load slot and move
// nothing), in dot4x3z's form.
func dot4x3g(x *float32, ldx int, w *float32, ldw int, n int, out *float32, ldo int) {
	dot4x3(x, ldx, w, ldw, n, 1, out, ldo, w)
}

func dot4x3hg(x *float32, ldx int, w *uint16, ldw int, n int, out *float32, ldo int) {
	dot4x3h(x, ldx, w, ldw, n, 1, out, ldo, w)
}

func dot4x3bg(x *float32, ldx int, w *uint16, ldw int, n int, out *float32, ldo int) {
	dot4x3b(x, ldx, w, ldw, n, 1, out, ldo, w)
}

// RowsAgree reports whether DotRowsMulti (and DotRowsMultiHalf) give each
// input row's outputs bit for bit what DotRows (DotRowsHalf) gives that row
// alone, so that a caller may compute one row among others and keep the
// one-row result: true for the AVX2 kernels, whose one-row and three-row
// forms sum alike, and for the portable loops; false where the AVX-512
// three-row kernels run (sums in 16 lanes).
func RowsAgree() bool { return !Accelerated() || !useAVX512 }

// followingRows returns the elements of the n rows (ldw apart) that follow
// the first n in w, or as many of them as w holds.
func followingRows[E float32 | uint16](w []E, ldw, n int) []E {
	lo, hi := min(n*ldw, len(w)), min(2*n*ldw, len(w))
	return w[lo:hi]
}

// prefetcher spreads cache hints for a slice over a number of steps: each
// step hints the next share of its cache lines (see prefetch). It keeps
// the slice's first element and an offset, never a pointer past its end,
// which the garbage collector would find bad.
type prefetcher struct {
	base             unsafe.Pointer
	done, size, each int // bytes hinted, in all, per step
}

// newPrefetcher hints next in steps shares.
func newPrefetcher[E float32 | uint16](next []E, steps int) prefetcher {
	if len(next) == 0 || steps <= 0 || !useAsm {
		return prefetcher{}
	}
	size := len(next) * int(unsafe.Sizeof(next[0]))
	each := ((size+steps-1)/steps + 63) &^ 63
	return prefetcher{base: unsafe.Pointer(&next[0]), size: size, each: each}
}

func (pf *prefetcher) step() {
	if pf.done >= pf.size {
		return
	}
	n := min(pf.each, pf.size-pf.done)
	prefetch(unsafe.Add(pf.base, pf.done), n)
	pf.done += n
}
