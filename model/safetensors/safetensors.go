// Package safetensors reads and writes checkpoints in the safetensors format
// (https://github.com/huggingface/safetensors), the format Hugging Face uses
// for model weights.
//
// A safetensors file is three parts:
//
//	bytes [0, 8)      N, the header length, a little-endian uint64
//	bytes [8, 8+N)    the header: a JSON object, UTF-8, optionally padded with spaces
//	bytes [8+N, end)  the data buffer: every tensor's elements, little-endian, row-major
//
// The header maps each tensor name to its dtype, shape and data_offsets
// [begin, end), byte offsets relative to the start of the data buffer. The
// optional key "__metadata__" holds a map of strings:
//
//	{"__metadata__": {"format": "pt"},
//	 "wte.weight": {"dtype": "F32", "shape": [50257, 768], "data_offsets": [0, 154389504]}, ...}
//
// Parse and Open validate a file the way the reference implementation does:
// the header length is at most MaxHeaderSize and inside the file, the header is
// valid UTF-8 JSON with no duplicate names, every dtype is known, every byte
// size equals product(shape) × dtype size (checked for overflow), and the
// tensors, sorted by offset, tile the data buffer from 0 to its end with no
// gaps, overlaps or trailing bytes. Every violation is an *Error naming the
// file, the tensor and the byte offset; its Kind is one of the Err* values,
// for use with errors.Is.
package safetensors

import (
	"errors"
	"fmt"
	"strings"
)

// MaxHeaderSize is the largest header length accepted, in bytes, the limit of
// the reference implementation.
const MaxHeaderSize = 100_000_000

// MaxFileBytes is the largest safetensors file Open accepts (and model
// loading reads from an fs.FS), 64 GiB: ten times gpt2-xl's 6.4 GB, and
// more than any model this float32 engine could hold in memory.
const MaxFileBytes = 64 << 30

// DType is a tensor element type as spelled in the header ("F32", "BF16", ...).
type DType string

// The dtypes of the safetensors specification. Only F32, F16 and BF16 convert
// to float32 (File.Float32); integer dtypes read with File.Int64.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size is the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// Tensor is a named float tensor to write with Write, or one read back with
// ReadAll. Data holds product(Shape) elements, row-major; DType is the type
// stored in the file (F32, F16 or BF16; Write rounds to it).
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []float32
}

// TensorInfo describes one tensor of a parsed file.
type TensorInfo struct {
	Name   string
	DType  DType
	Shape  []int // [] for a scalar
	Offset int64 // absolute byte offset of the tensor's first byte in the file
	Size   int64 // bytes: product(Shape) × DType.Size()
}

// NumElements is product(Shape); 1 for a scalar.
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d // cannot overflow: the parser checked product(Shape) × size
	}
	return n
}

// The kinds of Error; test with errors.Is.
var (
	ErrHeader    = errors.New("invalid header")                              // short file, bad UTF-8 or JSON, bad fields
	ErrHeaderLen = errors.New("header length out of range")                  // > MaxHeaderSize or beyond the file
	ErrDuplicate = errors.New("duplicate name")                              // a tensor or metadata key appears twice
	ErrDType     = errors.New("unknown dtype")                               // not one of the specification's dtypes
	ErrOffsets   = errors.New("invalid data offsets")                        // gap, overlap, trailing bytes, past the end
	ErrSize      = errors.New("byte size does not match dtype and shape")    // end-begin ≠ product(shape) × size
	ErrOverflow  = errors.New("shape too large")                             // product(shape) × size overflows
	ErrNotFound  = errors.New("no such tensor")                              // a lookup by name failed
	ErrConvert   = errors.New("dtype cannot be converted to the asked type") // e.g. I64 read as float32
)

// Error is a problem with one safetensors file, modelled on encoding/csv's
// ParseError: it says which file, which tensor and which byte.
type Error struct {
	File   string // the path or name given to Open or Parse
	Tensor string // the tensor (or metadata key) concerned; "" for the file as a whole
	Offset int64  // absolute byte offset in the file where the problem lies; -1 when none applies
	Kind   error  // one of the Err* values
	Detail string // what was found, in words; may be ""
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "safetensors %s", e.File)
	if e.Tensor != "" {
		fmt.Fprintf(&b, ": tensor %q", e.Tensor)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at byte %d", e.Offset)
	}
	fmt.Fprintf(&b, ": %v", e.Kind)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns Kind, so errors.Is(err, ErrOffsets) works.
func (e *Error) Unwrap() error { return e.Kind }
