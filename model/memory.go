package model

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
)

// RunSize is what a run will do, for EstimateMemory: the number of prompt
// tokens (an upper bound will do: the prompt's length in bytes, plus one)
// and decode steps, what the Trace records, how many runs of it are kept
// together, and what is made of the Traces afterwards.
type RunSize struct {
	PromptTokens int
	Steps        int
	Trace        TraceOptions
	// Runs is how many such runs are recorded and kept at once (Compare's
	// settings × seeds); 0 means 1.
	Runs int
	// Output is what is made of the recorded Traces once the runs are over.
	Output Output
	// Overflow is the run's policy when the window fills ("" is
	// OverflowBlock, as in RunOptions): it decides how many KV rows each
	// step rewrites and records.
	Overflow Overflow
}

// Output is what a command makes of a recorded Trace after the run, which
// holds memory beside the Trace (see MemoryEstimate.Output).
type Output int

const (
	// OutputNone keeps the Trace only (a printed continuation).
	OutputNone Output = iota
	// OutputReport renders the Trace into a report page or notebook.
	OutputReport
	// OutputJSON writes the Trace as indented JSON, which is built in
	// memory whole before it is written.
	OutputJSON
)

// MemoryEstimate is the memory, in bytes, that loading a model and one run
// need, by part. It is an estimate from the config alone, made before
// anything is loaded or allocated; the heap and the runtime add some more.
// Every part saturates at math.MaxInt64 rather than overflow, and so does
// Total.
type MemoryEstimate struct {
	// Weights is every parameter as float32: Load memory-maps F32 weights,
	// paged in as the first forward pass reads them. For an F16 or BF16
	// checkpoint it is an upper bound: Load keeps its matrices in 16 bits
	// (mapped likewise), about half of this. An untied lm_head, which the
	// config does not reveal, adds vocab_size × n_embd × 4 more.
	Weights int64
	// KVCache is Config.KVBytes of the run's positions: prompt + steps,
	// capped at n_positions.
	KVCache int64
	// Activations are one forward pass's buffers over the longest pass
	// (prefill or a recompute of the full window), attention scores
	// [n_head][T][T] and logits [T][vocab_size] included.
	Activations int64
	// Sampling is the vocabulary-sized buffers of the sampler and the
	// recorder: probabilities, their order, the logit lens's logits.
	Sampling int64
	// Recorder is the recorded Trace as Go values (attention rows, residual
	// norms, logit lens, candidates, the top logits of every decode step,
	// tokens, the final cache contents), doubled: the garbage collector
	// lets the heap grow to twice what is live (GOGC=100) while the
	// Trace's slices grow.
	Recorder int64
	// Output is what rendering the Trace holds beside it (RunSize.Output),
	// from an upper bound of the Trace's indented JSON size: the JSON
	// buffers, about 4× that size, or a report's page data.
	Output int64
	// Runtime is the Go runtime, the program and the embedded default
	// model's files: 20 to 30 MB resident for a one-step run, measured.
	Runtime int64
}

// runtimeBytes is MemoryEstimate.Runtime.
const runtimeBytes = 32 << 20

// Total is the sum of the parts, bytes, saturating at math.MaxInt64.
func (e MemoryEstimate) Total() int64 {
	var t int64
	for _, p := range []int64{e.Weights, e.KVCache, e.Activations, e.Sampling, e.Recorder, e.Output, e.Runtime} {
		if p > math.MaxInt64-t {
			return math.MaxInt64
		}
		t += max(p, 0)
	}
	return t
}

// bytesOf converts a size in bytes computed in float64 to int64, saturating
// at math.MaxInt64 (NaN and +Inf included) and at 0 below.
func bytesOf(x float64) int64 {
	switch {
	case !(x < math.MaxInt64): // float64(math.MaxInt64) is 2^63
		return math.MaxInt64
	case x < 0:
		return 0
	}
	return int64(x)
}

