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
// trainPinned, by gemm kernel, computed with the code that trained the
// embedded default model (commit b18956c). The fused multiply-add kernels
// (AVX2, AVX-512) sum in the same order and agree; the portable Go kernel
// rounds each product on its own and gives other bits. A faster kernel, a
// reordered loop or a vectorised op that changes one rounding anywhere in
// a training step changes the hash, and then train-mix.sh no longer
// reproduces the shipped weights.
var pinnedParamsSHA256 = map[string]string{
	"avx2":   "1e17846d37e6823572cf97ca3060925c3a88fe8684d142e80ebcbdc869fc1381",
	"avx512": "1e17846d37e6823572cf97ca3060925c3a88fe8684d142e80ebcbdc869fc1381",
	"go":     "cdb729728270fe9323bf339aa8eb6e6293676450e906a31e3ece2591d70477c1",
}

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
// computed when the default model was trained (see pinnedParamsSHA256), on
// whichever gemm kernel runs (GPTVIZ_GEMM=go or -tags purego for the
// portable one). The pins are amd64's: elsewhere math.Exp, which the gelu
// forward uses, may round differently in its last bit. They are also the
// default GOAMD64=v1's: a v3 build lets Go fuse the multiply-adds of the
// serial sums (layer norm, softmax, the portable kernel), trains other
// weights, and fails here, as it should.
func TestTrainStepsPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the pins are amd64's; this is %s", runtime.GOARCH)
	}
	want, ok := pinnedParamsSHA256[gemm.Kernel()]
	if !ok {
		t.Fatalf("no pin for gemm kernel %q", gemm.Kernel())
	}
	h := sha256.New()
	for _, v := range trainPinned(t) {
		h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("kernel %s: parameters after 3 steps hash to %s, want %s: a training step's arithmetic changed", gemm.Kernel(), got, want)
	}
}
