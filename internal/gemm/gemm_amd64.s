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
