package model

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/gptviz/gptviz/internal/gemv"
	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/safetensors"
)

// Model is a loaded GPT-2 checkpoint: its architecture, its weights
// (float32, or the large matrices in 16 bits for an F16 or BF16 checkpoint:
// see Weights), and its tokenizer (nil when the folder has no vocab.json
// and merges.txt).
//
// F32 weights, and the 16-bit matrices of F16/BF16 checkpoints, loaded by
// Load share memory with the memory-mapped checkpoint file instead of being
// copied (a private, copy-on-write mapping: writing to a weight is allowed
// and never changes the file). The file must not be truncated while it is
// mapped: reading a page past its new end faults (SIGBUS) and ends the
// process; model/PERF.md explains the choice. The mapping lives as long
// as the Model is not closed; call Close to release it, after which the
// Weights must not be used. A Model that is never closed keeps its mapping
// until the process exits.
type Model struct {
	Name      string
	Config    arch.Config
	Weights   Weights
	Tokenizer *bpe.Tokenizer

	files []*safetensors.File // kept open: F32 weights share their memory
}

// Close releases the memory the weights share with the checkpoint files and
// clears m.Weights. Slices of the weights held elsewhere must not be used
// afterwards. Close is idempotent.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.Close())
	}
	m.files = nil
	m.Weights = Weights{}
	return errors.Join(errs...)
}

// Errors of Load and LoadFS, for errors.Is; the message names the tensor,
// the file and the shapes.
var (
	ErrMissingTensor    = errors.New("missing tensor")
	ErrTensorShape      = errors.New("wrong tensor shape")
	ErrUnexpectedTensor = errors.New("unexpected tensor (not a GPT-2 checkpoint?)")
)

// Load reads a Hugging Face GPT-2 checkpoint folder:
//
//   - config.json, checked by ParseConfig;
//   - the weights: model.safetensors, or when it is absent the shards that
//     model.safetensors.index.json's weight_map names (every shard is
//     validated; a tensor listed but absent from its shard, or present but
//     not listed, is an error). Shards are memory-mapped (see Model);
//   - vocab.json and merges.txt, when both exist, into Model.Tokenizer
//     (bpe.Parse); a tokenizer with more ids than vocab_size is refused.
//
// Tensor names may carry the "transformer." prefix or not. F32 tensors are
// used in place (see Model). F16 and BF16 matrices (wte, lm_head and the
// blocks' four weight matrices) stay in 16 bits, shared with the file's
// memory (copied when misaligned), and are widened inside the kernels
// (Block, Weights); F16 and BF16 vectors and wpe become float32. The causal-mask buffers h.N.attn.bias and
// h.N.attn.masked_bias are ignored; any other tensor GPT-2 does not have is
// an error (ErrUnexpectedTensor) naming it, so that another architecture is
// never half loaded. An lm_head.weight equal to wte bit for bit is treated as
// tied (Weights.LMHead nil), otherwise kept as Weights.LMHead.
//
// Model.Name is the folder's base name. Errors name the file and tensor:
// *ConfigError (errors.Is ErrConfig) for config.json, *safetensors.Error for
// a malformed weights file, ErrMissingTensor / ErrTensorShape (with expected
// and found shapes) / ErrUnexpectedTensor, or the error of the file system.
func Load(dir string) (*Model, error) {
	name := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	full := func(file string) string { return filepath.Join(dir, filepath.FromSlash(file)) }
	return load(source{
		where: full,
		stat:  func(file string) (fs.FileInfo, error) { return inputfile.Stat(full(file)) },
		read:  func(file string, limit int64) ([]byte, error) { return inputfile.ReadFile(full(file), limit) },
		open:  func(file string) (*safetensors.File, error) { return safetensors.Open(full(file)) },
	}, name)
}

// LoadFS reads a checkpoint, laid out as for Load, from the root of fsys (for
// example an embedded file system). Whole files are read into memory (no
// memory mapping); F32 weights share that memory. name becomes Model.Name and
// prefixes file names in errors. Errors are those of Load.
func LoadFS(fsys fs.FS, name string) (*Model, error) {
	where := func(file string) string { return path.Join(name, file) }
	return load(source{
		where: where,
		stat: func(file string) (fs.FileInfo, error) {
			fi, err := fs.Stat(fsys, file)
			if err == nil && !fi.Mode().IsRegular() {
				err = &inputfile.Error{Path: file, Kind: inputfile.ErrNotRegular, Detail: inputfile.Kind(fi.Mode())}
			}
			return fi, renamed(err, where(file))
		},
		read: func(file string, limit int64) ([]byte, error) {
			data, err := inputfile.ReadFS(fsys, file, limit)
			return data, renamed(err, where(file))
		},
		open: func(file string) (*safetensors.File, error) {
			data, err := inputfile.ReadFS(fsys, file, safetensors.MaxFileBytes)
			if err != nil {
				return nil, renamed(err, where(file))
			}
			return safetensors.Parse(where(file), data)
		},
	}, name)
}

