package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxOffset bounds data_offsets so that file offsets never overflow int64;
// no real file comes near it.
const maxOffset = 1 << 62

// headerParser walks the JSON header token by token, so that duplicate names
// are seen (encoding/json would silently keep the last) and every error can
// say at which byte of the file it happened.
type headerParser struct {
	file   string
	header []byte
	dec    *json.Decoder
}

// at returns the absolute file offset of the next token: the decoder's
// position, past separators.
func (p *headerParser) at() int64 {
	i := p.dec.InputOffset()
	for i < int64(len(p.header)) && strings.IndexByte(" \t\r\n,:", p.header[i]) >= 0 {
		i++
	}
	return 8 + i
}

func (p *headerParser) fail(at int64, kind error, tensor, format string, args ...any) *Error {
	return &Error{File: p.file, Tensor: tensor, Offset: at, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// syntax turns a decoder error into an *Error of kind ErrHeader, at the
// offset of a syntax error or else at the decoder's position.
func (p *headerParser) syntax(tensor string, err error) *Error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &Error{File: p.file, Tensor: tensor, Offset: 8 + se.Offset, Kind: ErrHeader, Detail: err.Error()}
	}
	return p.fail(p.at(), ErrHeader, tensor, "%v", err)
}

// object reads one JSON object, calling each for every key (with the decoder
// positioned at its value) and refusing a repeated key.
func (p *headerParser) object(tensor string, each func(key string) error) error {
	if err := p.delim(tensor, '{'); err != nil {
		return err
	}
	seen := make(map[string]bool)
	for p.dec.More() {
		keyAt := p.at()
		tok, err := p.dec.Token()
		if err != nil {
			return p.syntax(tensor, err)
		}
		key := tok.(string) // the decoder only yields strings as object keys
		if seen[key] {
			return p.fail(keyAt, ErrDuplicate, key, "the name appears more than once")
		}
		seen[key] = true
		if err := each(key); err != nil {
			return err
		}
	}
	return p.delim(tensor, '}')
}

func (p *headerParser) delim(tensor string, want json.Delim) error {
	at := p.at()
	tok, err := p.dec.Token()
	if err != nil {
		return p.syntax(tensor, err)
	}
	if tok != want {
		return p.fail(at, ErrHeader, tensor, "found %v where %q was expected", tok, want)
	}
	return nil
}

// entry is one tensor's header entry before the layout checks.
type entry struct {
	info       TensorInfo
	headerAt   int64  // file offset of the entry in the header
	begin, end uint64 // data_offsets, relative to the data buffer
}

// parseHeader validates header (the N bytes after the length prefix) and the
// layout of the dataLen bytes that follow it. It returns the metadata (nil
// when absent) and the tensors in order of their data.
func parseHeader(file string, header []byte, dataLen int64) (map[string]string, []TensorInfo, error) {
	if !utf8.Valid(header) {
		return nil, nil, &Error{File: file, Offset: 8 + int64(firstInvalidUTF8(header)), Kind: ErrHeader, Detail: "header is not valid UTF-8"}
	}
	p := &headerParser{file: file, header: header, dec: json.NewDecoder(bytes.NewReader(header))}
	var metadata map[string]string
	var entries []entry
	err := p.object("", func(key string) error {
		if key == "__metadata__" {
			metadata = make(map[string]string)
			return p.object("", func(k string) error {
				var v string
				at := p.at()
				if err := p.dec.Decode(&v); err != nil {
					return p.fail(at, ErrHeader, k, "__metadata__ value: %v", err)
				}
				metadata[k] = v
				return nil
			})
		}
		e, err := p.entry(key)
		entries = append(entries, e)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if rest := p.dec.InputOffset(); len(bytes.TrimLeft(header[rest:], " \t\r\n")) > 0 {
		return nil, nil, p.fail(p.at(), ErrHeader, "", "data after the header object")
	}
	tensors, err := checkLayout(file, entries, 8+int64(len(header)), dataLen)
	return metadata, tensors, err
}

// entry decodes the value of one tensor: {"dtype", "shape", "data_offsets"},
// exactly these keys, and checks its dtype and size.
func (p *headerParser) entry(name string) (entry, error) {
	e := entry{headerAt: p.at(), info: TensorInfo{Name: name}}
	var raw map[string]json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return e, p.syntax(name, err)
		}
		return e, p.fail(e.headerAt, ErrHeader, name, "the entry must be an object: %v", err)
	}
	fail := func(kind error, format string, args ...any) (entry, error) {
		return e, &Error{File: p.file, Tensor: name, Offset: e.headerAt, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
	for k := range raw {
		if k != "dtype" && k != "shape" && k != "data_offsets" {
			return fail(ErrHeader, "unknown field %q", k)
		}
	}
	var shape, offsets []uint64
	if err := json.Unmarshal(raw["dtype"], &e.info.DType); err != nil || raw["dtype"] == nil {
		return fail(ErrHeader, "dtype must be a string: %s", raw["dtype"])
	}
	if err := json.Unmarshal(raw["shape"], &shape); err != nil || shape == nil {
		return fail(ErrHeader, "shape must be an array of non-negative integers: %s", raw["shape"])
	}
	if err := json.Unmarshal(raw["data_offsets"], &offsets); err != nil || len(offsets) != 2 {
		return fail(ErrHeader, "data_offsets must be two non-negative integers: %s", raw["data_offsets"])
	}
	size := e.info.DType.Size()
	if size == 0 {
		return fail(ErrDType, "%q", e.info.DType)
	}
	n := uint64(size)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, d)
		if d > maxOffset || hi != 0 || lo > maxOffset {
			return fail(ErrOverflow, "shape %v of %s overflows", shape, e.info.DType)
		}
		n = lo
		e.info.Shape = append(e.info.Shape, int(d))
	}
	if e.info.Shape == nil {
		e.info.Shape = []int{}
	}
	e.info.Size = int64(n)
	e.begin, e.end = offsets[0], offsets[1]
	if e.begin > maxOffset || e.end > maxOffset {
		return fail(ErrOffsets, "data_offsets %v are beyond any file", offsets)
	}
	return e, nil
}

