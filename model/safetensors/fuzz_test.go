package safetensors

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseHeader feeds arbitrary bytes to Parse: it must never panic, every
// failure must be an *Error naming the file, and every accepted file must
// tile its data buffer exactly and read back without panicking.
func FuzzParseHeader(f *testing.F) {
	for _, h := range []string{
		`{}`,
		`{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F16","shape":[2,1],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]}}`,
		`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}}`,
		"{\"\xff\":1}",
	} {
		f.Add(build(h, 8))
	}
	path := filepath.Join(f.TempDir(), "seed.safetensors")
	if err := Write(path, []Tensor{{Name: "w", DType: F16, Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.safetensors", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.safetensors" || e.Kind == nil {
				t.Fatalf("error %v is not an *Error naming the file", err)
			}
			return
		}
		var total int64
		for _, ti := range file.Tensors() {
			total += ti.Size
			if ti.Offset < 8 || ti.Offset+ti.Size > int64(len(data)) {
				t.Fatalf("tensor %q at [%d, %d) outside the %d-byte file", ti.Name, ti.Offset, ti.Offset+ti.Size, len(data))
			}
			if vals, err := file.Float32(ti.Name); err == nil && len(vals) != ti.NumElements() {
				t.Fatalf("tensor %q: %d values, want %d", ti.Name, len(vals), ti.NumElements())
			}
			file.Int64(ti.Name)
		}
		if n := int64(len(data)) - total; len(file.Tensors()) > 0 && n != file.Tensors()[0].Offset {
			t.Fatalf("tensors cover %d bytes of a %d-byte file whose data starts at %d", total, len(data), file.Tensors()[0].Offset)
		}
	})
}