// renamed sets the path that a file-system or inputfile error names to
// the name users know.
func renamed(err error, name string) error {
	var pe *fs.PathError
	var ie *inputfile.Error
	switch {
	case errors.As(err, &pe):
		pe.Path = name
	case errors.As(err, &ie):
		ie.Path = name
	}
	return err
}

// source is where a checkpoint's files come from. Errors of its functions
// name the file as where does.
type source struct {
	where func(file string) string // the file's name in errors
	// stat follows symbolic links and refuses what is not a regular file
	// (*inputfile.Error) or a symlink loop; errors.Is fs.ErrNotExist when
	// nothing is there.
	stat func(file string) (fs.FileInfo, error)
	// read reads a small file (config, index, tokenizer) whole, at most
	// limit bytes, refusing what is not a regular file.
	read func(file string, limit int64) ([]byte, error)
	open func(file string) (*safetensors.File, error) // a weights file
}

// present reports whether file exists; an error says it is there but
// unusable (not a regular file, a symlink loop, unreadable).
func (s source) present(file string) (bool, error) {
	_, err := s.stat(file)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

func load(src source, name string) (*Model, error) {
	m, err := loadModel(src, name)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", name, err)
	}
	return m, nil
}

func loadModel(src source, name string) (*Model, error) {
	data, err := src.read(arch.ConfigFile, arch.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	cfg, err := arch.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.where(arch.ConfigFile), err)
	}
	set, err := openTensors(src)
	if err != nil {
		return nil, err
	}
	m := &Model{Name: name, Config: cfg}
	if m.files, err = set.weights(cfg, &m.Weights); err != nil {
		set.close()
		return nil, err
	}
	if m.Tokenizer, err = loadTokenizer(src, cfg); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// loadTokenizer reads vocab.json and merges.txt when both exist; nil, nil
// when neither does.
func loadTokenizer(src source, cfg arch.Config) (*bpe.Tokenizer, error) {
	hasVocab, err := src.present(arch.VocabFile)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	hasMerges, err := src.present(arch.MergesFile)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if !hasVocab && !hasMerges {
		return nil, nil
	}
	if !hasVocab || !hasMerges {
		missing := src.where(arch.VocabFile)
		if hasVocab {
			missing = src.where(arch.MergesFile)
		}
		return nil, fmt.Errorf("tokenizer: %s is missing (vocab.json and merges.txt come together)", missing)
	}
	vocab, err := src.read(arch.VocabFile, bpe.MaxVocabBytes)
	if err != nil {
		return nil, err
	}
	merges, err := src.read(arch.MergesFile, bpe.MaxMergesBytes)
	if err != nil {
		return nil, err
	}
	tok, err := bpe.Parse(vocab, src.where(arch.VocabFile), merges, src.where(arch.MergesFile))
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("%s has %d tokens, more than vocab_size %d in %s", src.where(arch.VocabFile), tok.VocabSize(), cfg.VocabSize, src.where(arch.ConfigFile))
	}
	return tok, nil
}

// tensorSet is every tensor of a checkpoint, by name without the
// "transformer." prefix.
type tensorSet struct {
	files []*safetensors.File
	at    map[string]located
}

// located is where one tensor is stored.
type located struct {
	file *safetensors.File
	name string // its name in the file, with any prefix
}

