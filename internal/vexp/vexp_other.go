//go:build !amd64 || purego

package vexp

// useAsm is false where no assembly kernel exists.
var useAsm = false

func expShifted4(out *float64, x *float32, n int, m, d float64) bool {
	panic("vexp: expShifted4 without assembly")
}

func log2x4(out, x *float64, n int) bool {
	panic("vexp: log2x4 without assembly")
}

func div4(x *float64, n int, d float64) {
	panic("vexp: div4 without assembly")
}

func expSum4(x *float32, n int, m, d float64) (float64, bool) {
	panic("vexp: expSum4 without assembly")
}

func gelu4(out, th, x *float32, n int) {
	panic("vexp: gelu4 without assembly")
}

func exp32x8(row *float32, n int, mx float32, c *[11]float32) {
	panic("vexp: exp32x8 without assembly")
}

func sumExp32x8(x *float32, n int, mx float32, c *[11]float32, lanes *[8]float64) {
	panic("vexp: sumExp32x8 without assembly")
}

func geluGrad8(dinp, dout, x, th *float32, n int, c *[4]float32) {
	panic("vexp: geluGrad8 without assembly")
}
