//go:build !purego

#include "textflag.h"

// The constants of math/exp_amd64.s, each repeated in four lanes.
DATA log2e<>+0(SB)/8, $1.4426950408889634073599246810018920
DATA log2e<>+8(SB)/8, $1.4426950408889634073599246810018920
DATA log2e<>+16(SB)/8, $1.4426950408889634073599246810018920
DATA log2e<>+24(SB)/8, $1.4426950408889634073599246810018920
GLOBL log2e<>(SB), RODATA|NOPTR, $32
DATA ln2u<>+0(SB)/8, $0.69314718055966295651160180568695068359375
DATA ln2u<>+8(SB)/8, $0.69314718055966295651160180568695068359375
DATA ln2u<>+16(SB)/8, $0.69314718055966295651160180568695068359375
DATA ln2u<>+24(SB)/8, $0.69314718055966295651160180568695068359375
GLOBL ln2u<>(SB), RODATA|NOPTR, $32
DATA ln2l<>+0(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA ln2l<>+8(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA ln2l<>+16(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA ln2l<>+24(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
GLOBL ln2l<>(SB), RODATA|NOPTR, $32
DATA c0625<>+0(SB)/8, $0.0625
DATA c0625<>+8(SB)/8, $0.0625
DATA c0625<>+16(SB)/8, $0.0625
DATA c0625<>+24(SB)/8, $0.0625
GLOBL c0625<>(SB), RODATA|NOPTR, $32
DATA p8<>+0(SB)/8, $2.4801587301587301587e-5
DATA p8<>+8(SB)/8, $2.4801587301587301587e-5
DATA p8<>+16(SB)/8, $2.4801587301587301587e-5
DATA p8<>+24(SB)/8, $2.4801587301587301587e-5
GLOBL p8<>(SB), RODATA|NOPTR, $32
DATA p7<>+0(SB)/8, $1.9841269841269841270e-4
DATA p7<>+8(SB)/8, $1.9841269841269841270e-4
DATA p7<>+16(SB)/8, $1.9841269841269841270e-4
DATA p7<>+24(SB)/8, $1.9841269841269841270e-4
GLOBL p7<>(SB), RODATA|NOPTR, $32
DATA p6<>+0(SB)/8, $1.3888888888888888889e-3
DATA p6<>+8(SB)/8, $1.3888888888888888889e-3
DATA p6<>+16(SB)/8, $1.3888888888888888889e-3
DATA p6<>+24(SB)/8, $1.3888888888888888889e-3
GLOBL p6<>(SB), RODATA|NOPTR, $32
DATA p5<>+0(SB)/8, $8.3333333333333333333e-3
DATA p5<>+8(SB)/8, $8.3333333333333333333e-3
DATA p5<>+16(SB)/8, $8.3333333333333333333e-3
DATA p5<>+24(SB)/8, $8.3333333333333333333e-3
GLOBL p5<>(SB), RODATA|NOPTR, $32
DATA p4<>+0(SB)/8, $4.1666666666666666667e-2
DATA p4<>+8(SB)/8, $4.1666666666666666667e-2
DATA p4<>+16(SB)/8, $4.1666666666666666667e-2
DATA p4<>+24(SB)/8, $4.1666666666666666667e-2
GLOBL p4<>(SB), RODATA|NOPTR, $32
DATA p3<>+0(SB)/8, $1.6666666666666666667e-1
DATA p3<>+8(SB)/8, $1.6666666666666666667e-1
DATA p3<>+16(SB)/8, $1.6666666666666666667e-1
DATA p3<>+24(SB)/8, $1.6666666666666666667e-1
GLOBL p3<>(SB), RODATA|NOPTR, $32
DATA half<>+0(SB)/8, $0.5
DATA half<>+8(SB)/8, $0.5
DATA half<>+16(SB)/8, $0.5
DATA half<>+24(SB)/8, $0.5
GLOBL half<>(SB), RODATA|NOPTR, $32
DATA one<>+0(SB)/8, $1.0
DATA one<>+8(SB)/8, $1.0
DATA one<>+16(SB)/8, $1.0
DATA one<>+24(SB)/8, $1.0
GLOBL one<>(SB), RODATA|NOPTR, $32
DATA two<>+0(SB)/8, $2.0
DATA two<>+8(SB)/8, $2.0
DATA two<>+16(SB)/8, $2.0
DATA two<>+24(SB)/8, $2.0
GLOBL two<>(SB), RODATA|NOPTR, $32
DATA lo<>+0(SB)/8, $-708.0
DATA lo<>+8(SB)/8, $-708.0
DATA lo<>+16(SB)/8, $-708.0
DATA lo<>+24(SB)/8, $-708.0
GLOBL lo<>(SB), RODATA|NOPTR, $32
DATA hi<>+0(SB)/8, $708.0
DATA hi<>+8(SB)/8, $708.0
DATA hi<>+16(SB)/8, $708.0
DATA hi<>+24(SB)/8, $708.0
GLOBL hi<>(SB), RODATA|NOPTR, $32
DATA bias<>+0(SB)/8, $0x3FF
DATA bias<>+8(SB)/8, $0x3FF
DATA bias<>+16(SB)/8, $0x3FF
DATA bias<>+24(SB)/8, $0x3FF
GLOBL bias<>(SB), RODATA|NOPTR, $32

// EXP4 replaces Y0 (four arguments v) with exp(v), lane by lane as
// math/exp_amd64.s's FMA branch, and clears the lanes of Y9 whose v lies
// outside [Y12, Y13]. Y14 holds 2.0 and Y15 log2(e); clobbers Y1–Y5.
#define EXP4 \
	VCMPPD $0x1D, Y12, Y0, Y2 \
	VCMPPD $0x12, Y13, Y0, Y3 \
	VANDPD Y3, Y2, Y2 \
	VANDPD Y2, Y9, Y9 \
	VMULPD Y15, Y0, Y1 \
	VCVTPD2DQY Y1, X4 \
	VCVTDQ2PD X4, Y1 \
	VFNMADD231PD ln2u<>(SB), Y1, Y0 \
	VFNMADD231PD ln2l<>(SB), Y1, Y0 \
	VMULPD c0625<>(SB), Y0, Y0 \
	VMOVUPD p8<>(SB), Y1 \
	VFMADD213PD p7<>(SB), Y0, Y1 \
	VFMADD213PD p6<>(SB), Y0, Y1 \
	VFMADD213PD p5<>(SB), Y0, Y1 \
	VFMADD213PD p4<>(SB), Y0, Y1 \
	VFMADD213PD p3<>(SB), Y0, Y1 \
	VFMADD213PD half<>(SB), Y0, Y1 \
	VFMADD213PD one<>(SB), Y0, Y1 \
	VMULPD Y1, Y0, Y0 \
	VADDPD Y14, Y0, Y1 \
	VMULPD Y1, Y0, Y0 \
	VADDPD Y14, Y0, Y1 \
	VMULPD Y1, Y0, Y0 \
	VADDPD Y14, Y0, Y1 \
	VMULPD Y1, Y0, Y0 \
	VADDPD Y14, Y0, Y1 \
	VFMADD213PD one<>(SB), Y1, Y0 \
	VPMOVSXDQ X4, Y5 \
	VPADDQ bias<>(SB), Y5, Y5 \
	VPSLLQ $52, Y5, Y5 \
	VMULPD Y5, Y0, Y0

// func expShifted4(out *float64, x *float32, n int, m, d float64) bool
//
// For each group of four: v = (float64(x) − m) / d, then math.Exp's FMA
// branch lane by lane (math/exp_amd64.s, label avxfma): k = round(v·log2e)
// (CVTSD2SL's rounding, to nearest even), r = (v − k·LN2U − k·LN2L)/16 with
// fused multiply-adds, the degree-8 Taylor polynomial by FMA, four
// squarings (y·(y+2), the last fused with +1), and the scaling by 2^k
// built in the exponent bits. Lanes outside [−708, 708] clear the mask
// returned as the result (they would need math.Exp's denormal, overflow or
// NaN branches).
TEXT ·expShifted4(SB), NOSPLIT, $0-41
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD m+24(FP), Y10
	VBROADCASTSD d+32(FP), Y11
	VPCMPEQQ Y9, Y9, Y9
	VMOVUPD lo<>(SB), Y12
	VMOVUPD hi<>(SB), Y13
	VMOVUPD two<>(SB), Y14
	VMOVUPD log2e<>(SB), Y15
	VUCOMISD one<>(SB), X11
	JPS  loop // unordered (NaN d): divide
	JEQ  loop1 // d == 1: v / 1 == v exactly, skip the division

loop:
	VCVTPS2PD (SI), Y0
	VSUBPD Y10, Y0, Y0
	VDIVPD Y11, Y0, Y0
	EXP4
	VMOVUPD Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JNZ  loop
	JMP  done

loop1:
	VCVTPS2PD (SI), Y0
	VSUBPD Y10, Y0, Y0
	EXP4
	VMOVUPD Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JNZ  loop1

done:

	VMOVMSKPD Y9, AX
	VZEROUPPER
	CMPQ AX, $15
	SETEQ ret+40(FP)
	RET

// The constants of math/log_amd64.s, each repeated in four lanes.
DATA hsqrt2<>+0(SB)/8, $7.07106781186547524401e-01
DATA hsqrt2<>+8(SB)/8, $7.07106781186547524401e-01
DATA hsqrt2<>+16(SB)/8, $7.07106781186547524401e-01
DATA hsqrt2<>+24(SB)/8, $7.07106781186547524401e-01
GLOBL hsqrt2<>(SB), RODATA|NOPTR, $32
DATA ln2hi<>+0(SB)/8, $6.93147180369123816490e-01
DATA ln2hi<>+8(SB)/8, $6.93147180369123816490e-01
DATA ln2hi<>+16(SB)/8, $6.93147180369123816490e-01
DATA ln2hi<>+24(SB)/8, $6.93147180369123816490e-01
GLOBL ln2hi<>(SB), RODATA|NOPTR, $32
DATA ln2lo<>+0(SB)/8, $1.90821492927058770002e-10
DATA ln2lo<>+8(SB)/8, $1.90821492927058770002e-10
DATA ln2lo<>+16(SB)/8, $1.90821492927058770002e-10
DATA ln2lo<>+24(SB)/8, $1.90821492927058770002e-10
GLOBL ln2lo<>(SB), RODATA|NOPTR, $32
DATA l1<>+0(SB)/8, $6.666666666666735130e-01
DATA l1<>+8(SB)/8, $6.666666666666735130e-01
DATA l1<>+16(SB)/8, $6.666666666666735130e-01
DATA l1<>+24(SB)/8, $6.666666666666735130e-01
GLOBL l1<>(SB), RODATA|NOPTR, $32
DATA l2<>+0(SB)/8, $3.999999999940941908e-01
DATA l2<>+8(SB)/8, $3.999999999940941908e-01
DATA l2<>+16(SB)/8, $3.999999999940941908e-01
DATA l2<>+24(SB)/8, $3.999999999940941908e-01
GLOBL l2<>(SB), RODATA|NOPTR, $32
DATA l3<>+0(SB)/8, $2.857142874366239149e-01
DATA l3<>+8(SB)/8, $2.857142874366239149e-01
DATA l3<>+16(SB)/8, $2.857142874366239149e-01
DATA l3<>+24(SB)/8, $2.857142874366239149e-01
GLOBL l3<>(SB), RODATA|NOPTR, $32
DATA l4<>+0(SB)/8, $2.222219843214978396e-01
DATA l4<>+8(SB)/8, $2.222219843214978396e-01
DATA l4<>+16(SB)/8, $2.222219843214978396e-01
DATA l4<>+24(SB)/8, $2.222219843214978396e-01
GLOBL l4<>(SB), RODATA|NOPTR, $32
DATA l5<>+0(SB)/8, $1.818357216161805012e-01
DATA l5<>+8(SB)/8, $1.818357216161805012e-01
DATA l5<>+16(SB)/8, $1.818357216161805012e-01
DATA l5<>+24(SB)/8, $1.818357216161805012e-01
GLOBL l5<>(SB), RODATA|NOPTR, $32
DATA l6<>+0(SB)/8, $1.531383769920937332e-01
DATA l6<>+8(SB)/8, $1.531383769920937332e-01
DATA l6<>+16(SB)/8, $1.531383769920937332e-01
DATA l6<>+24(SB)/8, $1.531383769920937332e-01
GLOBL l6<>(SB), RODATA|NOPTR, $32
DATA l7<>+0(SB)/8, $1.479819860511658591e-01
DATA l7<>+8(SB)/8, $1.479819860511658591e-01
DATA l7<>+16(SB)/8, $1.479819860511658591e-01
DATA l7<>+24(SB)/8, $1.479819860511658591e-01
GLOBL l7<>(SB), RODATA|NOPTR, $32
DATA inv_ln2<>+0(SB)/8, $0x3ff71547652b82fe
DATA inv_ln2<>+8(SB)/8, $0x3ff71547652b82fe
DATA inv_ln2<>+16(SB)/8, $0x3ff71547652b82fe
DATA inv_ln2<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL inv_ln2<>(SB), RODATA|NOPTR, $32
DATA mant<>+0(SB)/8, $0x000FFFFFFFFFFFFF
DATA mant<>+8(SB)/8, $0x000FFFFFFFFFFFFF
DATA mant<>+16(SB)/8, $0x000FFFFFFFFFFFFF
DATA mant<>+24(SB)/8, $0x000FFFFFFFFFFFFF
GLOBL mant<>(SB), RODATA|NOPTR, $32
DATA halfbits<>+0(SB)/8, $0x3FE0000000000000
DATA halfbits<>+8(SB)/8, $0x3FE0000000000000
DATA halfbits<>+16(SB)/8, $0x3FE0000000000000
DATA halfbits<>+24(SB)/8, $0x3FE0000000000000
GLOBL halfbits<>(SB), RODATA|NOPTR, $32
DATA magic<>+0(SB)/8, $0x4330000000000000
DATA magic<>+8(SB)/8, $0x4330000000000000
DATA magic<>+16(SB)/8, $0x4330000000000000
DATA magic<>+24(SB)/8, $0x4330000000000000
GLOBL magic<>(SB), RODATA|NOPTR, $32
DATA magic3fe<>+0(SB)/8, $4503599627371518.0
DATA magic3fe<>+8(SB)/8, $4503599627371518.0
DATA magic3fe<>+16(SB)/8, $4503599627371518.0
DATA magic3fe<>+24(SB)/8, $4503599627371518.0
GLOBL magic3fe<>(SB), RODATA|NOPTR, $32
DATA one_l<>+0(SB)/8, $0x3FF0000000000000
DATA one_l<>+8(SB)/8, $0x3FF0000000000000
DATA one_l<>+16(SB)/8, $0x3FF0000000000000
DATA one_l<>+24(SB)/8, $0x3FF0000000000000
GLOBL one_l<>(SB), RODATA|NOPTR, $32
DATA expmax<>+0(SB)/8, $0x7FF
DATA expmax<>+8(SB)/8, $0x7FF
DATA expmax<>+16(SB)/8, $0x7FF
DATA expmax<>+24(SB)/8, $0x7FF
GLOBL expmax<>(SB), RODATA|NOPTR, $32

// func log2x4(out, x *float64, n int) bool
//
// For each group of four: math.Log2 as the amd64 build computes it
// (math/log10.go log2: frexp in Go, then math/log_amd64.s on the fraction,
// then Log(frac)·(1/Ln2) + float64(exp), a multiply and an add rounded
// separately). Lanes that are not positive normal numbers, or are exact
// powers of two (log2's frac == 0.5 branch), clear the mask returned as the
// result; their output is garbage.
TEXT ·log2x4(SB), NOSPLIT, $0-25
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VPCMPEQQ Y15, Y15, Y15 // all lanes good so far
	VMOVUPD mant<>(SB), Y14
	VMOVUPD halfbits<>(SB), Y13
	VMOVUPD one_l<>(SB), Y12
	VPXOR Y11, Y11, Y11

loop:
	VMOVUPD (SI), Y0 // x
	// checks: biased exponent e in [1, 0x7FE] (sign bit clear), mantissa != 0
	VPSRLQ $52, Y0, Y1 // e (with the sign bit at 2^11)
	VPCMPGTQ Y11, Y1, Y2 // e > 0
	VPCMPGTQ expmax<>(SB), Y1, Y3 // e > 0x7FF is false for all positive; e == 0x7FF caught below
	VPANDN Y2, Y3, Y2 // e > 0 && !(e > 0x7FF)
	VPCMPEQQ expmax<>(SB), Y1, Y3
	VPANDN Y2, Y3, Y2 // && e != 0x7FF
	VPAND Y14, Y0, Y4 // mantissa bits
	VPCMPEQQ Y11, Y4, Y3
	VPANDN Y2, Y3, Y2 // && mantissa != 0
	VPAND Y2, Y15, Y15
	// frexp: frac = mantissa | 0.5's exponent; exp = e − 0x3FE as float64
	VPOR Y13, Y4, Y2 // frac (= f1 in log_amd64.s, k = 0 there)
	VPADDQ magic<>(SB), Y1, Y1
	VSUBPD magic3fe<>(SB), Y1, Y1 // float64(exp)
	// log_amd64.s: if f1 <= HSqrt2 (cmpnlt) { k = −1; f1 *= 2 }
	VMOVUPD hsqrt2<>(SB), Y0
	VCMPPD $5, Y2, Y0, Y0 // !(HSqrt2 < f1)
	VANDPD Y12, Y0, Y3 // 0 or 1
	VXORPD Y5, Y5, Y5
	VSUBPD Y3, Y5, Y5 // k = 0 − (0 or 1)
	VADDPD Y12, Y3, Y3 // 1 or 2
	VMULPD Y3, Y2, Y2 // f1
	VSUBPD Y12, Y2, Y2 // f = f1 − 1
	// s = f / (2 + f)
	VADDPD Y12, Y12, Y0 // 2.0
	VADDPD Y2, Y0, Y0
	VDIVPD Y0, Y2, Y3 // s
	VMULPD Y3, Y3, Y4 // s2
	VMULPD Y4, Y4, Y6 // s4
	// t1 = s2·(L1 + s4·(L3 + s4·(L5 + s4·L7)))
	VMULPD l7<>(SB), Y6, Y7
	VADDPD l5<>(SB), Y7, Y7
	VMULPD Y6, Y7, Y7
	VADDPD l3<>(SB), Y7, Y7
	VMULPD Y6, Y7, Y7
	VADDPD l1<>(SB), Y7, Y7
	VMULPD Y7, Y4, Y4 // t1
	// t2 = s4·(L2 + s4·(L4 + s4·L6))
	VMULPD l6<>(SB), Y6, Y7
	VADDPD l4<>(SB), Y7, Y7
	VMULPD Y6, Y7, Y7
	VADDPD l2<>(SB), Y7, Y7
	VMULPD Y7, Y6, Y6 // t2
	VADDPD Y6, Y4, Y4 // R
	// hfsq = 0.5·f·f
	VMULPD halfbits<>(SB), Y2, Y0
	VMULPD Y2, Y0, Y0
	// k·Ln2Hi − ((hfsq − (s·(hfsq+R) + k·Ln2Lo)) − f)
	VADDPD Y0, Y4, Y4
	VMULPD Y4, Y3, Y3
	VMULPD ln2lo<>(SB), Y5, Y4
	VADDPD Y4, Y3, Y3
	VSUBPD Y3, Y0, Y0
	VSUBPD Y2, Y0, Y0
	VMULPD ln2hi<>(SB), Y5, Y5
	VSUBPD Y0, Y5, Y5 // Log(frac)
	// log2 = Log(frac)·(1/Ln2) + float64(exp)
	VMULPD inv_ln2<>(SB), Y5, Y5
	VADDPD Y1, Y5, Y5
	VMOVUPD Y5, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JNZ  loop

	VMOVMSKPD Y15, AX
	VZEROUPPER
	CMPQ AX, $15
	SETEQ ret+24(FP)
	RET

// func div4(x *float64, n int, d float64)
//
// x[i] /= d for i < n, a positive multiple of 4 (VDIVPD: the same
// correctly rounded quotient as Go's scalar division).
TEXT ·div4(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSD d+16(FP), Y1

divloop:
	VMOVUPD (DI), Y0
	VDIVPD Y1, Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ $32, DI
	SUBQ $4, CX
	JNZ  divloop
	VZEROUPPER
	RET

// SUM4 adds the four lanes of Y0 to X8 in lane order (sum += e0; sum +=
// e1; sum += e2; sum += e3); clobbers X6, X7.
#define SUM4 \
	VEXTRACTF128 $1, Y0, X6 \
	VADDSD X0, X8, X8 \
	VPERMILPD $1, X0, X7 \
	VADDSD X7, X8, X8 \
	VADDSD X6, X8, X8 \
	VPERMILPD $1, X6, X7 \
	VADDSD X7, X8, X8

// func expSum4(x *float32, n int, m, d float64) (sum float64, ok bool)
//
// Σ exp((float64(x[i]) − m) / d) over i < n, a positive multiple of 4: the
// exponentials as expShifted4 computes them, added to one accumulator in
// index order (lane 0, 1, 2, 3 of each group), so the sum equals a serial
// loop over math.Exp bit for bit. ok is false when a lane fell outside
// [−708, 708]; the sum is then garbage.
TEXT ·expSum4(SB), NOSPLIT, $0-41
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSD m+16(FP), Y10
	VBROADCASTSD d+24(FP), Y11
	VPCMPEQQ Y9, Y9, Y9
	VMOVUPD lo<>(SB), Y12
	VMOVUPD hi<>(SB), Y13
	VMOVUPD two<>(SB), Y14
	VMOVUPD log2e<>(SB), Y15
	VXORPD X8, X8, X8 // the sum
	VUCOMISD one<>(SB), X11
	JPS  sumloop // unordered (NaN d): divide
	JEQ  sumloop1 // d == 1: v / 1 == v exactly, skip the division

sumloop:
	VCVTPS2PD (SI), Y0
	VSUBPD Y10, Y0, Y0
	VDIVPD Y11, Y0, Y0
	EXP4
	SUM4
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ  sumloop
	JMP  sumdone

sumloop1:
	VCVTPS2PD (SI), Y0
	VSUBPD Y10, Y0, Y0
	EXP4
	SUM4
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ  sumloop1

sumdone:
	VMOVMSKPD Y9, AX
	VZEROUPPER
	MOVSD X8, sum+32(FP)
	CMPQ AX, $15
	SETEQ ok+40(FP)
	RET

// Constants of gelu_new (see gelu.go), each repeated in four lanes.
DATA gA<>+0(SB)/8, $-0.071354816272600249
DATA gA<>+8(SB)/8, $-0.071354816272600249
DATA gA<>+16(SB)/8, $-0.071354816272600249
DATA gA<>+24(SB)/8, $-0.071354816272600249
GLOBL gA<>(SB), RODATA|NOPTR, $32
DATA gB<>+0(SB)/8, $-1.5957691216057308
DATA gB<>+8(SB)/8, $-1.5957691216057308
DATA gB<>+16(SB)/8, $-1.5957691216057308
DATA gB<>+24(SB)/8, $-1.5957691216057308
GLOBL gB<>(SB), RODATA|NOPTR, $32
DATA gZlo<>+0(SB)/8, $-700.0
DATA gZlo<>+8(SB)/8, $-700.0
DATA gZlo<>+16(SB)/8, $-700.0
DATA gZlo<>+24(SB)/8, $-700.0
GLOBL gZlo<>(SB), RODATA|NOPTR, $32
DATA gZhi<>+0(SB)/8, $700.0
DATA gZhi<>+8(SB)/8, $700.0
DATA gZhi<>+16(SB)/8, $700.0
DATA gZhi<>+24(SB)/8, $700.0
GLOBL gZhi<>(SB), RODATA|NOPTR, $32

// func gelu4(out, th, x *float32, n int)
//
// For each group of four: f = float64(x), z = f·fma(gA, f·f, gB) (= −2u),
// z clamped to [−700, 700] by VMAXPD/VMINPD (a NaN z takes the bound:
// the second source), e = exp(z) by EXP4 (math.Exp's FMA branch, bit for
// bit), r = 1/(1+e), out = float32(f·r), and, when th is not nil, th =
// float32((1−e)·r). The lanes are loaded before they are stored, so
// out may equal x.
TEXT ·gelu4(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ th+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VPCMPEQQ Y9, Y9, Y9
	VMOVUPD lo<>(SB), Y12
	VMOVUPD hi<>(SB), Y13
	VMOVUPD two<>(SB), Y14
	VMOVUPD log2e<>(SB), Y15
	VMOVUPD gZlo<>(SB), Y10
	VMOVUPD gZhi<>(SB), Y11
	VMOVUPD one<>(SB), Y8
	XORQ AX, AX

gloop:
	VCVTPS2PD (SI)(AX*4), Y6
	VMULPD Y6, Y6, Y7
	VMOVUPD gA<>(SB), Y0
	VFMADD213PD gB<>(SB), Y7, Y0
	VMULPD Y6, Y0, Y0
	VMAXPD Y10, Y0, Y0
	VMINPD Y11, Y0, Y0
	EXP4
	VADDPD Y8, Y0, Y1
	VDIVPD Y1, Y8, Y1
	VMULPD Y1, Y6, Y2
	VCVTPD2PSY Y2, X2
	VMOVUPS X2, (DI)(AX*4)
	TESTQ DX, DX
	JZ gnext
	VSUBPD Y0, Y8, Y3
	VMULPD Y1, Y3, Y3
	VCVTPD2PSY Y3, X3
	VMOVUPS X3, (DX)(AX*4)

gnext:
	ADDQ $4, AX
	CMPQ AX, CX
	JLT gloop
	VZEROUPPER
	RET

// EXP32 sets Y4 = exp32(Y0 − mx) in eight lanes with exp32's operations in
// its order, each rounded on its own (VMULPS/VADDPS/VSUBPS, no FMA); lanes
// below −87 are computed and then cleared. It expects the constants of
// exp32Consts at AX and, broadcast, mx in Y15, log2e in Y14, ½ in Y13,
// ln2hi in Y12, 1 in Y10, −87 in Y9 and the int32 127 in Y8; it clobbers
// Y0–Y5 and Y7.
#define EXP32 \
	VSUBPS Y15, Y0, Y0; \
	VCMPPS $1, Y9, Y0, Y7; \
	VMULPS Y14, Y0, Y1; \
	VSUBPS Y13, Y1, Y1; \
	VCVTTPS2DQ Y1, Y2; \
	VCVTDQ2PS Y2, Y1; \
	VMULPS Y12, Y1, Y3; \
	VSUBPS Y3, Y0, Y3; \
	VBROADCASTSS 12(AX), Y4; \
	VMULPS Y4, Y1, Y4; \
	VSUBPS Y4, Y3, Y3; \
	VBROADCASTSS 36(AX), Y4; \
	VMULPS Y4, Y3, Y4; \
	VBROADCASTSS 32(AX), Y5; \
	VADDPS Y4, Y5, Y4; \
	VMULPS Y4, Y3, Y4; \
	VBROADCASTSS 28(AX), Y5; \
	VADDPS Y4, Y5, Y4; \
	VMULPS Y4, Y3, Y4; \
	VBROADCASTSS 24(AX), Y5; \
	VADDPS Y4, Y5, Y4; \
	VMULPS Y4, Y3, Y4; \
	VBROADCASTSS 20(AX), Y5; \
	VADDPS Y4, Y5, Y4; \
	VMULPS Y4, Y3, Y4; \
	VADDPS Y4, Y10, Y4; \
	VMULPS Y4, Y3, Y4; \
	VADDPS Y4, Y10, Y4; \
	VPADDD Y8, Y2, Y2; \
	VPSLLD $23, Y2, Y2; \
	VMULPS Y2, Y4, Y4; \
	VANDNPS Y4, Y7, Y4

// EXP32CONSTS loads EXP32's registers from the constants at AX (mx, in
// Y15, is the caller's).
#define EXP32CONSTS \
	VBROADCASTSS 0(AX), Y14; \
	VBROADCASTSS 4(AX), Y13; \
	VBROADCASTSS 8(AX), Y12; \
	VBROADCASTSS 16(AX), Y10; \
	VBROADCASTSS 40(AX), Y9; \
	MOVL $127, DX; \
	MOVD DX, X8; \
	VPBROADCASTD X8, Y8

// func exp32x8(row *float32, n int, mx float32, c *[11]float32)
//
// row[i] = exp32(row[i] − mx) for i < n (a positive multiple of 8), eight
// lanes at a time (EXP32). c: log2e, ½, ln2hi, ln2lo, 1, 1/2, 1/6, 1/24,
// 1/120, 1/720, −87.
TEXT ·exp32x8(SB), NOSPLIT, $0-32
	MOVQ row+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	MOVQ c+24(FP), AX
	EXP32CONSTS

exp32loop:
	VMOVUPS (SI), Y0
	EXP32
	VMOVUPS Y4, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ exp32loop
	VZEROUPPER
	RET

// func sumExp32x8(x *float32, n int, mx float32, c *[11]float32, lanes *[8]float64)
//
// lanes[j] += float64(exp32(x[i] − mx)) for i < n (a positive multiple of
// 8), j = i mod 8, in index order: EXP32, then each lane widened to
// float64 and added to its sum (Y6: lanes 0–3, Y11: lanes 4–7).
TEXT ·sumExp32x8(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	MOVQ c+24(FP), AX
	MOVQ lanes+32(FP), DI
	EXP32CONSTS
	VMOVUPD (DI), Y6
	VMOVUPD 32(DI), Y11

sumexp32loop:
	VMOVUPS (SI), Y0
	EXP32
	VCVTPS2PD X4, Y5         // lanes 0–3 as float64
	VADDPD Y5, Y6, Y6
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD X4, Y4         // lanes 4–7
	VADDPD Y4, Y11, Y11
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ sumexp32loop
	VMOVUPD Y6, (DI)
	VMOVUPD Y11, 32(DI)
	VZEROUPPER
	RET

// func geluGrad8(dinp, dout, x, th *float32, n int, c *[4]float32)
//
// dinp[i] += geluGradOne(dout[i], x[i], th[i]) for i < n (a positive
// multiple of 8), eight lanes at a time with geluGradOne's float32
// operations in its order, each rounded on its own (VMULPS/VADDPS/VSUBPS,
// no FMA), so every lane equals the Go loop bit for bit.
// c: 3·0.044715, √(2/π), 1, ½ (as float32).
TEXT ·geluGrad8(SB), NOSPLIT, $0-48
	MOVQ dinp+0(FP), DI
	MOVQ dout+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ th+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), R8
	SHLQ $2, CX
	VBROADCASTSS 0(R8), Y10  // 3·0.044715
	VBROADCASTSS 4(R8), Y11  // √(2/π)
	VBROADCASTSS 8(R8), Y12  // 1
	VBROADCASTSS 12(R8), Y13 // ½
	XORQ AX, AX

ggloop:
	VMOVUPS (DX)(AX*1), Y0   // x
	VMOVUPS (BX)(AX*1), Y1   // t
	VMULPS Y10, Y0, Y2       // 3·0.044715·x
	VMULPS Y0, Y2, Y2        // …·x
	VADDPS Y2, Y12, Y2       // 1 + …
	VMULPS Y2, Y11, Y2       // √(2/π)·(…)
	VMULPS Y1, Y1, Y3        // t·t
	VSUBPS Y3, Y12, Y3       // 1 − t·t
	VMULPS Y3, Y2, Y2        // dt
	VADDPS Y1, Y12, Y4       // 1 + t
	VMULPS Y4, Y13, Y4       // ½·(1 + t)
	VMULPS Y0, Y13, Y5       // ½·x
	VMULPS Y2, Y5, Y5        // ½·x·dt
	VADDPS Y5, Y4, Y4        // ½(1 + t) + ½x·dt
	VMULPS (SI)(AX*1), Y4, Y4 // dout·(…)
	VADDPS (DI)(AX*1), Y4, Y4 // dinp + …
	VMOVUPS Y4, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT ggloop
	VZEROUPPER
	RET