// describe names the files of the set for errors.
func (s *tensorSet) describe() string {
	names := make([]string, len(s.files))
	for i, f := range s.files {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func (s *tensorSet) close() {
	for _, f := range s.files {
		f.Close()
	}
}

// add records every tensor of f; a name already recorded (from another
// shard, or with and without the prefix) is an error.
func (s *tensorSet) add(f *safetensors.File) error {
	s.files = append(s.files, f)
	for _, t := range f.Tensors() {
		short := strings.TrimPrefix(t.Name, "transformer.")
		if prev, dup := s.at[short]; dup {
			return fmt.Errorf("tensor %q is stored twice: as %q in %s and as %q in %s", short, prev.name, prev.file.Name, t.Name, f.Name)
		}
		s.at[short] = located{f, t.Name}
	}
	return nil
}

// openTensors opens model.safetensors, or the shards of
// model.safetensors.index.json.
func openTensors(src source) (*tensorSet, error) {
	set := &tensorSet{at: make(map[string]located)}
	hasWeights, err := src.present(arch.WeightsFile)
	if err != nil {
		return nil, err
	}
	if !hasWeights {
		if hasIndex, err := src.present(arch.IndexFile); err != nil {
			return nil, err
		} else if hasIndex {
			if err := openShards(src, set); err != nil {
				set.close()
				return nil, err
			}
			return set, nil
		}
	}
	f, err := src.open(arch.WeightsFile) // also when missing: its error names it
	if err != nil {
		return nil, err
	}
	if err := set.add(f); err != nil {
		set.close()
		return nil, err
	}
	return set, nil
}

// openShards reads model.safetensors.index.json ({"weight_map": {tensor:
// shard file}}) and opens every shard it names, checking that index and
// shards agree.
func openShards(src source, set *tensorSet) error {
	data, err := src.read(arch.IndexFile, arch.MaxIndexBytes)
	if err != nil {
		return err
	}
	index, err := arch.ParseIndex(data)
	if err != nil {
		return fmt.Errorf("%s: %w", src.where(arch.IndexFile), err)
	}
	shardOf := index.WeightMap // tensor name as stored → shard
	for _, shard := range index.Shards {
		f, err := src.open(shard)
		if err != nil {
			return err
		}
		if err := set.add(f); err != nil {
			return err
		}
		for _, t := range f.Tensors() {
			if listed, ok := shardOf[t.Name]; !ok || listed != shard {
				return fmt.Errorf("%s: tensor %q is not listed for this shard in %s", f.Name, t.Name, src.where(arch.IndexFile))
			}
		}
	}
	for tensor, shard := range shardOf {
		if _, ok := set.at[strings.TrimPrefix(tensor, "transformer.")]; !ok {
			return fmt.Errorf("%s: tensor %q, listed in %s, is missing: %w", src.where(shard), tensor, src.where(arch.IndexFile), ErrMissingTensor)
		}
	}
	return nil
}

// param is one GPT-2 weight: its name without prefix, its shape and where
// it goes.
type param struct {
	name  string
	shape []int
	dst   *[]float32
	half  *gemv.Half // where an F16 or BF16 matrix stays in 16 bits; nil: always float32
}

// params lists every GPT-2 weight of config c, pointing into w (whose Blocks
// it allocates).
func params(c arch.Config, w *Weights) []param {
	e, in := c.NEmbd, c.NInner
	ps := []param{
		{"wte.weight", []int{c.VocabSize, e}, &w.WTE, &w.WTEHalf},
		{"wpe.weight", []int{c.NPositions, e}, &w.WPE, nil},
	}
	w.Blocks = make([]Block, c.NLayer)
	for l := range w.Blocks {
		b, h := &w.Blocks[l], "h."+strconv.Itoa(l)+"."
		ps = append(ps,
			param{h + "ln_1.weight", []int{e}, &b.LN1G, nil},
			param{h + "ln_1.bias", []int{e}, &b.LN1B, nil},
			param{h + "attn.c_attn.weight", []int{e, 3 * e}, &b.AttnW, &b.AttnWHalf},
			param{h + "attn.c_attn.bias", []int{3 * e}, &b.AttnB, nil},
			param{h + "attn.c_proj.weight", []int{e, e}, &b.AttnProjW, &b.AttnProjWHalf},
			param{h + "attn.c_proj.bias", []int{e}, &b.AttnProjB, nil},
			param{h + "ln_2.weight", []int{e}, &b.LN2G, nil},
			param{h + "ln_2.bias", []int{e}, &b.LN2B, nil},
			param{h + "mlp.c_fc.weight", []int{e, in}, &b.FCW, &b.FCWHalf},
			param{h + "mlp.c_fc.bias", []int{in}, &b.FCB, nil},
			param{h + "mlp.c_proj.weight", []int{in, e}, &b.MLPProjW, &b.MLPProjWHalf},
			param{h + "mlp.c_proj.bias", []int{e}, &b.MLPProjB, nil},
		)
	}
	return append(ps,
		param{"ln_f.weight", []int{e}, &w.LNFG, nil},
		param{"ln_f.bias", []int{e}, &w.LNFB, nil},
	)
}

// isMaskBuffer reports whether name is h.N.attn.bias or h.N.attn.masked_bias
// for a layer N of the model: GPT-2's causal-mask buffers, not weights.
func isMaskBuffer(name string, nLayer int) bool {
	rest, ok := strings.CutPrefix(name, "h.")
	if !ok {
		return false
	}
	layer, suffix, _ := strings.Cut(rest, ".")
	l, err := strconv.Atoi(layer)
	return err == nil && strconv.Itoa(l) == layer && l < nLayer &&
		(suffix == "attn.bias" || suffix == "attn.masked_bias")
}

// weights fills w from the set, checking names and shapes against c. It
// returns the files that F32 weights share memory with (to keep open) and
// closes the others.
func (s *tensorSet) weights(c arch.Config, w *Weights) ([]*safetensors.File, error) {
	ps := params(c, w)
	known := make(map[string]bool, len(ps)+1)
	for _, p := range ps {
		known[p.name] = true
	}
	known["lm_head.weight"] = true
	var unexpected []string
	for short, loc := range s.at {
		if !known[short] && !isMaskBuffer(short, c.NLayer) {
			unexpected = append(unexpected, fmt.Sprintf("%q in %s", loc.name, loc.file.Name))
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		more := ""
		if len(unexpected) > 5 {
			more = fmt.Sprintf(" and %d more", len(unexpected)-5)
			unexpected = unexpected[:5]
		}
		return nil, fmt.Errorf("%w: %s%s", ErrUnexpectedTensor, strings.Join(unexpected, ", "), more)
	}
	shared := make(map[*safetensors.File]bool)
	// read fills dst, or half when it is not nil and the tensor is F16 or
	// BF16 (kept in 16 bits, sharing the file's memory when aligned).
	read := func(name string, shape []int, dst *[]float32, half *gemv.Half) error {
		loc, ok := s.at[name]
		if !ok {
			return fmt.Errorf("%w %q (want shape %v) in %s", ErrMissingTensor, name, shape, s.describe())
		}
		info, _ := loc.file.Info(loc.name)
		if !slices.Equal(info.Shape, shape) {
			return fmt.Errorf("%s: tensor %q: %w: found %v, want %v", loc.file.Name, loc.name, ErrTensorShape, info.Shape, shape)
		}
		if half != nil && (info.DType == safetensors.F16 || info.DType == safetensors.BF16) {
			bits, err := loc.file.Uint16(loc.name)
			if err != nil {
				return err
			}
			*half = gemv.Half{Bits: bits, BF16: info.DType == safetensors.BF16}
			if raw, _ := loc.file.Bytes(loc.name); len(bits) > 0 && unsafe.Pointer(&bits[0]) == unsafe.Pointer(&raw[0]) {
				shared[loc.file] = true // not copied (aligned): keep the file open
			}
			return nil
		}
		data, err := loc.file.Float32(loc.name)
		if err != nil {
			return err
		}
		if info.DType == safetensors.F32 {
			shared[loc.file] = true
		}
		*dst = data
		return nil
	}
	for _, p := range ps {
		if err := read(p.name, p.shape, p.dst, p.half); err != nil {
			return nil, err
		}
	}
	if _, ok := s.at["lm_head.weight"]; ok {
		if err := read("lm_head.weight", []int{c.VocabSize, c.NEmbd}, &w.LMHead, &w.LMHeadHalf); err != nil {
			return nil, err
		}
		tied := bitsEqual(w.LMHead, w.WTE) && w.LMHead != nil
		if h := w.LMHeadHalf; h.Stored() {
			tied = w.WTEHalf.Stored() && h.BF16 == w.WTEHalf.BF16 && slices.Equal(h.Bits, w.WTEHalf.Bits)
		}
		if tied {
			w.LMHead, w.LMHeadHalf = nil, gemv.Half{}
		}
	}
	var keep []*safetensors.File
	for _, f := range s.files {
		if shared[f] {
			keep = append(keep, f)
		} else {
			f.Close()
		}
	}
	return keep, nil
}

// bitsEqual reports whether a and b hold the same float32 bit patterns.
func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
