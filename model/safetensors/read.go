package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/gptviz/gptviz/internal/inputfile"
)

// File is a parsed, validated safetensors file whose bytes are held in memory
// (Parse) or memory-mapped (Open).
//
// Slices returned by Float32 for F32 tensors, and by Bytes, may share memory
// with the File: they stay valid until Close and no longer.
type File struct {
	Name     string            // path or name, as given to Open or Parse, used in errors
	Metadata map[string]string // the "__metadata__" map; nil when absent

	tensors []TensorInfo   // in order of their data
	index   map[string]int // name → position in tensors
	data    []byte         // the whole file
	release func() error   // unmaps data; nil when data is ordinary memory
}

// Parse validates data, the whole contents of a safetensors file, and returns
// the File reading from it; name is used in errors. The File keeps data, and
// F32 tensors may share it: do not modify data while they are in use.
// Errors are *Error values (see the package documentation).
func Parse(name string, data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, &Error{File: name, Offset: 0, Kind: ErrHeader, Detail: fmt.Sprintf("file has %d bytes, fewer than the 8-byte header length", len(data))}
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, &Error{File: name, Offset: 0, Kind: ErrHeaderLen, Detail: fmt.Sprintf("header length %d exceeds the limit %d", n, MaxHeaderSize)}
	}
	if n > uint64(len(data)-8) {
		return nil, &Error{File: name, Offset: 0, Kind: ErrHeaderLen, Detail: fmt.Sprintf("header length %d runs past the end of the %d-byte file", n, len(data))}
	}
	metadata, tensors, err := parseHeader(name, data[8:8+n], int64(len(data))-8-int64(n))
	if err != nil {
		return nil, err
	}
	f := &File{Name: name, Metadata: metadata, tensors: tensors, data: data, index: make(map[string]int, len(tensors))}
	for i, t := range tensors {
		f.index[t.Name] = i
	}
	return f, nil
}

// Open memory-maps the file at path (on Linux and the BSDs, read-only
// private mapping: writing to a returned slice copies the page and never
// touches the file) or, where mapping is unavailable, reads it whole, then
// validates it as Parse does. Only the header is read at Open; tensor bytes
// are paged in when used, so a large F32 checkpoint costs about its file size
// in resident memory, not twice that. Call Close to release the mapping.
// The file must not be truncated while mapped (that would fault on access).
// A path that is not a regular file (a named pipe, a device) or is larger
// than MaxFileBytes is refused with an *inputfile.Error.
func Open(path string) (*File, error) {
	fh, st, err := inputfile.Open(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	if st.Size() < 8 {
		return nil, &Error{File: path, Offset: 0, Kind: ErrHeader, Detail: fmt.Sprintf("file has %d bytes, fewer than the 8-byte header length", st.Size())}
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, fmt.Errorf("safetensors: %s: %d bytes do not fit in memory", path, st.Size())
	}
	data, release, err := mapFile(fh, int(st.Size()))
	if err != nil {
		data = make([]byte, st.Size())
		if _, err := io.ReadFull(io.NewSectionReader(fh, 0, st.Size()), data); err != nil {
			return nil, fmt.Errorf("safetensors: read %s: %w", path, err)
		}
		release = nil
	}
	f, err := Parse(path, data)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	f.release = release
	return f, nil
}

// Close releases the memory mapping, if any. Slices that share the File's
// memory must not be used afterwards. Close is idempotent.
func (f *File) Close() error {
	f.data = nil
	if f.release == nil {
		return nil
	}
	err := f.release()
	f.release = nil
	if err != nil {
		return fmt.Errorf("safetensors: close %s: %w", f.Name, err)
	}
	return nil
}

// Tensors lists every tensor, in order of its data in the file.
func (f *File) Tensors() []TensorInfo { return f.tensors }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Bytes returns the stored bytes of the named tensor, little-endian, sharing
// the File's memory. The error is an *Error of kind ErrNotFound.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, &Error{File: f.Name, Tensor: name, Offset: -1, Kind: ErrNotFound}
	}
	if f.data == nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q: the file is closed", f.Name, name)
	}
	return f.data[t.Offset : t.Offset+t.Size : t.Offset+t.Size], nil
}