// Sizes of the Trace's Go values, bytes, for the Recorder estimate.
var (
	sizeStep       = float64(reflect.TypeFor[trace.Step]().Size())
	sizeAttention  = float64(reflect.TypeFor[trace.LayerAttention]().Size())
	sizePrediction = float64(reflect.TypeFor[trace.Prediction]().Size())
	sizeCandidate  = float64(reflect.TypeFor[trace.Candidate]().Size())
	sizeLens       = float64(reflect.TypeFor[trace.LensEntry]().Size())
	sizeFilter     = float64(reflect.TypeFor[trace.FilterResult]().Size())
	sizeTopLogits  = float64(reflect.TypeFor[trace.TopLogits]().Size())
	sizeToken      = float64(reflect.TypeFor[trace.Token]().Size())
	sizeEviction   = float64(reflect.TypeFor[trace.Eviction]().Size())
	sizeScore      = float64(reflect.TypeFor[trace.Score]().Size())
)

// Upper bounds of the indented JSON (output.WriteJSON) of a Trace's parts,
// bytes: a value on its own line is its indentation (≤ 20 spaces at the
// depth of attention rows), its text (≤ 14 characters for a float32, 22 for
// a float64) and ",\n".
const (
	jsonFloat32   = 36      // an attention probability, residual norm or logit
	jsonTopLogit  = 30 + 36 // an id and its logit
	jsonCandidate = 440     // 7 fields on their own lines, texts included
	jsonLens      = 220     // 3 fields
	jsonToken     = 240     // 4 fields
	jsonEviction  = 130     // 3 fields
	jsonFilter    = 150     // 3 fields
	jsonStep      = 1400    // the Step's own fields, kv, entropies, brackets
)

// strBytes is what a token's text or display string allocates: token texts
// are short (GPT-2's average a few bytes), and an allocation is at least 8.
const strBytes = 24

// EstimateMemory estimates the memory that loading a model of config c and
// performing run need (see MemoryEstimate), without allocating any of it.
// c must be valid (arch.Config.Validate); sizes are computed in float64 and
// saturate at math.MaxInt64, so that any run.Steps, however large, gives a
// huge estimate rather than an overflowed one.
//
// The per-step Recorder and Output terms were measured against the peak
// resident set (/usr/bin/time -v) of gptviz generate, generate --trace and
// report: see TestEstimateMemoryRecordingPerStep.
func EstimateMemory(c arch.Config, run RunSize) MemoryEstimate {
	o := run.Trace.withDefaults()
	f := func(x int) float64 { return float64(x) }
	L, H, C, V, In := f(c.NLayer), f(c.NHead), f(c.NEmbd), f(c.VocabSize), f(c.NInner)
	prompt := f(max(run.PromptTokens, 1))
	steps := f(max(run.Steps, 0))
	runs := f(max(run.Runs, 1))
	T := min(prompt+steps, f(c.NPositions)) // the longest forward pass: the prefill, or a recompute of the full window
	const f32 = 4
	e := MemoryEstimate{Runtime: runtimeBytes}
	e.Weights = bytesOf(f(c.NumParams()) * f32)
	e.KVCache = c.KVBytes(int(T))
	e.Activations = bytesOf(f32 * (7*T*C + T*In + H*T*T + T*V))
	// Sampler: Probs and Tempered (float64), Order (int32) and its sort
	// keys; recorder: a float64 softmax and an index per vocabulary entry;
	// the logit lens's logits for up to 256 rows.
	e.Sampling = bytesOf(V*(8+8+4+8) + V*(8+8) + f32*min(T, 256)*V)

	rows := min(prompt, T, f(o.MaxQueries)) // recorded prefill rows
	lensRows := rows                        // of which the logit lens reads out
	if o.LensQueries > 0 {
		lensRows = min(rows, f(o.LensQueries))
	}
	keys := min(T, f(o.MaxAttention)) // recorded keys per attention row
	topN := f(o.TopN + 1)             // candidates, the chosen one included
	topLogits := f(min(max(o.TopLogits, 0), c.VocabSize))
	const header = 24 // a slice header
	// Go values of one step recording q query rows: the Step (×2 for
	// the growth of Trace.Steps), its attention, residual norms and logit
	// lens, the prediction it carries, KV positions, its token and an
	// eviction.
	var attnRow, lensRow float64
	if !o.NoAttention {
		attnRow = L * H * (header + keys*f32)
	}
	if !o.NoLogitLens {
		lensRow = L * (sizeLens + strBytes)
	}
	stepGo := func(q, lq float64) float64 {
		return 2*sizeStep +
			L*(2*sizeAttention+H*2*header) + q*attnRow +
			(L+1)*(2*header+8) + q*(L+1)*f32 +
			L*2*header + lq*lensRow +
			sizePrediction + 2*topN*(sizeCandidate+2*strBytes) + 3*sizeFilter +
			sizeTopLogits + topLogits*(8+f32) +
			L*8 +
			2*(sizeToken+2*strBytes) + 2*sizeEviction
	}
	// The final cache contents: keys and values of the recorded layers.
	cacheLayers := min(L, 2)
	if 2*L*T*C <= 1<<18 {
		cacheLayers = L
	}
	if o.KVLayers != nil {
		cacheLayers = f(len(o.KVLayers))
	}
	cacheFloats := cacheLayers * 2 * T * C
	cache := cacheFloats*f32 + cacheLayers*2*T*H*header
	scores := prompt * (sizeScore + 2*sizeToken + topN*(sizeCandidate+2*strBytes))
	kvWrite := kvWriteBytes(c, o, run.Overflow, prompt, steps) // Step.KVWrite
	live := stepGo(rows, lensRows) + steps*stepGo(1, 1) + cache + scores + kvWrite
	e.Recorder = bytesOf(2 * runs * live)

	// Indented JSON of the Trace, split into attention and the rest, an
	// upper bound: a report's page data was measured at up to 2× the rest
	// plus 1× the attention; output.WriteJSON holds the compact encoding,
	// the indented copy and their growth, about 3.5× the file.
	stepJSON := func(q, lq float64) (attn, rest float64) {
		if !o.NoAttention {
			attn = q * L * H * keys * jsonFloat32
		}
		rest = jsonStep + q*(L+1)*jsonFloat32 + topN*jsonCandidate + 3*jsonFilter +
			topLogits*jsonTopLogit + jsonToken + jsonEviction
		if !o.NoLogitLens {
			rest += lq * L * jsonLens
		}
		return attn, rest
	}
	a0, r0 := stepJSON(rows, lensRows)
	a1, r1 := stepJSON(1, 1)
	attn := a0 + steps*a1
	rest := r0 + steps*r1 + cacheFloats*jsonFloat32 + prompt*(jsonToken+topN*jsonCandidate) +
		kvWrite/f32*jsonFloat32 // its floats as JSON numbers
	switch run.Output {
	case OutputReport:
		e.Output = bytesOf(runs * (2*rest + attn))
	case OutputJSON:
		e.Output = bytesOf(runs * 4 * (rest + attn))
	}
	return e
}

