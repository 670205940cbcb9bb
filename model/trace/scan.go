package trace

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxStringBytes is the longest string, in bytes once decoded, that Read
// accepts anywhere in a trace: 1 MiB. The longest a recorded run writes is
// the prompt (and the command line that holds it), which a report shows
// whole; token texts are a few bytes.
const MaxStringBytes = 1 << 20

// maxNumberBytes is the longest number literal Read accepts. Go writes a
// float64 in at most 24 characters and a uint64 in 20.
const maxNumberBytes = 64

// maxStringBytes is the limit in force; tests lower it.
var maxStringBytes int64 = MaxStringBytes

// InputError is a trace whose JSON text is refused before it is decoded:
// a key not spelled exactly as gptviz writes it or given twice, a value of
// the wrong kind (which also bounds nesting to the Trace's own shape), a
// string over MaxStringBytes or not valid UTF-8, or a number literal too
// long to be one gptviz writes.
type InputError struct {
	Offset  int64  // byte of the input where the problem is
	Path    string // where in the trace, e.g. "steps[3].attention[1].probs"; "" for the top level
	Problem string
}

func (e *InputError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("at byte %d: %s", e.Offset, e.Problem)
	}
	return fmt.Sprintf("at byte %d: %s: %s", e.Offset, e.Path, e.Problem)
}

// The kinds of JSON value a schema node accepts (and null, always).
type shape uint8

const (
	shapeObject shape = iota // a struct: keys exactly its JSON names
	shapeMap                 // a map: any keys, each once
	shapeArray
	shapeString
	shapeNumber
	shapeBool
	shapeScalar // a type that decodes itself (StepKind): any string, number or bool
	shapeAny    // an interface: any value, nested at most maxAnyDepth deep
)

const maxAnyDepth = 16

var shapeNames = [...]string{
	shapeObject: "an object", shapeMap: "an object", shapeArray: "an array", shapeString: "a string",
	shapeNumber: "a number", shapeBool: "true or false", shapeScalar: "a string, number or boolean", shapeAny: "a value",
}

// schema is one place in the Trace's JSON tree: what kind of value belongs
// there and, for an object, what belongs under each key. The tree is built
// from the Trace's Go types by reflection, one node per place (not per
// type), so that a place can be marked as counted.
type schema struct {
	shape  shape
	names  map[string]int // object: JSON name → index in fields
	fields []*schema
	elem   *schema // array or map elements
	// counts marks a place each of whose values is one recorded value of
	// Trace.Values.
	counts bool
}

// countedPaths are the places Trace.Values counts, one value for each
// element there ("[]" is an array's elements). A test checks that the
// pre-pass count equals Trace.Values on a recorded trace.
var countedPaths = []string{
	"scores[]", "scores[].top[]",
	"continuation.scores[]", "continuation.scores[].top[]",
	"steps[].attention[].probs[][][]",
	"steps[].residual_norm[][]",
	"steps[].logit_lens[][]",
	"steps[].next", "steps[].next.top[]", "steps[].next.logits.ids[]",
	"cache[].keys[][][]", "cache[].values[][][]",
	"steps[].kv_write.key_norm[][]", "steps[].kv_write.value_norm[][]",
	"steps[].kv_write.keys[][]", "steps[].kv_write.values[][]",
}

var traceSchema = func() *schema {
	s := schemaOf(reflect.TypeFor[Trace](), 0)
	for _, p := range countedPaths {
		s.at(p).counts = true
	}
	return s
}()