// checkLayout checks that the entries, sorted by data_offsets, tile the data
// buffer [0, dataLen) exactly, and that each holds its dtype × shape bytes.
// dataStart is the file offset of the data buffer.
func checkLayout(file string, entries []entry, dataStart, dataLen int64) ([]TensorInfo, error) {
	slices.SortStableFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return cmpU64(a.begin, b.begin)
		}
		return cmpU64(a.end, b.end)
	})
	tensors := make([]TensorInfo, len(entries))
	var next uint64 // where the next tensor must begin
	for i, e := range entries {
		fail := func(kind error, format string, args ...any) ([]TensorInfo, error) {
			return nil, &Error{File: file, Tensor: e.info.Name, Offset: dataStart + int64(e.begin), Kind: kind, Detail: fmt.Sprintf(format, args...)}
		}
		switch {
		case e.begin > next:
			return fail(ErrOffsets, "gap: data_offsets [%d, %d] leave bytes [%d, %d) of the data buffer unused", e.begin, e.end, next, e.begin)
		case e.begin < next:
			return fail(ErrOffsets, "overlap: data_offsets [%d, %d] begin before the previous tensor ends at %d", e.begin, e.end, next)
		case e.end < e.begin:
			return fail(ErrOffsets, "data_offsets [%d, %d] end before they begin", e.begin, e.end)
		case e.end-e.begin != uint64(e.info.Size):
			return fail(ErrSize, "data_offsets [%d, %d] hold %d bytes, but %s %v needs %d", e.begin, e.end, e.end-e.begin, e.info.DType, e.info.Shape, e.info.Size)
		case e.end > uint64(dataLen):
			return fail(ErrOffsets, "data_offsets [%d, %d] run past the end of the file (data buffer of %d bytes): truncated file?", e.begin, e.end, dataLen)
		}
		e.info.Offset = dataStart + int64(e.begin)
		tensors[i] = e.info
		next = e.end
	}
	if next != uint64(dataLen) {
		return nil, &Error{File: file, Offset: dataStart + int64(next), Kind: ErrOffsets,
			Detail: fmt.Sprintf("%d trailing bytes after the last tensor", uint64(dataLen)-next)}
	}
	return tensors, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// firstInvalidUTF8 returns the index of the first byte of b that is not part
// of a valid UTF-8 sequence, or len(b).
func firstInvalidUTF8(b []byte) int {
	for i, r := range string(b) {
		if _, size := utf8.DecodeRune(b[i:]); r == utf8.RuneError && size == 1 {
			return i
		}
	}
	return len(b)
}
