// Package candidates measures gptviz's matrix-multiply kernel (package
// gemm) against the alternatives issue 15 named: github.com/viterin/vek
// (vek32.MatMul_Into, assembly generated from C) and Go 1.26's
// experimental simd/archsimd (a 6×16 micro-kernel written with its AVX2
// intrinsics, as gemm's AVX2 kernel is written in assembly). It is a
// module of its own so that gptviz does not depend on them.
//
//	cd internal/gemm/candidates
//	GOEXPERIMENT=simd go test -run '^$' -bench . -benchtime 10x
//
// Without GOEXPERIMENT=simd the archsimd kernel is left out. Results are
// in ../PERF.md.
package candidates
