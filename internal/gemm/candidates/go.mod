// A separate module, so that gptviz itself does not depend on the
// candidates it was measured against (issue 15: vek, simd/archsimd).
module github.com/gptviz/gptviz/internal/gemm/candidates

go 1.26

require (
	github.com/gptviz/gptviz v0.0.0
	github.com/viterin/vek v0.4.3
)

require (
	github.com/chewxy/math32 v1.10.1 // indirect
	github.com/viterin/partial v1.1.0 // indirect
	golang.org/x/exp v0.0.0-20230817173708-d852ddb80c63 // indirect
	golang.org/x/sys v0.46.0 // indirect
)

replace github.com/gptviz/gptviz => ../../..