// kvWriteBytes bounds what Step.KVWrite records over a run of prompt
// tokens and steps decode steps: 2 × n_layer norms per row written and the
// focus head's keys and values for at most o.KVRows rows per step. Once the
// window overflows, every step of policy OverflowSlide rewrites all
// n_positions rows; OverflowBlock rewrites the window once per block of
// EvictBlock(n_positions) steps, n/block + 1 rows a step on average.
func kvWriteBytes(c arch.Config, o TraceOptions, policy Overflow, prompt, steps float64) float64 {
	n, L, D := float64(c.NPositions), float64(c.NLayer), float64(c.DHead())
	perStep := 1.0
	if prompt+steps > n {
		perStep = n
		if policy != OverflowSlide {
			perStep = n/float64(EvictBlock(c.NPositions)) + 1
		}
	}
	first := min(prompt, n)
	written := first + steps*perStep
	full := min(first, float64(max(o.KVRows, 0))) + steps*min(perStep, float64(max(o.KVRows, 0)))
	return written*2*L*4 + full*2*(D*4+24)
}

// MemoryError is a model and run that need more memory than is available.
type MemoryError struct {
	Need      MemoryEstimate
	Available int64 // bytes
}

func (e *MemoryError) Error() string {
	n := e.Need
	return fmt.Sprintf("needs about %s of memory (weights %s, KV cache %s, activations %s, sampling %s, recording %s, output %s), but only %s is available",
		inputfile.Size(n.Total()), inputfile.Size(n.Weights), inputfile.Size(n.KVCache), inputfile.Size(n.Activations),
		inputfile.Size(n.Sampling), inputfile.Size(n.Recorder), inputfile.Size(n.Output), inputfile.Size(e.Available))
}

