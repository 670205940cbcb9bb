package model

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
)

// RunSize is what a run will do, for EstimateMemory: the number of prompt
// tokens (an upper bound will do: the prompt's length in bytes, plus one)
// and decode steps, and what the Trace records.
type RunSize struct {
	PromptTokens int
	Steps        int
	Trace        TraceOptions
}

// MemoryEstimate is the memory, in bytes, that loading a model and one run
// need, by part. It is an estimate from the config alone, made before
// anything is loaded or allocated; the heap and the runtime add some more.
type MemoryEstimate struct {
	// Weights is every parameter as float32: Load widens F16 and BF16
	// weights into new memory and memory-maps F32 ones, which are paged in
	// as the first forward pass reads them. An untied lm_head, which the
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
	// Recorder is the recorded Trace: attention rows, residual norms, logit
	// lens, candidates and the final cache contents.
	Recorder int64
}

// Total is the sum of the parts, bytes.
func (e MemoryEstimate) Total() int64 {
	return e.Weights + e.KVCache + e.Activations + e.Sampling + e.Recorder
}

// EstimateMemory estimates the memory that loading a model of config c and
// performing run need (see MemoryEstimate), without allocating any of it.
// c must be valid (arch.Config.Validate); sizes are computed in float64 so
// that nothing overflows.
func EstimateMemory(c arch.Config, run RunSize) MemoryEstimate {
	o := run.Trace.withDefaults()
	f := func(x int) float64 { return float64(x) }
	L, H, C, V, In := f(c.NLayer), f(c.NHead), f(c.NEmbd), f(c.VocabSize), f(c.NInner)
	prompt := max(run.PromptTokens, 1)
	positions := min(prompt+max(run.Steps, 0), c.NPositions)
	T := f(positions) // the longest forward pass: the prefill, or a recompute of the full window
	steps := f(max(run.Steps, 0))
	const f32 = 4
	var e MemoryEstimate
	e.Weights = int64(f(c.NumParams()) * f32)
	e.KVCache = c.KVBytes(positions)
	e.Activations = int64(f32 * (7*T*C + T*In + H*T*T + T*V))
	// Sampler: Probs and Tempered (float64), Order (int32) and its sort
	// keys; recorder: a float64 softmax and an index per vocabulary entry;
	// the logit lens's logits for up to 256 rows.
	e.Sampling = int64(V*(8+8+4+8) + V*(8+8) + f32*min(T, 256)*V)
	rows := min(T, f(o.MaxQueries))
	keys := min(T, f(o.MaxAttention))
	const rowOverhead = 24 // a slice header per recorded row
	attention := L * H * (rows*(keys*f32+rowOverhead) + steps*(keys*f32+rowOverhead))
	perRow := (L+1)*f32 + L*48                                          // residual norm and a logit-lens entry
	candidates := (f(prompt) + 2*steps) * f(o.TopN+1) * 120             // with their texts
	candidates += steps * f(min(max(o.TopLogits, 0), c.VocabSize)) * 12 // recorded top logits: an id and a float32
	cache := 2 * min(L, 2) * T * (C*f32 + H*rowOverhead)
	if 2*L*T*C <= 1<<18 {
		cache = 2 * L * T * (C*f32 + H*rowOverhead)
	}
	e.Recorder = int64(attention + (rows+steps)*perRow + candidates + cache + kvWriteBytes(c, o, f(prompt), steps))
	return e
}

// kvWriteBytes bounds what Step.KVWrite records over a run of prompt
// tokens and steps decode steps: 2 × n_layer norms per row written and the
// focus head's keys and values for at most o.KVRows rows per step. Once the
// window overflows, every step may rewrite all n_positions rows.
func kvWriteBytes(c arch.Config, o TraceOptions, prompt, steps float64) float64 {
	n, L, D := float64(c.NPositions), float64(c.NLayer), float64(c.DHead())
	perStep := 1.0
	if prompt+steps > n {
		perStep = n
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
	return fmt.Sprintf("needs about %s of memory (weights %s, KV cache %s, activations %s, sampling %s, recording %s), but only %s is available",
		inputfile.Size(n.Total()), inputfile.Size(n.Weights), inputfile.Size(n.KVCache), inputfile.Size(n.Activations),
		inputfile.Size(n.Sampling), inputfile.Size(n.Recorder), inputfile.Size(e.Available))
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

// AvailableMemory is how much more memory this process may use, bytes: the
// smaller of the system's MemAvailable (/proc/meminfo) and its control
// group's limit less its usage (cgroup v2 memory.max − memory.current, or
// v1 memory.limit_in_bytes − memory.usage_in_bytes). ok is false where none
// of these can be read (outside Linux).
func AvailableMemory() (n int64, ok bool) {
	return availableMemory(os.DirFS("/"))
}

// availableMemory reads the files of AvailableMemory from root, a file
// system laid out as "/" ("proc/meminfo", "sys/fs/cgroup/…").
func availableMemory(root fs.FS) (n int64, ok bool) {
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

// meminfoKB returns the value of key in /proc/meminfo's text, in kB.
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