// comparisonSchema is the schema of a Comparison: every run a Trace,
// counted as traceSchema counts it.
var comparisonSchema = func() *schema {
	s := schemaOf(reflect.TypeFor[Comparison](), 0)
	for _, p := range countedPaths {
		s.at("runs[][]." + p).counts = true
	}
	return s
}()

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schemaOf builds the schema of a Go type as encoding/json decodes it.
func schemaOf(t reflect.Type, depth int) *schema {
	if depth > 32 {
		panic("trace: schema of " + t.String() + " nests too deep (a recursive type?)")
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return &schema{shape: shapeScalar}
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &schema{shape: shapeObject, names: map[string]int{}}
		addFields(s, t, depth)
		if len(s.fields) > 64 {
			panic("trace: " + t.String() + " has more than 64 JSON fields")
		}
		return s
	case reflect.Map:
		return &schema{shape: shapeMap, elem: schemaOf(t.Elem(), depth+1)}
	case reflect.Slice, reflect.Array:
		return &schema{shape: shapeArray, elem: schemaOf(t.Elem(), depth+1)}
	case reflect.String:
		return &schema{shape: shapeString}
	case reflect.Bool:
		return &schema{shape: shapeBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return &schema{shape: shapeNumber}
	case reflect.Interface:
		return &schema{shape: shapeAny}
	}
	panic("trace: the reader's pre-pass does not know how JSON decodes " + t.String())
}

// addFields adds the JSON fields of struct type t to s, those of embedded
// structs without a JSON name flattened as encoding/json does.
func addFields(s *schema, t reflect.Type, depth int) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.names[name] = len(s.fields)
		s.fields = append(s.fields, schemaOf(ft, depth+1))
	}
}

// at returns the node at a path such as "steps[].next.top[]"; it panics on
// a path that is not in the schema.
func (s *schema) at(path string) *schema {
	for seg := range strings.SplitSeq(path, ".") {
		name, _, _ := strings.Cut(seg, "[")
		i, ok := s.names[name]
		if !ok {
			panic("trace: no field " + name + " in counted path " + path)
		}
		s = s.fields[i]
		for range strings.Count(seg, "[]") {
			if s.shape != shapeArray {
				panic("trace: " + seg + " is not an array in counted path " + path)
			}
			s = s.elem
		}
	}
	return s
}

// prepass walks a trace's JSON text against traceSchema before it is
// decoded, counting recorded values, in memory proportional to the nesting
// depth (bounded by the schema). It lexes the bytes itself, several times
// faster than json.Decoder.Token; where the text is not JSON it stops with
// errSyntax and leaves the report to the json package, which checks every
// input it decodes anyway.
type prepass struct {
	data   []byte
	i      int // next byte to read
	values int64
	path   []pathElem
}

// errSyntax is the pre-pass finding the text is not JSON (or ends early).
var errSyntax = errors.New("not JSON")

// pathElem is one step of the path to the current value: a key, or an
// index when key is "".
type pathElem struct {
	key   string
	index int
}