// littleEndian reports whether the host stores a uint32 least significant
// byte first, as safetensors does.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Float32 returns the named tensor's product(shape) elements as float32,
// row-major. F32 data is shared with the File (no copy) when the host is
// little-endian and the data is 4-byte aligned, and copied otherwise; F16 and
// BF16 are converted exactly into a new slice. Other dtypes give an *Error of
// kind ErrConvert; an absent name, ErrNotFound.
func (f *File) Float32(name string) ([]float32, error) {
	b, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	t, _ := f.Info(name)
	n := t.NumElements()
	switch t.DType {
	case F32:
		if n == 0 {
			return []float32{}, nil
		}
		if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
			return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), nil
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case F16, BF16:
		conv := f16ToF32
		if t.DType == BF16 {
			conv = bf16ToF32
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = conv(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, nil
	}
	return nil, &Error{File: f.Name, Tensor: name, Offset: t.Offset, Kind: ErrConvert, Detail: fmt.Sprintf("%s to float32", t.DType)}
}

// Uint16 returns the named F16 or BF16 tensor's product(shape) elements as
// their 16-bit patterns, row-major, without converting them: shared with
// the File (no copy) when the host is little-endian and the data is 2-byte
// aligned, else copied into a new slice of the tensor's size. Other dtypes
// give an *Error of kind ErrConvert; an absent name, ErrNotFound.
func (f *File) Uint16(name string) ([]uint16, error) {
	b, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	t, _ := f.Info(name)
	if t.DType != F16 && t.DType != BF16 {
		return nil, &Error{File: f.Name, Tensor: name, Offset: t.Offset, Kind: ErrConvert, Detail: fmt.Sprintf("%s to 16-bit float", t.DType)}
	}
	n := t.NumElements()
	if n == 0 {
		return []uint16{}, nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n), nil
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out, nil
}

// Int64 returns the named tensor's elements as int64, copied, for the integer
// dtypes I8, I16, I32, I64, U8, U16 and U32 (token ids, for example). Other
// dtypes give an *Error of kind ErrConvert; an absent name, ErrNotFound.
func (f *File) Int64(name string) ([]int64, error) {
	b, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	t, _ := f.Info(name)
	le := binary.LittleEndian
	get := map[DType]func(i int) int64{
		I8:  func(i int) int64 { return int64(int8(b[i])) },
		U8:  func(i int) int64 { return int64(b[i]) },
		I16: func(i int) int64 { return int64(int16(le.Uint16(b[2*i:]))) },
		U16: func(i int) int64 { return int64(le.Uint16(b[2*i:])) },
		I32: func(i int) int64 { return int64(int32(le.Uint32(b[4*i:]))) },
		U32: func(i int) int64 { return int64(le.Uint32(b[4*i:])) },
		I64: func(i int) int64 { return int64(le.Uint64(b[8*i:])) },
	}[t.DType]
	if get == nil {
		return nil, &Error{File: f.Name, Tensor: name, Offset: t.Offset, Kind: ErrConvert, Detail: fmt.Sprintf("%s to int64", t.DType)}
	}
	out := make([]int64, t.NumElements())
	for i := range out {
		out[i] = get(i)
	}
	return out, nil
}

// ReadAll reads every F32, F16 and BF16 tensor of the file at path, in file
// order, into newly allocated memory, and the metadata. It is the inverse of
// Write. Errors are those of Open and Float32.
func ReadAll(path string) ([]Tensor, map[string]string, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := make([]Tensor, 0, len(f.tensors))
	for _, t := range f.tensors {
		data, err := f.Float32(t.Name)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Data: append([]float32(nil), data...)})
	}
	return out, f.Metadata, nil
}
