package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

var ops = []Op{NN, TN, NT, TT}

func (op Op) String() string { return [...]string{"NN", "TN", "NT", "TT"}[op] }

// checkMul runs columns [j0,j1) of C += op(A)·op(B) with kernel kn on
// random data and compares every element with a float64 reference: inside
// the columns within a rounding bound that grows with √k, outside them
// bit-identical to before.
func checkMul(t *testing.T, kn *kernel, op Op, r *rand.Rand, m, k, n, j0, j1 int) {
	t.Helper()
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c := randSlice(r, m*n)
	orig := append([]float32(nil), c...)
	A := func(i, p int) float64 {
		if op.transA() {
			return float64(a[p*m+i])
		}
		return float64(a[i*k+p])
	}
	B := func(p, j int) float64 {
		if op.transB() {
			return float64(b[j*k+p])
		}
		return float64(b[p*n+j])
	}
	mulWith(kn, op, c, a, b, m, k, n, j0, j1)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got := c[i*n+j]
			if j < j0 || j >= j1 {
				if got != orig[i*n+j] {
					t.Fatalf("%s %s m=%d k=%d n=%d [%d,%d): c[%d,%d] outside the columns changed", kn.name, op, m, k, n, j0, j1, i, j)
				}
				continue
			}
			want, mag := float64(orig[i*n+j]), math.Abs(float64(orig[i*n+j]))
			for p := 0; p < k; p++ {
				want += A(i, p) * B(p, j)
				mag += math.Abs(A(i, p) * B(p, j))
			}
			// float32 summation error is at most ≈ k·2⁻²⁴·Σ|terms|;
			// allow a generous 4·√k·2⁻²⁴ relative to that sum plus slack.
			if d := math.Abs(float64(got) - want); d > 4*math.Sqrt(float64(k)+1)*0x1p-23*(mag+1) {
				t.Fatalf("%s %s m=%d k=%d n=%d [%d,%d): c[%d,%d] = %v, want %v (diff %g)", kn.name, op, m, k, n, j0, j1, i, j, got, want, d)
			}
		}
	}
}

// TestMul checks every kernel this CPU runs, each op, against a float64
// reference on shapes that are and are not multiples of the tiles and
// blocks: single rows and columns, ragged edges, k across several KC
// blocks, n across several NC blocks, and column ranges.
func TestMul(t *testing.T) {
	t.Parallel()
	shapes := []struct{ m, k, n, j0, j1 int }{
		{1, 1, 1, 0, 1}, {1, 768, 1, 0, 1}, {1, 33, 100, 16, 80}, {7, 1, 9, 0, 9},
		{4, 16, 16, 0, 16}, {5, 7, 17, 0, 17}, {6, 16, 16, 0, 16}, {12, 32, 32, 0, 32},
		{8, 32, 48, 0, 48}, {13, 64, 35, 0, 35}, {25, 257, 70, 0, 70}, {3, 5, 40, 7, 39},
		{9, 9, 64, 32, 64}, {2, 4, 8, 3, 3}, {100, 3, 1, 0, 1}, {37, 300, 130, 5, 129},
		{145, 513, 33, 0, 33}, {64, 128, 384, 0, 384}, {16, 40, 2100, 0, 2100},
		{11, 20, 4200, 100, 4150},
	}
	for _, kn := range kernels() {
		for _, op := range ops {
			for _, s := range shapes {
				t.Run(fmt.Sprintf("%s/%s/%d×%d×%d[%d,%d)", kn.name, op, s.m, s.k, s.n, s.j0, s.j1), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(s.m*1000+s.k), uint64(s.n)))
					checkMul(t, kn, op, r, s.m, s.k, s.n, s.j0, s.j1)
				})
			}
		}
	}
}

// TestKernelSelection checks that GPTVIZ_GEMM names a kernel this CPU runs
// or none, and that Kernel reports the one in use.
func TestKernelSelection(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, k := range kernels() {
		names[k.name] = true
	}
	if !names[Kernel()] {
		t.Fatalf("Kernel() = %q, not among %v", Kernel(), names)
	}
	if kernels()[len(kernels())-1] != goKernel {
		t.Fatal("the portable kernel is not the last resort")
	}
}

