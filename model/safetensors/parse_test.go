package safetensors

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// build assembles a file from a header and dataLen zero bytes of data.
func build(header string, dataLen int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, dataLen)...)
}

// withLen replaces the header-length prefix of b.
func withLen(b []byte, n uint64) []byte {
	binary.LittleEndian.PutUint64(b, n)
	return b
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	const two = `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	for _, tc := range []struct {
		name   string
		file   []byte
		kind   error
		tensor string // the Error's Tensor
		offset int64  // the Error's Offset
		detail string // a substring of the message
	}{
		{"empty file", nil, ErrHeader, "", 0, "fewer than the 8-byte"},
		{"truncated length", []byte{1, 0, 0}, ErrHeader, "", 0, "3 bytes"},
		{"header length huge", withLen(build(`{}`, 0), 1<<40), ErrHeaderLen, "", 0, "exceeds the limit 100000000"},
		{"header length beyond file", withLen(build(`{}`, 0), 3), ErrHeaderLen, "", 0, "runs past the end"},
		{"invalid JSON", build(`{"a":{`, 0), ErrHeader, "a", 8 + 5, "unexpected EOF"},
		{"not an object", build(`[1]`, 0), ErrHeader, "", 8, `found [ where "{"`},
		{"invalid UTF-8", build("{\"\xff\":1}", 0), ErrHeader, "", 10, "not valid UTF-8"},
		{"data after object", build(`{} {}`, 0), ErrHeader, "", 8 + 3, "data after the header"},
		{"duplicate tensor", build(`{`+two+`,`+two+`}`, 8), ErrDuplicate, "a", 8 + int64(len(two)) + 2, "more than once"},
		{"duplicate metadata key", build(`{"__metadata__":{"k":"1","k":"2"}}`, 0), ErrDuplicate, "k", 8 + 25, ""},
		{"metadata value not string", build(`{"__metadata__":{"k":1}}`, 0), ErrHeader, "k", 8 + 21, "__metadata__ value"},
		{"unknown dtype", build(`{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}`, 8), ErrDType, "a", 13, `"F33"`},
		{"unknown field", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, 8), ErrHeader, "a", 13, `unknown field "x"`},
		{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, 8), ErrHeader, "a", 13, "shape must be"},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8), ErrHeader, "a", 13, "shape must be"},
		{"three offsets", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, 8), ErrHeader, "a", 13, "data_offsets must be"},
		{"shape overflow", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8), ErrOverflow, "a", 13, "overflows"},
		{"offset beyond any file", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551615,8]}}`, 8), ErrOffsets, "a", 13, "beyond any file"},
		{"wrong byte size", build(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, 8), ErrSize, "a", 8 + 54, "needs 4"},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12), ErrOffsets, "b", 8 + 108 + 8, "gap"},
		{"gap at start", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrOffsets, "a", 8 + 54 + 4, "gap"},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrOffsets, "b", 8 + 107 + 4, "overlap"},
		{"end before begin", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, 4), ErrOffsets, "c", 8 + 160 + 4, "end before"},
		{"trailing bytes", build(`{`+two+`}`, 12), ErrOffsets, "", 8 + 54 + 8, "4 trailing bytes"},
		{"truncated data", build(`{`+two+`}`, 5), ErrOffsets, "a", 8 + 54, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.safetensors", tc.file)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v, want an *Error", err)
			}
			if !errors.Is(err, tc.kind) || e.Tensor != tc.tensor || e.Offset != tc.offset || !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("got  %v\n(kind %v, tensor %q, offset %d)\nwant kind %v, tensor %q, offset %d, message containing %q",
					err, e.Kind, e.Tensor, e.Offset, tc.kind, tc.tensor, tc.offset, tc.detail)
			}
			if !strings.HasPrefix(err.Error(), "safetensors bad.safetensors") {
				t.Errorf("message %q does not name the file", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		file  []byte
		names []string
	}{
		{"empty header", build(`{}`, 0), nil},
		{"space padding", build(`{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}   `, 3), []string{"a"}},
		{"out-of-order entries", build(`{"b":{"dtype":"I64","shape":[],"data_offsets":[2,10]},"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}`, 10), []string{"a", "b"}},
		{"zero-size tensors", build(`{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), []string{"a", "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("ok.safetensors", tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ti := range f.Tensors() {
				names = append(names, ti.Name)
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("tensors %v, want %v", names, tc.names)
			}
		})
	}
}

func TestConversions(t *testing.T) {
	t.Parallel()
	file := build(`{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"f":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}`, 24)
	start := len(file) - 24
	binary.LittleEndian.PutUint64(file[start:], uint64(50256))
	binary.LittleEndian.PutUint64(file[start+8:], ^uint64(0)) // -1
	f, err := Parse("c.safetensors", file)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := f.Int64("ids")
	if err != nil || !slices.Equal(ids, []int64{50256, -1}) {
		t.Errorf("Int64 = %v, %v", ids, err)
	}
	if _, err := f.Float32("ids"); !errors.Is(err, ErrConvert) || !strings.Contains(err.Error(), `"ids"`) {
		t.Errorf("Float32(I64) error = %v, want ErrConvert naming the tensor", err)
	}
	if _, err := f.Int64("f"); !errors.Is(err, ErrConvert) {
		t.Errorf("Int64(F64) error = %v, want ErrConvert", err)
	}
	if _, err := f.Float32("nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Float32(absent) error = %v, want ErrNotFound naming it", err)
	}
}

// TestF32Unaligned reads F32 data that starts at an odd address: it must be
// copied, not shared through a misaligned pointer.
func TestF32Unaligned(t *testing.T) {
	t.Parallel()
	file := build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8) // header of 55 bytes
	binary.LittleEndian.PutUint32(file[len(file)-8:], 0x3f800000)
	binary.LittleEndian.PutUint32(file[len(file)-4:], 0xc0000000)
	f, err := Parse("u.safetensors", file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Float32("a")
	if err != nil || !slices.Equal(got, []float32{1, -2}) {
		t.Errorf("Float32 = %v, %v; want [1 -2]", got, err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "absent.safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(absent) = %v, want ErrNotExist", err)
	}
	short := filepath.Join(dir, "short.safetensors")
	os.WriteFile(short, []byte{1, 2}, 0o644)
	if _, err := Open(short); !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), short) {
		t.Errorf("Open(2 bytes) = %v, want ErrHeader naming the path", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), 0o644)
	if _, err := Open(bad); !errors.Is(err, ErrOffsets) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Open(truncated) = %v, want ErrOffsets naming the path", err)
	}
}
