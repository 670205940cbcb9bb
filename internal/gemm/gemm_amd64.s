//go:build !purego

#include "textflag.h"

// func gemm4x16(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)
//
// C[4,16] += A[4,k] @ B[k,16], row-major with leading dimensions lda, ldb,
// ldc (in float32s). AVX2 + FMA: per k, two 8-wide loads of B, four
// broadcasts of A and eight fused multiply-adds into eight accumulators.
TEXT ·gemm4x16(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R10
	MOVQ k+48(FP), CX
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10
	LEAQ (SI)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JEQ store

loop:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R11), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R12), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (R13), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ R9, DI
	DECQ CX
	JNZ loop

store:
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	ADDQ R10, DX
	VADDPS (DX), Y2, Y2
	VMOVUPS Y2, (DX)
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y3, 32(DX)
	ADDQ R10, DX
	VADDPS (DX), Y4, Y4
	VMOVUPS Y4, (DX)
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R10, DX
	VADDPS (DX), Y6, Y6
	VMOVUPS Y6, (DX)
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func gemm1x16(a *float32, b *float32, ldb int, c *float32, k int)
//
// C[1,16] += A[1,k] @ B[k,16], B row-major with leading dimension ldb (in
// float32s): one row of a decode step. Two accumulator pairs over even and
// odd k shorten the FMA dependency chain.
TEXT ·gemm1x16(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ ldb+16(FP), R9
	MOVQ c+24(FP), DX
	MOVQ k+32(FP), CX
	SHLQ $2, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ CX, $2
	JLT tail1

pair1:
	VBROADCASTSS (SI), Y10
	VFMADD231PS (DI), Y10, Y0
	VFMADD231PS 32(DI), Y10, Y1
	ADDQ R9, DI
	VBROADCASTSS 4(SI), Y11
	VFMADD231PS (DI), Y11, Y2
	VFMADD231PS 32(DI), Y11, Y3
	ADDQ R9, DI
	ADDQ $8, SI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE pair1

tail1:
	TESTQ CX, CX
	JEQ store1
	VBROADCASTSS (SI), Y10
	VFMADD231PS (DI), Y10, Y0
	VFMADD231PS 32(DI), Y10, Y1

store1:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func packT8(dst, b *float32, ldb, k int)
//
// Packs 8 rows of a transposed B into 8 columns of a 16-wide panel:
// dst[p·16 + j] = b[j·ldb + p] for j < 8 and p < k, a positive multiple
// of 8. Each 8×8 block is loaded as eight rows, transposed in registers
// (unpack, shuffle, 128-bit permute) and stored as eight panel rows. It
// moves values only.
TEXT ·packT8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	MOVQ k+24(FP), CX
	SHLQ $2, R8
	LEAQ (SI)(R8*2), R10
	ADDQ R8, R10            // row 3
	LEAQ (SI)(R8*4), R11    // row 4
	LEAQ (R11)(R8*2), R12
	ADDQ R8, R12            // row 7
	SHRQ $3, CX             // 8×8 blocks

packt8loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R10), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(R8*1), Y5
	VMOVUPS (R11)(R8*2), Y6
	VMOVUPS (R12), Y7
	VUNPCKLPS Y1, Y0, Y8    // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
	VUNPCKHPS Y1, Y0, Y9    // r0[2] r1[2] r0[3] r1[3] | …
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0  // r0..r3 [0] | [4]
	VSHUFPS $0xEE, Y10, Y8, Y1  // r0..r3 [1] | [5]
	VSHUFPS $0x44, Y11, Y9, Y2  // [2] | [6]
	VSHUFPS $0xEE, Y11, Y9, Y3  // [3] | [7]
	VSHUFPS $0x44, Y14, Y12, Y4 // r4..r7 [0] | [4]
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8  // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9  // column 1
	VPERM2F128 $0x20, Y6, Y2, Y10 // column 2
	VPERM2F128 $0x20, Y7, Y3, Y11 // column 3
	VPERM2F128 $0x31, Y4, Y0, Y12 // column 4
	VPERM2F128 $0x31, Y5, Y1, Y13 // column 5
	VPERM2F128 $0x31, Y6, Y2, Y14 // column 6
	VPERM2F128 $0x31, Y7, Y3, Y15 // column 7
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)
	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $512, DI
	DECQ CX
	JNZ packt8loop
	VZEROUPPER
	RET

// func packN16(dst, b *float32, ldb, k int)
//
// dst[p·16 + j] = b[p·ldb + j] for j < 16 and p < k (k > 0): a plain B's
// 16-wide panel, two 32-byte moves a step instead of a memmove call.
TEXT ·packN16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	MOVQ k+24(FP), CX
	SHLQ $2, R8

packn16loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ R8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ packn16loop
	VZEROUPPER
	RET
