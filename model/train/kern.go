package train

import "math"

// The trainer's element-wise loops. On amd64 with AVX2 the first multiple
// of 8 elements runs in kern_amd64.s, eight lanes at a time, each lane
// performing the loop's float32 operations in the same order, each
// rounded on its own; the rest, and every element elsewhere, runs in the
// Go loops below. Each product that a sum then uses is converted to
// float32 first, which keeps Go from fusing the two into a multiply-add
// (as it may on amd64 from GOAMD64=v3): both paths, and the loops these
// replaced, give the same bits (TestKernelsMatchLoops,
// TestTrainStepsPinned).

// kernN is how many leading elements of n the kernels take.
func kernN(n int) int {
	if !useKern {
		return 0
	}
	return n &^ 7
}

// lnApply writes o[j] = (x[j]−m)·r·w[j] + b[j]: a layer norm's output row
// from its mean m and reciprocal deviation r. All slices as long as o.
func lnApply(o, x, w, b []float32, m, r float32) {
	x, w, b = x[:len(o)], w[:len(o)], b[:len(o)]
	k := kernN(len(o))
	if k > 0 {
		lnApply8(&o[0], &x[0], &w[0], &b[0], k, m, r)
	}
	for j := k; j < len(o); j++ {
		o[j] = float32(float32((x[j]-m)*r)*w[j]) + b[j]
	}
}

// lnBackRow accumulates one row of a layer norm's gradients, given the
// row's m, r and its means dm = mean(w·d) and dnm = mean(w·d·x̂):
// db += d, dw += x̂·d and dx += (w·d − dm − x̂·dnm)·r, x̂ = (x−m)·r.
func lnBackRow(dx, dw, db, x, d, w []float32, m, r, dm, dnm float32) {
	dw, db, x, d, w = dw[:len(dx)], db[:len(dx)], x[:len(dx)], d[:len(dx)], w[:len(dx)]
	k := kernN(len(dx))
	if k > 0 {
		c := [4]float32{m, r, dm, dnm}
		lnBack8(&dx[0], &dw[0], &db[0], &x[0], &d[0], &w[0], k, &c)
	}
	for j := k; j < len(dx); j++ {
		xh := (x[j] - m) * r
		dn := w[j] * d[j]
		db[j] += d[j]
		dw[j] += float32(xh * d[j])
		dx[j] += float32(float32(float32(dn-dm)-float32(xh*dnm)) * r)
	}
}

// mulTo writes dst[i] = a[i]·b[i]; a and b at least as long as dst.
func mulTo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := kernN(len(dst))
	if k > 0 {
		mul8(&dst[0], &a[0], &b[0], k)
	}
	for i := k; i < len(dst); i++ {
		dst[i] = a[i] * b[i]
	}
}

// sumTo writes dst[i] = a[i] + b[i]; a and b at least as long as dst, and
// either may be dst itself (addTo).
func sumTo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	k := kernN(len(dst))
	if k > 0 {
		sum8(&dst[0], &a[0], &b[0], k)
	}
	for i := k; i < len(dst); i++ {
		dst[i] = a[i] + b[i]
	}
}

// scaleBy multiplies every element of dst by s.
func scaleBy(dst []float32, s float32) {
	k := kernN(len(dst))
	if k > 0 {
		scale8(&dst[0], k, s)
	}
	for i := k; i < len(dst); i++ {
		dst[i] *= s
	}
}

// softBack writes dr[i] = pr[i]·(dr[i] − dot)·s: a softmax row's backward
// step from the probabilities pr, the gradient dr and their dot product.
func softBack(dr, pr []float32, dot, s float32) {
	pr = pr[:len(dr)]
	k := kernN(len(dr))
	if k > 0 {
		softBack8(&dr[0], &pr[0], k, dot, s)
	}
	for i := k; i < len(dr); i++ {
		dr[i] = pr[i] * (dr[i] - dot) * s
	}
}

// dropMask sets mask[j] = 0 where the j-th 16-bit chunk of bits (the
// lowest first in each word) is below thr and keep elsewhere, then
// x[j] *= mask[j]. bits holds at least ⌈len(x)/4⌉ words.
func dropMask(x, mask []float32, bits []uint64, keep float32, thr uint32) {
	mask, bits = mask[:len(x)], bits[:(len(x)+3)/4]
	k := kernN(len(x))
	if k > 0 {
		drop8(&x[0], &mask[0], &bits[0], k, keep, thr)
	}
	for j := k; j < len(x); j++ {
		m := keep
		if uint32(bits[j/4]>>(16*(j%4))&0xffff) < thr {
			m = 0
		}
		mask[j] = m
		x[j] *= m
	}
}

// adamwRow applies one AdamW step to the parameters p given their gradient
// g and moments m, v (all as long as p), with c = b1, 1−b1, b2, 1−b2, the
// bias corrections c1, c2, eps, the learning rate and the weight decay:
// m = b1·m + (1−b1)·g, v = b2·v + (1−b2)·g·g and
// p −= lr·(m·c1 / (√(v·c2) + eps) + decay·p).
func adamwRow(p, g, m, v []float32, c *[9]float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	k := kernN(len(p))
	if k > 0 {
		adamw8(&p[0], &g[0], &m[0], &v[0], k, c)
	}
	b1, nb1, b2, nb2, c1, c2, eps, lr, decay := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	for i := k; i < len(p); i++ {
		gi := g[i]
		m[i] = float32(b1*m[i]) + float32(nb1*gi)
		v[i] = float32(b2*v[i]) + float32(float32(nb2*gi)*gi)
		mh, vh := m[i]*c1, v[i]*c2
		p[i] -= float32(lr * (mh/(float32(math.Sqrt(float64(vh)))+eps) + float32(decay*p[i])))
	}
}
