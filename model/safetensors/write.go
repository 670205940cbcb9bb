package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"

	"github.com/gptviz/gptviz/internal/atomicfile"
)

// Write stores tensors, in the order given, and metadata (may be nil) as a
// safetensors file at path. Each tensor's Data, product(Shape) float32 values,
// is converted to its DType: F32 as is, F16 and BF16 rounded to nearest, ties
// to even (overflow gives ±Inf). The header is padded with spaces to a
// multiple of 8 bytes so that the data buffer is aligned.
//
// The write is atomic: a temporary file in path's folder is synced and then
// renamed over path, so a reader never sees a partial file.
//
// Write returns an error, naming the tensor, for an empty, repeated or
// reserved ("__metadata__") name, a dtype other than F32/F16/BF16, a negative
// dimension, or len(Data) ≠ product(Shape); and any error of the file system.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	header, err := buildHeader(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	// atomicfile.Write names the path in its errors.
	if err := atomicfile.Write(path, func(w io.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
		w.Write(n[:])
		w.Write(header)
		var buf []byte
		for _, t := range tensors {
			for data := t.Data; len(data) > 0; {
				chunk := data[:min(len(data), 1<<14)]
				data = data[len(chunk):]
				buf = appendEncoded(buf[:0], t.DType, chunk)
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// buildHeader returns the JSON header, tensors in the order given, padded
// with spaces to a multiple of 8 bytes.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return nil, err
		}
		h.WriteString(`"__metadata__":`)
		h.Write(m)
	}
	seen := make(map[string]bool, len(tensors))
	var offset uint64
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || seen[t.Name] {
			return nil, fmt.Errorf("tensor %q: empty, reserved or repeated name", t.Name)
		}
		seen[t.Name] = true
		if t.DType != F32 && t.DType != F16 && t.DType != BF16 {
			return nil, fmt.Errorf("tensor %q: dtype %q: only F32, F16 and BF16 can be written", t.Name, t.DType)
		}
		n := uint64(1)
		shape := []byte{'['}
		for i, d := range t.Shape {
			var hi uint64
			if d >= 0 {
				hi, n = bits.Mul64(n, uint64(d))
			}
			if d < 0 || hi != 0 {
				return nil, fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
			}
			if i > 0 {
				shape = append(shape, ',')
			}
			shape = strconv.AppendInt(shape, int64(d), 10)
		}
		shape = append(shape, ']')
		if n != uint64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q: shape %v holds %d elements, Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		name, _ := json.Marshal(t.Name)
		if h.Len() > 1 {
			h.WriteByte(',')
		}
		end := offset + n*uint64(t.DType.Size())
		fmt.Fprintf(&h, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, name, t.DType, shape, offset, end)
		offset = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), nil
}

// appendEncoded appends data encoded as little-endian dtype to buf.
func appendEncoded(buf []byte, dtype DType, data []float32) []byte {
	for _, v := range data {
		switch dtype {
		case F32:
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		case F16:
			buf = binary.LittleEndian.AppendUint16(buf, f32ToF16(v))
		case BF16:
			buf = binary.LittleEndian.AppendUint16(buf, f32ToBF16(v))
		}
	}
	return buf
}
