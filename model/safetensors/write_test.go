package safetensors

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	in := []Tensor{
		// Insertion order is not sorted order: Write must keep it.
		{Name: "z.weight", DType: F32, Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}},
		{Name: "a.half", DType: F16, Shape: []int{4}, Data: []float32{1, 1 + 1.0/2048, 65504, 65520}},
		{Name: "m.bf", DType: BF16, Shape: []int{3}, Data: []float32{1, 1 + 1.0/256, -3}},
		{Name: "scalar", DType: F32, Shape: nil, Data: []float32{7}},
		{Name: "empty", DType: F16, Shape: []int{0, 5}, Data: nil},
	}
	meta := map[string]string{"format": "pt", "note": "ünïcode"}
	if err := Write(path, in, meta); err != nil {
		t.Fatal(err)
	}
	out, gotMeta, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotMeta) != 2 || gotMeta["note"] != "ünïcode" || gotMeta["format"] != "pt" {
		t.Errorf("metadata = %v, want %v", gotMeta, meta)
	}
	var names []string
	for _, o := range out {
		names = append(names, o.Name)
	}
	// The zero-size tensor sorts by offset among its neighbours; every other
	// tensor keeps its insertion order.
	if want := []string{"z.weight", "a.half", "m.bf", "scalar", "empty"}; !slices.Equal(names, want) {
		t.Errorf("names in file order = %v, want %v", names, want)
	}
	want := map[string][]float32{
		"z.weight": in[0].Data,
		// 1+2^-11 is a tie between 1 and 1+2^-10: to even, 1. 65520 is a tie
		// between 65504 and 2^16 (which overflows): to even, +Inf.
		"a.half": {1, 1, 65504, float32(math.Inf(1))},
		"m.bf":   {1, 1, -3}, // 1+2^-8 is a tie between 1 and 1+2^-7: to even, 1
		"scalar": {7},
		"empty":  {},
	}
	for _, o := range out {
		if !slices.Equal(o.Data, want[o.Name]) {
			t.Errorf("%s = %v, want %v", o.Name, o.Data, want[o.Name])
		}
	}
	if out[3].Shape == nil || len(out[3].Shape) != 0 {
		t.Errorf("scalar shape = %#v, want []", out[3].Shape)
	}
	// Header padded to 8 bytes, so F32 data can be shared without a copy.
	raw, _ := os.ReadFile(path)
	if n := int(raw[0]) | int(raw[1])<<8; n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		tensors []Tensor
	}{
		{"duplicate name", []Tensor{{Name: "a", DType: F32, Shape: []int{1}, Data: []float32{1}}, {Name: "a", DType: F32, Shape: []int{1}, Data: []float32{1}}}},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: F32, Shape: []int{1}, Data: []float32{1}}}},
		{"dtype I64", []Tensor{{Name: "a", DType: I64, Shape: []int{1}, Data: []float32{1}}}},
		{"data length", []Tensor{{Name: "a", DType: F32, Shape: []int{2, 2}, Data: []float32{1}}}},
		{"negative dim", []Tensor{{Name: "a", DType: F32, Shape: []int{-1}, Data: nil}}},
		{"overflowing shape", []Tensor{{Name: "a", DType: F32, Shape: []int{1 << 40, 1 << 40}, Data: nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "x.safetensors")
			err := Write(path, tc.tensors, nil)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("a file was written despite %v", err)
			}
		})
	}
}

// TestF16Exhaustive converts every binary16 value to float32 and back.
func TestF16Exhaustive(t *testing.T) {
	t.Parallel()
	for h := range 1 << 16 {
		f := f16ToF32(uint16(h))
		back := f32ToF16(f)
		if f != f { // NaN: must stay NaN
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
}

// TestF16RoundsToNearestEven checks random float32 values against the two
// binary16 neighbours of the result: the result must be nearest, and even on
// a tie.
func TestF16RoundsToNearestEven(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	check := func(x float32) {
		h := f32ToF16(x)
		got := float64(f16ToF32(h))
		if math.IsInf(got, 0) {
			if math.Abs(float64(x)) < 65520 {
				t.Fatalf("%v rounded to %v", x, got)
			}
			return
		}
		for _, nb := range []uint16{h - 1, h + 1} {
			if nb&0x7fff >= 0x7c00 || (h&0x7fff == 0 && nb == h-1) {
				continue
			}
			d, dn := math.Abs(float64(x)-got), math.Abs(float64(x)-float64(f16ToF32(nb)))
			if dn < d || (dn == d && h&1 == 1) {
				t.Fatalf("%v (%#08x) → %#04x = %v, but %#04x = %v is nearer or even", x, math.Float32bits(x), h, got, nb, f16ToF32(nb))
			}
		}
	}
	for range 200000 {
		// Exponents spanning subnormals to overflow, and exact ties.
		x := math.Float32frombits(r.Uint32()&0x807fffff | uint32(100+r.IntN(45))<<23)
		check(x)
		check(math.Float32frombits(math.Float32bits(x)&^0x1fff | 0x1000))
	}
	for _, x := range []float32{0, 1, 65504, 65519.99, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-10} {
		check(x)
		check(-x)
	}
}

func TestBF16(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, to even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81},
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // max float32 rounds to Inf
	} {
		if got := f32ToBF16(tc.in); got != tc.want {
			t.Errorf("f32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(tc.in), got, tc.want)
		}
	}
	if nan := bf16ToF32(f32ToBF16(float32(math.NaN()))); nan == nan {
		t.Errorf("NaN became %v", nan)
	}
}
