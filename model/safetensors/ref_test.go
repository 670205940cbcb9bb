package safetensors

import (
	"math"
	"testing"

	"github.com/gptviz/gptviz/internal/testref"
)

// TestReferenceFiles opens the shared reference checkpoints and spot-checks
// their layout and a few values against bytes decoded independently.
func TestReferenceFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, name string
		dtype     DType
		shape     []int
		count     int
	}{
		{"gpt2-tiny-random", "h.0.attn.c_attn.weight", F32, []int{32, 96}, 30},
		{"tiny-prefix-f16", "transformer.h.0.attn.c_attn.weight", F16, []int{48, 144}, 40},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			f, err := Open(testref.Path(t, tc.dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if len(f.Tensors()) != tc.count || f.Metadata["format"] != "pt" {
				t.Errorf("%d tensors, metadata %v; want %d tensors, format pt", len(f.Tensors()), f.Metadata, tc.count)
			}
			info, ok := f.Info(tc.name)
			if !ok || info.DType != tc.dtype || len(info.Shape) != 2 || info.Shape[0] != tc.shape[0] || info.Shape[1] != tc.shape[1] {
				t.Fatalf("Info(%q) = %+v, %v", tc.name, info, ok)
			}
			data, err := f.Float32(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := f.Bytes(tc.name)
			if len(data) != tc.shape[0]*tc.shape[1] {
				t.Fatalf("%d elements", len(data))
			}
			for _, i := range []int{0, 1, len(data) / 2, len(data) - 1} {
				var want float32
				if tc.dtype == F32 {
					want = decodeF32(raw[4*i:])
				} else {
					want = f16ToF32(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
				}
				if data[i] != want || want == 0 {
					t.Errorf("element %d = %v, want %v (nonzero)", i, data[i], want)
				}
			}
		})
	}
}

func decodeF32(b []byte) float32 {
	return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}
