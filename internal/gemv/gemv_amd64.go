//go:build !purego

package gemv

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAsm reports whether the AVX2+FMA kernels can run on this CPU.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 reports whether the AVX-512 kernels (dot4x3z and its 16-bit
// forms; F for the arithmetic, BW for widening BF16) can run; the tests
// turn it off to check the AVX2 kernels on such a CPU.
var useAVX512 = useAsm && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// dot4 computes out[r] = Σ_{k<n} x[k]·w[r·ld+k] for r = 0..3; n is a
// positive multiple of 8 (see gemv_amd64.s). Each sum is dot4x3's for the
// same rows bit for bit.
//
//go:noescape
func dot4(x *float32, w *float32, ld int, n int, out *float32)

// axpy4 computes out[j] += Σ_{r<4} x[r]·w[r·ld+j] for j < n; n is a
// positive multiple of 16 (see gemv_amd64.s).
//
//go:noescape
func axpy4(out *float32, n int, w *float32, ld int, x *float32)

// dot4x3 computes out[j·ldo+r] = Σ_{k<n} x[j·ldx+k]·w[r·ldw+k] for r < 4,
// j < 3·groups, groups ≥ 1; n is a positive multiple of 8. On the way it
// hints groups·⌊n/16⌋ cache lines from pf on into L1 (see gemv_amd64.s):
// pf must point into a Go allocation, the lines after it may run past its
// end (a hint never faults, and those addresses never leave the kernel).
//
//go:noescape
func dot4x3(x *float32, ldx int, w *float32, ldw int, n int, groups int, out *float32, ldo int, pf *float32)

// dot4x3z is dot4x3 in AVX-512F; n is a positive multiple of 16 (see
// gemv_amd64.s).
//
//go:noescape
func dot4x3z(x *float32, ldx int, w *float32, ldw int, n int, out *float32, ldo int)

// prefetch hints the CPU to load the n > 0 bytes at p into L2 (see
// gemv_amd64.s); it reads and writes nothing.
//
//go:noescape
func prefetch(p unsafe.Pointer, n int)
