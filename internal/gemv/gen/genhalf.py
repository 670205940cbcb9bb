#!/usr/bin/env python3
"""Writes ../half_amd64.s: the 16-bit-weight kernels of package gemv.

Run from internal/gemv:  python3 gen/genhalf.py

One template, two widenings: F16 loads go through VCVTPH2PS (F16C), BF16
loads are zero-extended to 32 bits and shifted left by 16. Each kernel is
the float32 kernel of gemv_amd64.s with the weight loads replaced.
"""
import re
# The dot4x3 kernels' end: each input row's four 8-lane accumulators
# (rows r in Y0+j, Y3+j, Y6+j, Y9+j) reduced to four sums and stored.
reduce3 = r'''
	VHADDPS Y3, Y0, Y0
	VHADDPS Y9, Y6, Y6
	VHADDPS Y6, Y0, Y0
	VEXTRACTF128 $1, Y0, X12
	VADDPS X12, X0, X0
	VMOVUPS X0, (DX)
	VHADDPS Y4, Y1, Y1
	VHADDPS Y10, Y7, Y7
	VHADDPS Y7, Y1, Y1
	VEXTRACTF128 $1, Y1, X12
	VADDPS X12, X1, X1
	VMOVUPS X1, (DX)(BX*1)
	VHADDPS Y5, Y2, Y2
	VHADDPS Y11, Y8, Y8
	VHADDPS Y8, Y2, Y2
	VEXTRACTF128 $1, Y2, X12
	VADDPS X12, X2, X2
	VMOVUPS X2, (DX)(BX*2)
	VZEROUPPER
	RET
'''
f16 = r'''
// func dot4SUF(x *float32, w *uint16, ld int, n int, out *float32)
//
// out[r] = Σ_{k<n} x[k]·w[r·ld+k], r = 0..3, n a positive multiple of 8,
// the weights TYPE, widened in registers (WIDEN): one accumulator per row
// and dot4x3SUF's reduction, so each output is dot4x3SUF's bit for bit.
TEXT ·dot4SUF(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ ld+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DX
	SHLQ $1, R8
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX

loop:
	VMOVUPS (SI)(AX*4), Y8
	LOAD((DI)(AX*2), Y9)
	VFMADD231PS Y9, Y8, Y0
	LOAD((R9)(AX*2), Y10)
	VFMADD231PS Y10, Y8, Y1
	LOAD((R10)(AX*2), Y11)
	VFMADD231PS Y11, Y8, Y2
	LOAD((R11)(AX*2), Y12)
	VFMADD231PS Y12, Y8, Y3
	ADDQ $8, AX
	CMPQ AX, CX
	JLT  loop

	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET

// func axpy4SUF(out *float32, n int, w *uint16, ld int, x *float32)
//
// out[j] += Σ_{r<4} x[r]·w[r·ld+j] for j < n, n a positive multiple of 16,
// the weights TYPE, widened in registers (WIDEN).
TEXT ·axpy4SUF(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DX
	MOVQ n+8(FP), CX
	MOVQ w+16(FP), DI
	MOVQ ld+24(FP), R8
	MOVQ x+32(FP), SI
	SHLQ $1, R8
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VBROADCASTSS 8(SI), Y14
	VBROADCASTSS 12(SI), Y15
	XORQ AX, AX

loop:
	VMOVUPS (DX)(AX*4), Y0
	VMOVUPS 32(DX)(AX*4), Y1
	LOAD((DI)(AX*2), Y2)
	LOAD(16(DI)(AX*2), Y3)
	LOAD((R9)(AX*2), Y4)
	LOAD(16(R9)(AX*2), Y5)
	VFMADD231PS Y2, Y12, Y0
	VFMADD231PS Y3, Y12, Y1
	LOAD((R10)(AX*2), Y6)
	LOAD(16(R10)(AX*2), Y7)
	VFMADD231PS Y4, Y13, Y0
	VFMADD231PS Y5, Y13, Y1
	LOAD((R11)(AX*2), Y8)
	LOAD(16(R11)(AX*2), Y9)
	VFMADD231PS Y6, Y14, Y0
	VFMADD231PS Y7, Y14, Y1
	VFMADD231PS Y8, Y15, Y0
	VFMADD231PS Y9, Y15, Y1
	VMOVUPS Y0, (DX)(AX*4)
	VMOVUPS Y1, 32(DX)(AX*4)
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  loop
	VZEROUPPER
	RET

// func dot4x3SUF(x *float32, ldx int, w *uint16, ldw int, n int, groups int, out *float32, ldo int, pf *uint16)
//
// out[j·ldo + r] = Σ_{k<n} x[j·ldx+k]·w[r·ldw+k] for four weight rows r and
// 3·groups input rows j, n a positive multiple of 8, the weights TYPE,
// each widened load (WIDEN) serving three fused multiply-adds: dot4x3 of
// gemv_amd64.s on 16-bit weights, its groups run over the same four rows
// (in L1 after the first), and every 16 elements of a pass a cache line
// at pf hinted into L1, pf advancing 32 bytes (so four groups hint the
// four rows that follow, each line twice).
TEXT ·dot4x3SUF(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R12
	MOVQ w+16(FP), DI
	MOVQ ldw+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ out+48(FP), DX
	MOVQ ldo+56(FP), BX
	SHLQ $2, R12
	SHLQ $1, R8
	SHLQ $2, BX
	LEAQ (DI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	MOVQ pf+64(FP), R8
	MOVQ CX, R15
	ANDQ $-16, R15 // elements in whole 16-element pairs of steps

group:
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
	JEQ  tail

loop:
	PREFETCHT0 (R8)
	ADDQ $32, R8
	DOT43STEPSUF(0, 0)
	DOT43STEPSUF(32, 16)
	ADDQ $16, AX
	CMPQ AX, R15
	JLT  loop

tail:
	CMPQ AX, CX
	JGE  reduce
	DOT43STEPSUF(0, 0)

reduce:
REDUCE3G
	LEAQ (R14)(R12*1), SI
	LEAQ (DX)(BX*2), DX
	ADDQ BX, DX
	DECQ groups+40(FP)
	JNZ  group
	VZEROUPPER
	RET

// func dot4x3zSUF(x *float32, ldx int, w *uint16, ldw int, n int, out *float32, ldo int)
//
// dot4x3SUF in 16-float (zmm, AVX-512) lanes, n a positive multiple of 16:
// the same sums as gemv_amd64.s's dot4x3z on the widened weights.
TEXT ·dot4x3zSUF(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R12
	MOVQ w+16(FP), DI
	MOVQ ldw+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), BX
	SHLQ $2, R12
	SHLQ $1, R8
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

loop:
	VMOVUPS (SI)(AX*4), Z12
	VMOVUPS (R13)(AX*4), Z13
	VMOVUPS (R14)(AX*4), Z14
	LOAD((DI)(AX*2), Z15)
	VFMADD231PS Z15, Z12, Z0
	VFMADD231PS Z15, Z13, Z1
	VFMADD231PS Z15, Z14, Z2
	LOAD((R9)(AX*2), Z16)
	VFMADD231PS Z16, Z12, Z3
	VFMADD231PS Z16, Z13, Z4
	VFMADD231PS Z16, Z14, Z5
	LOAD((R10)(AX*2), Z17)
	VFMADD231PS Z17, Z12, Z6
	VFMADD231PS Z17, Z13, Z7
	VFMADD231PS Z17, Z14, Z8
	LOAD((R11)(AX*2), Z18)
	VFMADD231PS Z18, Z12, Z9
	VFMADD231PS Z18, Z13, Z10
	VFMADD231PS Z18, Z14, Z11
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  loop

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
REDUCE3

// func widenSUF(dst *float32, src *uint16, n int)
//
// dst[i] = src[i] widened (WIDEN) for i < n, n a positive multiple of 16.
TEXT ·widenSUF(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX

loop:
	LOAD((SI)(AX*2), Y0)
	LOAD(16(SI)(AX*2), Y1)
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  loop
	VZEROUPPER
	RET
'''
# dot4x3's 8-element step as an assembler macro, one per widening: xo and
# wo are the byte offsets past AX of the input rows' floats (AX*4) and the
# weights' 16-bit elements (AX*2).
step = r'''// DOT43STEPSUF(xo, wo) is one 8-element step of dot4x3SUF: three input rows
// (SI, R13, R14) and four weight rows (DI, R9, R10, R11), widened, into the
// twelve accumulators, weight row r and input row j in Y(3r+j).
#define DOT43STEPSUF(xo, wo) \
	VMOVUPS xo(SI)(AX*4), Y12; \
	VMOVUPS xo(R13)(AX*4), Y13; \
	VMOVUPS xo(R14)(AX*4), Y14; \
	LOAD(wo(DI)(AX*2), Y15); \
	VFMADD231PS Y15, Y12, Y0; \
	VFMADD231PS Y15, Y13, Y1; \
	VFMADD231PS Y15, Y14, Y2; \
	LOAD(wo(R9)(AX*2), Y15); \
	VFMADD231PS Y15, Y12, Y3; \
	VFMADD231PS Y15, Y13, Y4; \
	VFMADD231PS Y15, Y14, Y5; \
	LOAD(wo(R10)(AX*2), Y15); \
	VFMADD231PS Y15, Y12, Y6; \
	VFMADD231PS Y15, Y13, Y7; \
	VFMADD231PS Y15, Y14, Y8; \
	LOAD(wo(R11)(AX*2), Y15); \
	VFMADD231PS Y15, Y12, Y9; \
	VFMADD231PS Y15, Y13, Y10; \
	VFMADD231PS Y15, Y14, Y11
'''