// CheckMemory returns a *MemoryError when need is more than available
// bytes, else nil.
func CheckMemory(need MemoryEstimate, available int64) error {
	if need.Total() > available {
		return &MemoryError{Need: need, Available: available}
	}
	return nil
}

// ReadConfig reads and validates dir/config.json (at most
// arch.MaxConfigBytes, a regular file), as Load does first: a model's size
// is known before its weights are touched. Errors name the file.
func ReadConfig(dir string) (arch.Config, error) {
	p := filepath.Join(dir, arch.ConfigFile)
	data, err := inputfile.ReadFile(p, arch.MaxConfigBytes)
	if err != nil {
		return arch.Config{}, err
	}
	c, err := arch.ParseConfig(data)
	if err != nil {
		return arch.Config{}, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// ReadConfigFS reads and validates config.json at the root of fsys (an
// embedded checkpoint, as LoadFS reads it), at most arch.MaxConfigBytes.
// Errors name name/config.json.
func ReadConfigFS(fsys fs.FS, name string) (arch.Config, error) {
	p := path.Join(name, arch.ConfigFile)
	data, err := inputfile.ReadFS(fsys, arch.ConfigFile, arch.MaxConfigBytes)
	if err != nil {
		return arch.Config{}, fmt.Errorf("%s: %w", p, err)
	}
	c, err := arch.ParseConfig(data)
	if err != nil {
		return arch.Config{}, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// AvailableMemory is how much more memory this process may use, bytes: the
// smallest of the system's MemAvailable (/proc/meminfo), its control
// group's limit less its usage (cgroup v2 memory.max − memory.current, or
// v1 memory.limit_in_bytes − memory.usage_in_bytes), and the address-space
// limit (RLIMIT_AS: ulimit -v, prlimit --as; unix only) less what the
// process already maps (VmSize in /proc/self/status, where there is one).
// ok is false where none of these can be read.
func AvailableMemory() (n int64, ok bool) {
	return availableMemory(os.DirFS("/"), addressSpaceLimit)
}

// availableMemory reads the files of AvailableMemory from root, a file
// system laid out as "/" ("proc/meminfo", "sys/fs/cgroup/…"), and the
// address-space limit from asLimit.
func availableMemory(root fs.FS, asLimit func() (int64, bool)) (n int64, ok bool) {
	read := func(name string) string {
		b, err := inputfile.ReadFS(root, name, 1<<20)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	consider := func(v int64) {
		if v >= 0 && (!ok || v < n) {
			n, ok = v, true
		}
	}
	if kb, found := meminfoKB(read("proc/meminfo"), "MemAvailable"); found {
		consider(kb << 10)
	}
	if limit, found := asLimit(); found {
		mapped, _ := meminfoKB(read("proc/self/status"), "VmSize")
		consider(max(limit-mapped<<10, 0))
	}
	// cgroup v2: the process's group (from /proc/self/cgroup "0::/path"),
	// else the root of the mounted hierarchy (a container's own group).
	dirs := []string{"sys/fs/cgroup"}
	for _, line := range strings.Split(read("proc/self/cgroup"), "\n") {
		if p, found := strings.CutPrefix(line, "0::/"); found && p != "" && !strings.Contains(p, "..") {
			dirs = append([]string{"sys/fs/cgroup/" + p}, dirs...)
		}
	}
	for _, d := range dirs {
		if limit, err := strconv.ParseInt(read(d+"/memory.max"), 10, 64); err == nil {
			used, _ := strconv.ParseInt(read(d+"/memory.current"), 10, 64)
			consider(limit - used)
			break
		}
	}
	// cgroup v1 ("unlimited" is a huge number, which consider keeps only if
	// it is the smallest).
	if limit, err := strconv.ParseInt(read("sys/fs/cgroup/memory/memory.limit_in_bytes"), 10, 64); err == nil {
		used, _ := strconv.ParseInt(read("sys/fs/cgroup/memory/memory.usage_in_bytes"), 10, 64)
		consider(limit - used)
	}
	return n, ok
}

// meminfoKB returns the value of key in the text of /proc/meminfo or
// /proc/self/status, in kB.
func meminfoKB(text, key string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader([]byte(text)))
	for sc.Scan() {
		k, rest, found := strings.Cut(sc.Text(), ":")
		if !found || k != key {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return v, err == nil
	}
	return 0, false
}