func (p *prepass) pathString() string {
	var b strings.Builder
	for _, e := range p.path {
		if e.key == "" {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

func (p *prepass) errorf(offset int, format string, args ...any) error {
	return &InputError{Offset: int64(offset), Path: p.pathString(), Problem: fmt.Sprintf(format, args...)}
}

// scan checks data, a whole trace, against traceSchema and counts its
// recorded values, refusing more than maxRenderValues. Where data is not
// JSON it returns the json package's *json.SyntaxError, io.EOF for an empty
// input or io.ErrUnexpectedEOF for one that ends early.
func scan(data []byte) error {
	return scanAs(data, traceSchema, "trace")
}

// scanAs is scan against the schema root, whose name ("trace",
// "comparison") the errors use.
func scanAs(data []byte, root *schema, name string) error {
	p := &prepass{data: data}
	if p.skipSpace(); p.i == len(data) {
		return io.EOF
	}
	err := p.value(root, 0)
	if err == nil {
		if p.skipSpace(); p.i < len(data) {
			return fmt.Errorf("unexpected data after the %s at byte %d", name, p.i)
		}
		return nil
	}
	if err != errSyntax {
		return err
	}
	var v struct{}
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &v); errors.As(err, &se) {
		// At the end of the input the json package reports either "end of
		// JSON input" or, inside a number such as "0.", the space it feeds
		// its scanner at EOF: both mean the trace was cut short.
		atEOF := se.Offset >= int64(len(data)) && strings.Contains(se.Error(), "invalid character ' '") &&
			!strings.ContainsRune(" \t\r\n", rune(data[len(data)-1]))
		if strings.HasSuffix(se.Error(), "end of JSON input") || atEOF {
			return io.ErrUnexpectedEOF
		}
		return se
	}
	return fmt.Errorf("at byte %d: not JSON", p.i) // the pre-pass is stricter than the json package: not expected
}

func (p *prepass) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads one value that belongs where s says; depth counts the levels
// of a shapeAny value.
func (p *prepass) value(s *schema, depth int) error {
	p.skipSpace()
	if p.i >= len(p.data) {
		return errSyntax
	}
	start := p.i
	var found shape
	switch c := p.data[p.i]; {
	case c == '{':
		found = shapeObject
	case c == '[':
		found = shapeArray
	case c == '"':
		found = shapeString
	case c == '-' || c >= '0' && c <= '9':
		found = shapeNumber
	case c == 't' || c == 'f':
		found = shapeBool
	case c == 'n':
		return p.literal("null") // null leaves any field as it is
	default:
		return errSyntax
	}
	ok := found == s.shape || s.shape == shapeAny ||
		found == shapeObject && s.shape == shapeMap ||
		s.shape == shapeScalar && found != shapeObject && found != shapeArray
	if !ok {
		return p.mismatch(found, s.shape)
	}
	if s.counts {
		if p.values++; p.values > maxRenderValues {
			return &TooLargeError{Values: p.values, Limit: maxRenderValues, Offset: int64(start)}
		}
	}
	switch found {
	case shapeObject:
		return p.object(s, depth)
	case shapeArray:
		return p.array(s, depth)
	case shapeString:
		_, err := p.str()
		return err
	case shapeNumber:
		return p.number()
	}
	if p.data[p.i] == 't' {
		return p.literal("true")
	}
	return p.literal("false")
}

// mismatch reports a value of the wrong kind where the json package would:
// after a string, number or boolean, after the bracket of an array or object.
func (p *prepass) mismatch(found, want shape) error {
	var err error
	switch found {
	case shapeString:
		_, err = p.str()
	case shapeNumber:
		err = p.number()
	case shapeBool:
		err = p.literal(map[bool]string{true: "true", false: "false"}[p.data[p.i] == 't'])
	default:
		p.i++
	}
	if err != nil {
		return err
	}
	return p.errorf(p.i, "%s where %s belongs", shapeNames[found], shapeNames[want])
}

func (p *prepass) literal(lit string) error {
	if !bytes.HasPrefix(p.data[p.i:], []byte(lit)) {
		return errSyntax
	}
	p.i += len(lit)
	return nil
}

// number skips a number literal, refusing one longer than maxNumberBytes.
// Its exact grammar is left to the json package.
func (p *prepass) number() error {
	start := p.i
	for p.i < len(p.data) && strings.IndexByte("+-.eE0123456789", p.data[p.i]) >= 0 {
		p.i++
	}
	if p.i-start > maxNumberBytes {
		return p.errorf(start, "a number of %d characters, more than %d", p.i-start, maxNumberBytes)
	}
	return nil
}

// enter starts a nested value: for a shapeAny one it counts depth.
func (p *prepass) enter(s *schema, depth int) (int, error) {
	if s.shape != shapeAny {
		return depth, nil
	}
	if depth >= maxAnyDepth {
		return depth, p.errorf(p.i, "nested more than %d deep", maxAnyDepth)
	}
	return depth + 1, nil
}

func (p *prepass) array(s *schema, depth int) error {
	depth, err := p.enter(s, depth)
	if err != nil {
		return err
	}
	elem := s.elem
	if s.shape == shapeAny {
		elem = s
	}
	p.i++ // [
	if p.skipSpace(); p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return nil
	}
	p.path = append(p.path, pathElem{})
	for n := 0; ; n++ {
		p.path[len(p.path)-1].index = n
		if err := p.value(elem, depth); err != nil {
			return err
		}
		if p.skipSpace(); p.i >= len(p.data) {
			return errSyntax
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.path = p.path[:len(p.path)-1]
			return nil
		default:
			return errSyntax
		}
	}
}

func (p *prepass) object(s *schema, depth int) error {
	depth, err := p.enter(s, depth)
	if err != nil {
		return err
	}
	p.i++ // {
	if p.skipSpace(); p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return nil
	}
	var seen uint64          // fields of a struct given so far
	var keys map[string]bool // keys of a map or interface given so far
	for {
		if p.skipSpace(); p.i >= len(p.data) || p.data[p.i] != '"' {
			return errSyntax
		}
		at := p.i
		raw, err := p.str()
		if err != nil {
			return err
		}
		key, err := p.key(raw)
		if err != nil {
			return err
		}
		elem := s
		switch s.shape {
		case shapeObject:
			i, ok := s.names[key]
			if !ok {
				return p.errorf(at, "unknown field %q (field names are spelled exactly as gptviz writes them)", key)
			}
			if seen&(1<<i) != 0 {
				return p.errorf(at, "field %q given twice", key)
			}
			seen |= 1 << i
			elem = s.fields[i]
		default:
			if keys == nil {
				keys = map[string]bool{}
			}
			if keys[key] {
				return p.errorf(at, "key %q given twice", key)
			}
			keys[key] = true
			if s.shape == shapeMap {
				elem = s.elem
			}
		}
		if p.skipSpace(); p.i >= len(p.data) || p.data[p.i] != ':' {
			return errSyntax
		}
		p.i++
		p.path = append(p.path, pathElem{key: key})
		if err := p.value(elem, depth); err != nil {
			return err
		}
		p.path = p.path[:len(p.path)-1]
		if p.skipSpace(); p.i >= len(p.data) {
			return errSyntax
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// key decodes a key's string literal (with its quotes).
func (p *prepass) key(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", errSyntax
	}
	return k, nil
}

// str reads the string literal at data[i] (a quote) and returns it with
// its quotes. It must be valid UTF-8 without lone surrogate escapes and at
// most maxStringBytes long decoded.
func (p *prepass) str() ([]byte, error) {
	d, start := p.data, p.i
	var n int64 // decoded bytes
	tooLong := func() error {
		return p.errorf(start, "a string longer than the limit of %d bytes", maxStringBytes)
	}
	for i := start + 1; i < len(d); {
		if n > maxStringBytes {
			return nil, tooLong()
		}
		switch c := d[i]; {
		case c == '"':
			if n > maxStringBytes {
				return nil, tooLong()
			}
			p.i = i + 1
			return d[start:p.i], nil
		case c < 0x20:
			return nil, errSyntax
		case c == '\\':
			if i+1 >= len(d) {
				return nil, errSyntax
			}
			if d[i+1] != 'u' {
				n, i = n+1, i+2
				continue
			}
			r, ok := hex4(d, i+2)
			if !ok {
				return nil, errSyntax
			}
			switch {
			case r >= 0xD800 && r < 0xDC00:
				lo, ok := -1, i+8 <= len(d) && d[i+6] == '\\' && d[i+7] == 'u'
				if ok {
					lo, ok = hex4(d, i+8)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, p.errorf(i, "a lone UTF-16 surrogate \\u%04x: not text", r)
				}
				n, i = n+4, i+12
			case r >= 0xDC00 && r <= 0xDFFF:
				return nil, p.errorf(i, "a lone UTF-16 surrogate \\u%04x: not text", r)
			default:
				n, i = n+int64(utf8.RuneLen(rune(r))), i+6
			}
		case c < utf8.RuneSelf:
			n, i = n+1, i+1
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.errorf(i, "byte %#x is not valid UTF-8", c)
			}
			n, i = n+int64(size), i+size
		}
	}
	return nil, errSyntax
}

// hex4 reads four hex digits at d[i:].
func hex4(d []byte, i int) (int, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d[i:i+4]), 16, 16)
	return int(v), err == nil
}
