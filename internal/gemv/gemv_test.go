package gemv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// paths runs f with the assembly kernels (where this CPU has them; with
// and without the AVX-512 ones where it has those too; and with
// DotRowsMulti's AVX2 path held to its by-group order, which it takes
// only for many input rows) and forced onto the portable Go loops.
func paths(t *testing.T, f func(t *testing.T)) {
	wide, quad := useAVX512, quadMajorFloats
	defer func() { useAVX512, quadMajorFloats = wide, quad }()
	for _, p := range []struct {
		name     string
		portable bool
		avx512   bool
		quad     int
	}{{"asm", false, wide, quad}, {"asm-avx2", false, false, quad}, {"asm-avx2-by-group", false, false, 0}, {"portable", true, false, quad}} {
		if p.name == "asm-avx2" && !wide {
			continue // the first case was already AVX2 only
		}
		t.Run(p.name, func(t *testing.T) {
			old := SetPortable(p.portable)
			defer SetPortable(old)
			useAVX512, quadMajorFloats = p.avx512, p.quad
			f(t)
		})
	}
}

// near checks got against a float64 sum want within float32 rounding of a
// sum of K products whose magnitudes add up to mag.
func near(t *testing.T, what string, got float32, want, mag float64, K int) {
	t.Helper()
	tol := 4 * float64(K+4) * 0x1p-24 * mag
	if d := math.Abs(float64(got) - want); !(d <= tol) {
		t.Fatalf("%s = %v, want %v (|Δ| %.3g > %.3g)", what, got, want, d, tol)
	}
}

func TestDotRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	paths(t, func(t *testing.T) {
		for _, K := range []int{0, 1, 15, 16, 17, 64, 100, 768} {
			for _, n := range []int{0, 1, 3, 4, 5, 9, 33} {
				ld := K + rng.IntN(3)
				x, w := randSlice(rng, K), randSlice(rng, max(n*ld, 1))
				out := randSlice(rng, n) // overwritten, not added to
				DotRows(out, x, w, ld)
				for i := range n {
					var want, mag float64
					for k := range K {
						p := float64(x[k]) * float64(w[i*ld+k])
						want += p
						mag += math.Abs(p)
					}
					near(t, fmt.Sprintf("K=%d n=%d out[%d]", K, n, i), out[i], want, mag, K)
				}
			}
		}
	})
}

func TestAxpyRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	paths(t, func(t *testing.T) {
		for _, K := range []int{0, 1, 3, 4, 7, 64, 768} {
			for _, n := range []int{0, 1, 15, 16, 17, 48, 100, 1152} {
				ld := n + rng.IntN(40)
				x, w := randSlice(rng, K), randSlice(rng, max(K*ld, 1))
				out := randSlice(rng, n)
				init := append([]float32(nil), out...)
				AxpyRows(out, x, w, ld)
				for j := range n {
					want, mag := float64(init[j]), math.Abs(float64(init[j]))
					for k := range K {
						p := float64(x[k]) * float64(w[k*ld+j])
						want += p
						mag += math.Abs(p)
					}
					near(t, fmt.Sprintf("K=%d n=%d out[%d]", K, n, j), out[j], want, mag, K)
				}
			}
		}
	})
}

// TestColumnRange computes a product in two column ranges, as two workers
// do, and requires the same result as one call over all columns.
func TestColumnRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	K, N := 96, 200
	x, w := randSlice(rng, K), randSlice(rng, K*N)
	whole, split := make([]float32, N), make([]float32, N)
	AxpyRows(whole, x, w, N)
	for _, r := range [][2]int{{0, 112}, {112, N}} {
		AxpyRows(split[r[0]:r[1]], x, w[r[0]:], N)
	}
	for j := range N {
		if d := math.Abs(float64(whole[j] - split[j])); d > 1e-4 {
			t.Fatalf("column %d: %v split, %v whole", j, split[j], whole[j])
		}
	}
}

func BenchmarkDotRowsHead(b *testing.B) {
	// GPT-2's tied head: 50,257 rows of 768.
	rng := rand.New(rand.NewPCG(1, 1))
	x, w := randSlice(rng, 768), randSlice(rng, 50257*768)
	out := make([]float32, 50257)
	b.SetBytes(int64(len(w) * 4))
	for b.Loop() {
		DotRows(out, x, w, 768)
	}
}