def gen(suf, typ, widen, load):
    reduce3g = reduce3.lstrip('\n').replace('\tVZEROUPPER\n\tRET\n', '')
    s = f16.replace('REDUCE3G\n', reduce3g).replace('REDUCE3\n', reduce3.lstrip('\n')).replace('SUF', suf).replace('TYPE', typ).replace('WIDEN', widen)
    s = '\n' + step.replace('SUF', suf) + '\n' + s
    s = re.sub(r'LOAD\(([^,]+), ([YZ]\d+)\)', lambda m: load(m.group(1), m.group(2)), s)
    # Inside the macro the widening's two BF16 instructions join with ";".
    s = re.sub(r'(VPMOVZXWD [^\n]*)\n\t(VPSLLD [^;\n]*; \\)', r'\1; \2', s)
    return s
out = [
 '// Code generated by gen/genhalf.py; DO NOT EDIT.', '',
 '//go:build !purego', '', '#include "textflag.h"', '',
 '// The F16 and BF16 kernels differ only in how a 16-bit load is widened',
 '// to float32.']
parts = []
for suf, typ, widen, load in [
    ('h', 'F16 (IEEE binary16)', 'VCVTPH2PS, F16C', lambda m, r: f'VCVTPH2PS {m}, {r}'),
    ('b', 'BF16', 'zero-extend to 32 bits, shift left 16', lambda m, r: f'VPMOVZXWD {m}, {r}\n\tVPSLLD $16, {r}, {r}'),
]:
    parts.append(gen(suf, typ, widen, load))
s = '\n'.join(out) + '\n' + '\n'.join(parts)
# labels must be unique per function: make them function-specific
res = []
for block in s.split('\nTEXT '):
    res.append(block)
s2 = res[0]
for b in res[1:]:
    name = b.split('(')[0].lstrip('·')
    for label in ('loop', 'group', 'tail', 'reduce'):
        b = re.sub(r'^' + label + ':', name + label + ':', b, flags=re.M)
        b = re.sub(r'(J[A-Z]+\s+)' + label + r'\b', r'\g<1>' + name + label, b)
    s2 += '\nTEXT ' + b
open('half_amd64.s', 'w').write(s2)
