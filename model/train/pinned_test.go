package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"runtime"
	"testing"

	"github.com/gptviz/gptviz/internal/gemm"
	"github.com/gptviz/gptviz/model/arch"
)

// pinnedParamsSHA256 is the SHA-256 of the parameters' float32 bits after
// trainPinned, computed with the code that trained the embedded default
// model (commit b18956c, AVX2 gemm kernel). A faster kernel, a reordered
// loop or a vectorised op that changes one rounding anywhere in a training
// step changes it, and then train-mix.sh no longer reproduces the shipped
// weights.
const pinnedParamsSHA256 = "1e17846d37e6823572cf97ca3060925c3a88fe8684d142e80ebcbdc869fc1381"

// trainPinned runs 3 steps of a small model with every op of a training
// step in play (dropout, several layers, widths that are multiples of 8
// and a vocabulary that is not) and returns the parameters.
func trainPinned(t *testing.T) []float32 {
	c := arch.Config{VocabSize: 301, NPositions: 32, NEmbd: 64, NLayer: 2, NHead: 4, NInner: 256}
	o := DefaultOptions(c, 3)
	o.BatchSize, o.Dropout, o.Seed = 4, 0.1, 7
	tr, err := New(o, Data{Train: randomData(5000, c.VocabSize, 3)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tr.TrainStep()
	}
	return tr.Params
}

// TestTrainStepsPinned checks that a training step computes exactly what it
// computed when the default model was trained (see pinnedParamsSHA256).
// The pin holds for the fused multiply-add gemm kernels on amd64; the
// portable Go kernel rounds products on their own and gives other bits.
func TestTrainStepsPinned(t *testing.T) {
	if k := gemm.Kernel(); runtime.GOARCH != "amd64" || (k != "avx2" && k != "avx512") {
		t.Skipf("the pin is for the amd64 FMA gemm kernels; this build uses %s on %s", k, runtime.GOARCH)
	}
	h := sha256.New()
	for _, v := range trainPinned(t) {
		h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != pinnedParamsSHA256 {
		t.Errorf("parameters after 3 steps hash to %s, want %s: a training step's arithmetic changed", got, pinnedParamsSHA256)
	}
}