// BenchmarkDotRowsMultiHead times DotRowsMulti's two orders over GPT-2
// 124M's tied head (50,256 rows of 768 here, split among GOMAXPROCS
// goroutines, each walking its rows 64 at a time as model's headRows
// does), for a recorded decode step's 12 rows, 48, and a prefill's 128:
// "quad" (every input row per four weight rows, the next four hinted) and
// "group" (every four weight rows per three input rows), in float32 and,
// for 12 rows, F16 weights (DotRowsMultiHalf's kernels). quadMajorFloats
// comes from it.
func BenchmarkDotRowsMultiHead(b *testing.B) {
	if !Accelerated() || useAVX512 {
		b.Skip("the AVX2 kernel's two orders")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	C, V := 768, 50256
	w := randSlice(rng, V*C)
	parts := runtime.GOMAXPROCS(0)
	run := func(b *testing.B, nx int, block func(v0, v1 int)) {
		for b.Loop() {
			var wg sync.WaitGroup
			for p := range parts {
				wg.Go(func() {
					lo, hi := V/4*p/parts*4, V/4*(p+1)/parts*4
					for v0 := lo; v0 < hi; v0 += 64 {
						block(v0, min(v0+64, hi))
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(2*nx*C*V)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	for _, nx := range []int{12, 48, 128} {
		x, out := randSlice(rng, nx*C), make([]float32, nx*V)
		b.Run(fmt.Sprintf("rows=%d/quad", nx), func(b *testing.B) {
			run(b, nx, func(v0, v1 int) { dotMultiByQuad(out[v0:], V, x, C, nx, C, w[v0*C:], C, v1-v0, dot4x3) })
		})
		b.Run(fmt.Sprintf("rows=%d/group", nx), func(b *testing.B) {
			run(b, nx, func(v0, v1 int) { dotMultiByGroup(out[v0:], V, x, C, nx, C, w[v0*C:], C, v1-v0, dot4x3g) })
		})
	}
	if !acceleratedHalf() {
		return
	}
	h := randHalf(rng, V*C, false).Bits
	nx := 12
	x, out := randSlice(rng, nx*C), make([]float32, nx*V)
	b.Run("rows=12/f16/quad", func(b *testing.B) {
		run(b, nx, func(v0, v1 int) { dotMultiByQuad(out[v0:], V, x, C, nx, C, h[v0*C:], C, v1-v0, dot4x3h) })
	})
	b.Run("rows=12/f16/group", func(b *testing.B) {
		run(b, nx, func(v0, v1 int) { dotMultiByGroup(out[v0:], V, x, C, nx, C, h[v0*C:], C, v1-v0, dot4x3hg) })
	})
}

func BenchmarkAxpyRowsFC(b *testing.B) {
	// GPT-2's c_fc: 768 → 3072.
	rng := rand.New(rand.NewPCG(1, 1))
	x, w := randSlice(rng, 768), randSlice(rng, 768*3072)
	out := make([]float32, 3072)
	b.SetBytes(int64(len(w) * 4))
	for b.Loop() {
		AxpyRows(out, x, w, 3072)
	}
}

func TestDotRowsMulti(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	paths(t, func(t *testing.T) {
		for _, K := range []int{1, 7, 8, 13, 16, 24, 40, 64, 768} {
			for _, n := range []int{1, 3, 4, 5, 9, 64} {
				for _, nx := range []int{1, 2, 3, 4, 5, 7, 11, 12} {
					ldx, ldw, ldo := K+rng.IntN(3), K+rng.IntN(3), n+rng.IntN(3)
					// w holds rows past the n used (up to n more), which
					// DotRowsMulti prefetches and must not read.
					x, w := randSlice(rng, nx*ldx), randSlice(rng, (n+rng.IntN(n+1))*ldw)
					out := randSlice(rng, nx*ldo)
					DotRowsMulti(out, ldo, x, ldx, nx, K, w, ldw, n)
					for j := range nx {
						for i := range n {
							var want, mag float64
							for k := range K {
								p := float64(x[j*ldx+k]) * float64(w[i*ldw+k])
								want += p
								mag += math.Abs(p)
							}
							near(t, fmt.Sprintf("K=%d n=%d nx=%d out[%d][%d]", K, n, nx, j, i), out[j*ldo+i], want, mag, K)
						}
					}
				}
			}
		}
	})
}

// TestRowsAgree: where RowsAgree says so, every input row of DotRowsMulti
// and DotRowsMultiHalf equals DotRows's and DotRowsHalf's for that row
// alone, bit for bit (K with and without a tail past a multiple of 8,
// weight rows past a multiple of 4, groups of three that overlap).
func TestRowsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	paths(t, func(t *testing.T) {
		if !RowsAgree() {
			if !Accelerated() || !useAVX512 {
				t.Fatal("RowsAgree false on a path whose sums agree")
			}
			return
		}
		for _, K := range []int{8, 13, 16, 24, 192, 770} {
			for _, n := range []int{4, 5, 9, 67} {
				for _, nx := range []int{3, 4, 11, 12} {
					x, w := randSlice(rng, nx*K), randSlice(rng, n*K)
					multi, one := make([]float32, nx*n), make([]float32, n)
					DotRowsMulti(multi, n, x, K, nx, K, w, K, n)
					for _, bf := range []bool{false, true} {
						h := randHalf(rng, n*K, bf)
						hm, ho := make([]float32, nx*n), make([]float32, n)
						DotRowsMultiHalf(hm, n, x, K, nx, K, h, K, n)
						for j := range nx {
							DotRowsHalf(ho, x[j*K:(j+1)*K], h, K)
							for i := range n {
								if math.Float32bits(hm[j*n+i]) != math.Float32bits(ho[i]) {
									t.Fatalf("half bf16=%v K=%d n=%d nx=%d row %d out %d: multi %v, one row %v", bf, K, n, nx, j, i, hm[j*n+i], ho[i])
								}
							}
						}
					}
					for j := range nx {
						DotRows(one, x[j*K:(j+1)*K], w, K)
						for i := range n {
							if math.Float32bits(multi[j*n+i]) != math.Float32bits(one[i]) {
								t.Fatalf("K=%d n=%d nx=%d row %d out %d: multi %v, one row %v", K, n, nx, j, i, multi[j*n+i], one[i])
							}
						}
					}
				}
			}
		}
	})
}
