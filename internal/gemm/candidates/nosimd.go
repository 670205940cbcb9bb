//go:build !(goexperiment.simd && amd64)

package candidates

const haveSIMD = false

func simdMul(c, a, b, bp []float32, m, k, n int) { panic("archsimd not built") }

func simdMul4(c, a, b, bp []float32, m, k, n int) { panic("archsimd not built") }
