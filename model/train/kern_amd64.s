//go:build !purego

#include "textflag.h"

// The trainer's element-wise loops, eight lanes at a time with AVX. Each
// lane performs its Go loop's float32 operations in the same order, each
// rounded on its own (VMULPS, VADDPS, VSUBPS; no fused multiply-add), so
// the results are the Go loops' bit for bit (kern.go; TestKernelsMatchLoops
// and TestTrainStepsPinned).

// func lnApply8(o, x, w, b *float32, n int, m, r float32)
//
// o[j] = (x[j] − m)·r·w[j] + b[j] for j < n, a positive multiple of 8.
TEXT ·lnApply8(SB), NOSPLIT, $0-48
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ b+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Y14
	VBROADCASTSS r+44(FP), Y15
	SHLQ $2, CX
	XORQ AX, AX

lnaloop:
	VMOVUPS (SI)(AX*1), Y0
	VSUBPS Y14, Y0, Y0        // x − m
	VMULPS Y15, Y0, Y0        // ·r
	VMULPS (DX)(AX*1), Y0, Y0 // ·w
	VADDPS (BX)(AX*1), Y0, Y0 // + b
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT lnaloop
	VZEROUPPER
	RET

// func lnBack8(dx, dw, db, x, d, w *float32, n int, c *[4]float32)
//
// For j < n, a positive multiple of 8, with c = m, r, dm, dnm and
// x̂ = (x[j] − m)·r: db[j] += d[j]; dw[j] += x̂·d[j];
// dx[j] += (w[j]·d[j] − dm − x̂·dnm)·r.
TEXT ·lnBack8(SB), NOSPLIT, $0-64
	MOVQ dx+0(FP), DI
	MOVQ dw+8(FP), R8
	MOVQ db+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ d+32(FP), DX
	MOVQ w+40(FP), BX
	MOVQ n+48(FP), CX
	MOVQ c+56(FP), R10
	VBROADCASTSS 0(R10), Y12  // m
	VBROADCASTSS 4(R10), Y13  // r
	VBROADCASTSS 8(R10), Y14  // dm
	VBROADCASTSS 12(R10), Y15 // dnm
	SHLQ $2, CX
	XORQ AX, AX

lnbloop:
	VMOVUPS (SI)(AX*1), Y0
	VSUBPS Y12, Y0, Y0        // x − m
	VMULPS Y13, Y0, Y0        // x̂
	VMOVUPS (DX)(AX*1), Y1    // d
	VMULPS (BX)(AX*1), Y1, Y2 // dn = w·d (the product commutes exactly)
	VADDPS (R9)(AX*1), Y1, Y3 // db + d
	VMOVUPS Y3, (R9)(AX*1)
	VMULPS Y1, Y0, Y3         // x̂·d
	VADDPS (R8)(AX*1), Y3, Y3 // dw + x̂·d
	VMOVUPS Y3, (R8)(AX*1)
	VSUBPS Y14, Y2, Y2        // dn − dm
	VMULPS Y15, Y0, Y4        // x̂·dnm
	VSUBPS Y4, Y2, Y2         // (dn − dm) − x̂·dnm
	VMULPS Y13, Y2, Y2        // ·r
	VADDPS (DI)(AX*1), Y2, Y2 // dx + …
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT lnbloop
	VZEROUPPER
	RET

// func mul8(dst, a, b *float32, n int)
//
// dst[i] = a[i]·b[i] for i < n, a positive multiple of 8.
TEXT ·mul8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX

mulloop:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT mulloop
	VZEROUPPER
	RET

// func sum8(dst, a, b *float32, n int)
//
// dst[i] = a[i] + b[i] for i < n, a positive multiple of 8.
TEXT ·sum8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX

sumloop:
	VMOVUPS (SI)(AX*1), Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT sumloop
	VZEROUPPER
	RET

