//go:build !purego

#include "textflag.h"

// func dot4(x *float32, w *float32, ld int, n int, out *float32)
//
// out[r] = Σ_{k<n} x[k]·w[r·ld+k], r = 0..3, n a positive multiple of 8.
// Per 8 floats: one load of x and four fused multiply-adds, one 8-lane
// accumulator per row; then the four accumulators are reduced as dot4x3
// reduces an input row's. So each output is summed exactly as dot4x3 sums
// it, and DotRows and DotRowsMulti agree bit for bit: a recorded decode
// step can compute its own logits among the logit lens's rows. (Memory
// bound: one accumulator per row keeps up with the weights' stream.)
TEXT ·dot4(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ ld+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DX
	SHLQ $2, R8
	SHLQ $2, CX
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX

dotloop:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS (DI)(AX*1), Y9
	VFMADD231PS Y9, Y8, Y0
	VMOVUPS (R9)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y1
	VMOVUPS (R10)(AX*1), Y11
	VFMADD231PS Y11, Y8, Y2
	VMOVUPS (R11)(AX*1), Y12
	VFMADD231PS Y12, Y8, Y3
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  dotloop

	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET

// func axpy4(out *float32, n int, w *float32, ld int, x *float32)
//
// out[j] += x[0]·w[j] + x[1]·w[ld+j] + x[2]·w[2ld+j] + x[3]·w[3ld+j] for
// j < n, n a positive multiple of 16: one pass over out per four weight
// rows, each row read as one contiguous stream.
TEXT ·axpy4(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DX
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), DI
	MOVQ ld+24(FP), R8
	MOVQ x+32(FP), SI
	SHLQ $2, R8
	SHLQ $2, CX
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VBROADCASTSS 8(SI), Y14
	VBROADCASTSS 12(SI), Y15
	XORQ AX, AX

axpyloop:
	VMOVUPS (DX)(AX*1), Y0
	VMOVUPS 32(DX)(AX*1), Y1
	VFMADD231PS (DI)(AX*1), Y12, Y0
	VFMADD231PS 32(DI)(AX*1), Y12, Y1
	VFMADD231PS (R9)(AX*1), Y13, Y0
	VFMADD231PS 32(R9)(AX*1), Y13, Y1
	VFMADD231PS (R10)(AX*1), Y14, Y0
	VFMADD231PS 32(R10)(AX*1), Y14, Y1
	VFMADD231PS (R11)(AX*1), Y15, Y0
	VFMADD231PS 32(R11)(AX*1), Y15, Y1
	VMOVUPS Y0, (DX)(AX*1)
	VMOVUPS Y1, 32(DX)(AX*1)
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  axpyloop
	VZEROUPPER
	RET

// DOT43STEP(off) is one 8-float step of dot4x3 at byte offset off past AX:
// three input rows (SI, R13, R14) and four weight rows (DI, R9, R10, R11)
// into the twelve accumulators, weight row r and input row j in Y(3r+j).
#define DOT43STEP(off) \
	VMOVUPS off(SI)(AX*1), Y12; \
	VMOVUPS off(R13)(AX*1), Y13; \
	VMOVUPS off(R14)(AX*1), Y14; \
	VMOVUPS off(DI)(AX*1), Y15; \
	VFMADD231PS Y15, Y12, Y0; \
	VFMADD231PS Y15, Y13, Y1; \
	VFMADD231PS Y15, Y14, Y2; \
	VMOVUPS off(R9)(AX*1), Y15; \
	VFMADD231PS Y15, Y12, Y3; \
	VFMADD231PS Y15, Y13, Y4; \
	VFMADD231PS Y15, Y14, Y5; \
	VMOVUPS off(R10)(AX*1), Y15; \
	VFMADD231PS Y15, Y12, Y6; \
	VFMADD231PS Y15, Y13, Y7; \
	VFMADD231PS Y15, Y14, Y8; \
	VMOVUPS off(R11)(AX*1), Y15; \
	VFMADD231PS Y15, Y12, Y9; \
	VFMADD231PS Y15, Y13, Y10; \
	VFMADD231PS Y15, Y14, Y11

// func dot4x3(x *float32, ldx int, w *float32, ldw int, n int, groups int, out *float32, ldo int, pf *float32)
//
// out[j·ldo + r] = Σ_{k<n} x[j·ldx+k]·w[r·ldw+k] for four weight rows r and
// 3·groups input rows j, n a positive multiple of 8: each 8-float load of
// a weight row serves three fused multiply-adds (twelve accumulators), so
// several input rows (the logit lens) cost far fewer loads than dot4. The
// groups of three input rows run one after another over the same four
// weight rows, which stay in L1 after the first group's pass. Every 16
// floats of a pass, one 64-byte line from pf on is hinted into L1
// (PREFETCHT0), groups·⌊n/16⌋ lines in all: with pf at the next four
// weight rows, they arrive from memory while this call computes, instead
// of the next call waiting for them. The hints change no value.
TEXT ·dot4x3(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R12
	MOVQ w+16(FP), DI
	MOVQ ldw+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ out+48(FP), DX
	MOVQ ldo+56(FP), BX
	SHLQ $2, R12
	SHLQ $2, R8
	SHLQ $2, CX
	SHLQ $2, BX
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	MOVQ pf+64(FP), R8
	MOVQ CX, R15
	ANDQ $-64, R15 // bytes in whole 16-float pairs of steps

dot43group:
	LEAQ (SI)(R12*1), R13
	LEAQ (R13)(R12*1), R14
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
	CMPQ R15, $0
	JEQ  dot43tail

dot43loop:
	PREFETCHT0 (R8)
	ADDQ $64, R8
	DOT43STEP(0)
	DOT43STEP(32)
	ADDQ $64, AX
	CMPQ AX, R15
	JLT  dot43loop

dot43tail:
	CMPQ AX, CX
	JGE  dot43reduce
	DOT43STEP(0)

dot43reduce:
	// Input row 0: weight rows in Y0, Y3, Y6, Y9.
	VHADDPS Y3, Y0, Y0
	VHADDPS Y9, Y6, Y6
	VHADDPS Y6, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS X12, X0, X0
	VMOVUPS X0, (DX)
	// Input row 1: Y1, Y4, Y7, Y10.
	VHADDPS Y4, Y1, Y1
	VHADDPS Y10, Y7, Y7
	VHADDPS Y7, Y1, Y1
	VEXTRACTF128 $1, Y1, X12
	VADDPS X12, X1, X1
	VMOVUPS X1, (DX)(BX*1)
	// Input row 2: Y2, Y5, Y8, Y11.
	VHADDPS Y5, Y2, Y2
	VHADDPS Y11, Y8, Y8
	VHADDPS Y8, Y2, Y2
	VEXTRACTF128 $1, Y2, X12
	VADDPS X12, X2, X2
	VMOVUPS X2, (DX)(BX*2)

	// The next group: three input rows and three output rows on.
	LEAQ (R14)(R12*1), SI
	LEAQ (DX)(BX*2), DX
	ADDQ BX, DX
	DECQ groups+40(FP)
	JNZ  dot43group
	VZEROUPPER
	RET

// func dot4x3z(x *float32, ldx int, w *float32, ldw int, n int, out *float32, ldo int)
//
// dot4x3 in 16-float (zmm, AVX-512F) lanes, n a positive multiple of 16:
// twice the multiply-adds per instruction on a core with full-width
// AVX-512 units. Each accumulator is folded to 8 lanes, then reduced as
// dot4x3 reduces.
TEXT ·dot4x3z(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R12
	MOVQ w+16(FP), DI
	MOVQ ldw+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), BX
	SHLQ $2, R12
	SHLQ $2, R8
	SHLQ $2, CX
	SHLQ $2, BX
	LEAQ (SI)(R12*1), R13
	LEAQ (R13)(R12*1), R14
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	XORQ AX, AX

dot43zloop:
	VMOVUPS (SI)(AX*1), Z12
	VMOVUPS (R13)(AX*1), Z13
	VMOVUPS (R14)(AX*1), Z14
	VMOVUPS (DI)(AX*1), Z15
	VFMADD231PS Z15, Z12, Z0
	VFMADD231PS Z15, Z13, Z1
	VFMADD231PS Z15, Z14, Z2
	VMOVUPS (R9)(AX*1), Z16
	VFMADD231PS Z16, Z12, Z3
	VFMADD231PS Z16, Z13, Z4
	VFMADD231PS Z16, Z14, Z5
	VMOVUPS (R10)(AX*1), Z17
	VFMADD231PS Z17, Z12, Z6
	VFMADD231PS Z17, Z13, Z7
	VFMADD231PS Z17, Z14, Z8
	VMOVUPS (R11)(AX*1), Z18
	VFMADD231PS Z18, Z12, Z9
	VFMADD231PS Z18, Z13, Z10
	VFMADD231PS Z18, Z14, Z11
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  dot43zloop

	// Fold the upper 8 lanes of each accumulator onto its lower 8.
	VEXTRACTF64X4 $1, Z0, Y12
	VADDPS Y12, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y12
	VADDPS Y12, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y12
	VADDPS Y12, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y12
	VADDPS Y12, Y3, Y3
	VEXTRACTF64X4 $1, Z4, Y12
	VADDPS Y12, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y12
	VADDPS Y12, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y12
	VADDPS Y12, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y12
	VADDPS Y12, Y7, Y7
	VEXTRACTF64X4 $1, Z8, Y12
	VADDPS Y12, Y8, Y8
	VEXTRACTF64X4 $1, Z9, Y12
	VADDPS Y12, Y9, Y9
	VEXTRACTF64X4 $1, Z10, Y12
	VADDPS Y12, Y10, Y10
	VEXTRACTF64X4 $1, Z11, Y12
	VADDPS Y12, Y11, Y11

	// Input row 0: weight rows in Y0, Y3, Y6, Y9.
	VHADDPS Y3, Y0, Y0
	VHADDPS Y9, Y6, Y6
	VHADDPS Y6, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS X12, X0, X0
	VMOVUPS X0, (DX)
	// Input row 1: Y1, Y4, Y7, Y10.
	VHADDPS Y4, Y1, Y1
	VHADDPS Y10, Y7, Y7
	VHADDPS Y7, Y1, Y1
	VEXTRACTF128 $1, Y1, X12
	VADDPS X12, X1, X1
	VMOVUPS X1, (DX)(BX*1)
	// Input row 2: Y2, Y5, Y8, Y11.
	VHADDPS Y5, Y2, Y2
	VHADDPS Y11, Y8, Y8
	VHADDPS Y8, Y2, Y2
	VEXTRACTF128 $1, Y2, X12
	VADDPS X12, X2, X2
	VMOVUPS X2, (DX)(BX*2)
	VZEROUPPER
	RET

// func prefetch(p unsafe.Pointer, n int)
//
// Hints the CPU to bring the n > 0 bytes at p into its L2 cache
// (PREFETCHT1), one instruction per 64-byte line; it changes no value.
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX
prefetchloop:
	PREFETCHT1 (SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLT prefetchloop
	RET