// TestEmpty checks that empty products touch nothing and a bad column
// range panics.
func TestEmpty(t *testing.T) {
	t.Parallel()
	c := []float32{1, 2, 3}
	Mul(NN, c, nil, nil, 0, 5, 3)
	Mul(NT, c, nil, nil, 1, 0, 3)
	if c[0] != 1 || c[1] != 2 || c[2] != 3 {
		t.Fatalf("empty products changed c: %v", c)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MulCols with j1 > n did not panic")
		}
	}()
	MulCols(NN, c, []float32{1}, []float32{1, 1, 1}, 1, 1, 3, 0, 4)
}

// FuzzMul checks random shapes, ops and column ranges on every kernel.
func FuzzMul(f *testing.F) {
	f.Add(uint8(5), uint16(7), uint16(17), uint8(0), uint16(0), uint16(17))
	f.Add(uint8(13), uint16(300), uint16(70), uint8(1), uint16(3), uint16(69))
	f.Add(uint8(1), uint16(1), uint16(1), uint8(2), uint16(0), uint16(1))
	f.Fuzz(func(t *testing.T, m8 uint8, k16, n16 uint16, op8 uint8, j016, j116 uint16) {
		m, k, n := int(m8)%160+1, int(k16)%600+1, int(n16)%300+1
		j0, j1 := int(j016)%(n+1), int(j116)%(n+1)
		if j0 > j1 {
			j0, j1 = j1, j0
		}
		op := ops[op8%4]
		r := rand.New(rand.NewPCG(uint64(m), uint64(k*n)))
		for _, kn := range kernels() {
			checkMul(t, kn, op, r, m, k, n, j0, j1)
		}
	})
}

func TestTranspose(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	m, n := 19, 37
	src := randSlice(r, m*n)
	dst := make([]float32, m*n)
	Transpose(dst, src, m, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if dst[j*m+i] != src[i*n+j] {
				t.Fatalf("dst[%d,%d] = %v, want %v", j, i, dst[j*m+i], src[i*n+j])
			}
		}
	}
}

// BenchmarkGemm reports GFLOP/s of GPT-2-small-sized products on one
// core for each kernel: 128 rows (a prefill's MLP up-projection), the
// trainer's shapes (1,024 rows, widths 128–512) in each op, and 1 row (a
// decode step).
func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kn := range kernels() {
		for _, s := range []struct {
			op      Op
			m, k, n int
		}{
			{NN, 128, 768, 3072}, {NN, 128, 768, 768}, {NN, 1, 768, 3072},
			{NN, 1024, 256, 768}, {NT, 1024, 768, 256}, {TN, 256, 1024, 768}, {NT, 1024, 256, 512},
		} {
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", kn.name, s.op, s.m, s.k, s.n), func(b *testing.B) {
				a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
				cpuBench(b, float64(2*s.m*s.k*s.n), func() { mulWith(kn, s.op, c, a, bb, s.m, s.k, s.n, 0, s.n) })
			})
		}
	}
}

// BenchmarkStrip is the unpacked strip path (the kernel before packing,
// and still the one for fewer than smallM rows), for comparison.
func BenchmarkStrip(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range []struct{ m, k, n int }{{128, 768, 3072}, {1, 768, 3072}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) {
			a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			cpuBench(b, float64(2*s.m*s.k*s.n), func() { colsDirect(active, c, s.n, a, s.k, bb, s.n, s.m, s.k, 0, s.n) })
		})
	}
}

// pad returns a rows×cols matrix copied into a row-major array with
// leading dimension cols+extra, the gaps filled with NaN.
func pad(s []float32, rows, cols, extra int) []float32 {
	ld := cols + extra
	p := make([]float32, rows*ld)
	for i := range p {
		p[i] = float32(math.NaN())
	}
	for r := 0; r < rows; r++ {
		copy(p[r*ld:r*ld+cols], s[r*cols:(r+1)*cols])
	}
	return p
}