// func scale8(dst *float32, n int, s float32)
//
// dst[i] *= s for i < n, a positive multiple of 8.
TEXT ·scale8(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y15
	SHLQ $2, CX
	XORQ AX, AX

scaleloop:
	VMULPS (DI)(AX*1), Y15, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT scaleloop
	VZEROUPPER
	RET

// func softBack8(dr, pr *float32, n int, dot, s float32)
//
// dr[i] = pr[i]·(dr[i] − dot)·s for i < n, a positive multiple of 8.
TEXT ·softBack8(SB), NOSPLIT, $0-32
	MOVQ dr+0(FP), DI
	MOVQ pr+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS dot+24(FP), Y14
	VBROADCASTSS s+28(FP), Y15
	SHLQ $2, CX
	XORQ AX, AX

sbloop:
	VMOVUPS (DI)(AX*1), Y0
	VSUBPS Y14, Y0, Y0        // dr − dot
	VMULPS (SI)(AX*1), Y0, Y0 // pr·(…)
	VMULPS Y15, Y0, Y0        // ·s
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT sbloop
	VZEROUPPER
	RET

// func drop8(x, mask *float32, bits *uint64, n int, keep float32, thr uint32)
//
// For j < n, a positive multiple of 8, with v the j-th 16-bit chunk of
// bits (lowest first): mask[j] = 0 where v < thr, keep elsewhere; then
// x[j] *= mask[j].
TEXT ·drop8(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ mask+8(FP), DX
	MOVQ bits+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS keep+32(FP), Y15
	MOVL thr+36(FP), R8
	MOVD R8, X14
	VPBROADCASTD X14, Y14
	SHLQ $2, CX
	XORQ AX, AX
	XORQ BX, BX

droploop:
	VPMOVZXWD (SI)(BX*1), Y0  // eight 16-bit chunks
	VPCMPGTD Y0, Y14, Y1      // thr > v: dropped
	VANDNPS Y15, Y1, Y2       // keep where kept, +0 where dropped
	VMOVUPS Y2, (DX)(AX*1)
	VMULPS (DI)(AX*1), Y2, Y3 // x·mask
	VMOVUPS Y3, (DI)(AX*1)
	ADDQ $32, AX
	ADDQ $16, BX
	CMPQ AX, CX
	JLT droploop
	VZEROUPPER
	RET

// func adamw8(p, grad, m, v *float32, n int, c *[9]float32)
//
// One AdamW step for i < n, a positive multiple of 8, with c = b1, 1−b1,
// b2, 1−b2, c1, c2, eps, lr, decay (see adamwRow); each lane
// follows adamwRow's Go loop operation for operation (VSQRTPS rounds the
// square root as float32(math.Sqrt(float64(x))) does: a float64 square
// root rounded to float32 is the correctly rounded float32 one).
TEXT ·adamw8(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), R8
	VBROADCASTSS 0(R8), Y8    // b1
	VBROADCASTSS 4(R8), Y9    // 1 − b1
	VBROADCASTSS 8(R8), Y10   // b2
	VBROADCASTSS 12(R8), Y11  // 1 − b2
	VBROADCASTSS 16(R8), Y12  // c1
	VBROADCASTSS 20(R8), Y13  // c2
	VBROADCASTSS 24(R8), Y14  // eps
	VBROADCASTSS 28(R8), Y15  // lr
	VBROADCASTSS 32(R8), Y7   // decay
	SHLQ $2, CX
	XORQ AX, AX

adamloop:
	VMOVUPS (SI)(AX*1), Y0     // g
	VMULPS (DX)(AX*1), Y8, Y1  // b1·m
	VMULPS Y0, Y9, Y2          // (1−b1)·g
	VADDPS Y2, Y1, Y1          // m
	VMOVUPS Y1, (DX)(AX*1)
	VMULPS (BX)(AX*1), Y10, Y2 // b2·v
	VMULPS Y0, Y11, Y3         // (1−b2)·g
	VMULPS Y0, Y3, Y3          // ·g
	VADDPS Y3, Y2, Y2          // v
	VMOVUPS Y2, (BX)(AX*1)
	VMULPS Y12, Y1, Y1         // mh = m·c1
	VMULPS Y13, Y2, Y2         // vh = v·c2
	VSQRTPS Y2, Y2
	VADDPS Y14, Y2, Y2         // √vh + eps
	VDIVPS Y2, Y1, Y1          // mh / (…)
	VMOVUPS (DI)(AX*1), Y4     // p
	VMULPS Y4, Y7, Y5          // decay·p
	VADDPS Y5, Y1, Y1          // … + decay·p
	VMULPS Y1, Y15, Y1         // lr·(…)
	VSUBPS Y1, Y4, Y4          // p − …
	VMOVUPS Y4, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT adamloop
	VZEROUPPER
	RET