// TestMulStrided checks that products of matrices inside larger arrays
// equal the contiguous products bit for bit (same kernel, same order), read
// nothing outside the matrices (the gaps hold NaN) and write nothing there.
func TestMulStrided(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for _, kn := range kernels() {
		for _, op := range ops {
			for _, s := range []struct{ m, k, n int }{{1, 64, 100}, {5, 64, 37}, {40, 64, 129}, {128, 64, 128}} {
				m, k, n := s.m, s.k, s.n
				ar, ac := m, k
				if op.transA() {
					ar, ac = k, m
				}
				br, bc := k, n
				if op.transB() {
					br, bc = n, k
				}
				a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
				want := append([]float32(nil), c...)
				mulWith(kn, op, want, a, b, m, k, n, 0, n)
				ap, bp, cp := pad(a, ar, ac, 3), pad(b, br, bc, 5), pad(c, m, n, 2)
				mulLD(kn, op, m, k, n, cp, n+2, ap, ac+3, bp, bc+5, 0, n)
				for i := 0; i < m; i++ {
					for j := 0; j < n+2; j++ {
						got := cp[i*(n+2)+j]
						if j >= n {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%s %s %v: gap c[%d,%d] written", kn.name, op, s, i, j)
							}
							continue
						}
						if got != want[i*n+j] {
							t.Fatalf("%s %s %v: c[%d,%d] = %v, contiguous %v", kn.name, op, s, i, j, got, want[i*n+j])
						}
					}
				}
			}
		}
	}
}

// TestSelectKernelEnv checks GPTVIZ_GEMM: each kernel the CPU runs can be
// forced by name; an unknown name falls back to the best kernel.
func TestSelectKernelEnv(t *testing.T) {
	for _, k := range kernels() {
		t.Setenv("GPTVIZ_GEMM", k.name)
		if got := selectKernel(); got != k {
			t.Errorf("GPTVIZ_GEMM=%s selected %s", k.name, got.name)
		}
	}
	t.Setenv("GPTVIZ_GEMM", "sse9")
	if got := selectKernel(); got != kernels()[0] {
		t.Errorf("GPTVIZ_GEMM=sse9 selected %s, want the best, %s", got.name, kernels()[0].name)
	}
}

// TestMulAllocatesNothing checks that a product, once its pooled buffers
// exist, allocates nothing: shapes with ragged edge tiles (which go through
// the edge tile) and without, for every op. A training step runs thousands
// of products; an allocation in each made the garbage collector run and
// stop the workers every few steps.
func TestMulAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, k, n int }{{128, 32, 128}, {100, 70, 50}, {512, 128, 384}} {
		a, b, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		for _, op := range ops {
			Mul(op, c, a, b, s.m, s.k, s.n) // fill the pool
			if n := testing.AllocsPerRun(10, func() { Mul(op, c, a, b, s.m, s.k, s.n) }); n != 0 {
				t.Errorf("%s m=%d k=%d n=%d: %v allocations per product, want 0", op, s.m, s.k, s.n, n)
			}
		}
	}
}

// TestDirectAMatchesPacked checks that a kernel reading A in place
// (microA, macroDirect) gives bit for bit the products of the same kernel
// on packed A, for every op, ragged and whole row tiles, several KC and MC
// blocks, and A inside a wider array (MulStrided's lda).
func TestDirectAMatchesPacked(t *testing.T) {
	t.Parallel()
	for _, kn := range kernels() {
		if kn.name == "avx2" && kn.microA == nil {
			t.Error("the AVX2 kernel has no in-place A")
		}
		if kn.microA == nil {
			continue
		}
		packed := *kn
		packed.microA = nil
		for _, op := range ops {
			for _, s := range []struct{ m, k, n, pad int }{{6, 16, 16, 0}, {37, 300, 50, 0}, {130, 513, 33, 3}, {96, 64, 128, 7}} {
				r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.k*s.n)))
				rows, cols := s.m, s.k
				if op.transA() {
					rows, cols = s.k, s.m
				}
				lda := cols + s.pad
				a := randSlice(r, rows*lda)
				b := randSlice(r, s.k*s.n)
				ldb := s.n
				if op.transB() {
					ldb = s.k
				}
				got, want := randSlice(r, s.m*s.n), make([]float32, s.m*s.n)
				copy(want, got)
				mulLD(kn, op, s.m, s.k, s.n, got, s.n, a, lda, b, ldb, 0, s.n)
				mulLD(&packed, op, s.m, s.k, s.n, want, s.n, a, lda, b, ldb, 0, s.n)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Errorf("%s op %d %+v: element %d: in place %v, packed %v", kn.name, op, s, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}
