package model

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/internal/gemv"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// rssChildEnv, when set to a checkpoint folder, makes BenchmarkLoad124M
// measure one load of it in this (fresh) process instead of benchmarking.
const rssChildEnv = "GPTVIZ_LOAD_RSS_CHILD"

// BenchmarkLoad124M times Load of a GPT-2-124M-shaped F32 checkpoint
// (vocab_size 50257, n_embd 768, n_head 12, n_layer 12, n_positions 1024,
// tied head; 124,439,808 parameters, about 498 MB) generated with seeded
// random weights in a temporary folder.
//
// It then measures peak resident memory in a fresh process, since VmHWM
// (/proc/self/status, Linux only) is process-wide and this one has just
// generated the file: the test binary re-runs itself with rssChildEnv set,
// loads the checkpoint once, reads every weight (as a forward pass does), and
// prints VmHWM. Reported: peak-RSS-MB (after reading every weight),
// load-RSS-MB (right after Load) and peak-RSS/file, the goal being < 2.
func BenchmarkLoad124M(b *testing.B) {
	if dir := os.Getenv(rssChildEnv); dir != "" {
		rssChild(b, dir)
		return
	}
	dir := b.TempDir()
	fileSize := write124M(b, dir)
	b.SetBytes(fileSize)
	for b.Loop() {
		m, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
	b.StopTimer()

	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkLoad124M$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child process: %v\n%s", err, out)
	}
	var loadKB, peakKB int64
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "gptviz-rss "); ok {
			fmt.Sscanf(rest, "load-kB=%d peak-kB=%d", &loadKB, &peakKB)
		}
	}
	if peakKB == 0 {
		b.Logf("no VmHWM from the child process (not Linux?); RSS not reported\n%s", out)
		return
	}
	b.ReportMetric(float64(loadKB)/1024, "load-RSS-MB")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(peakKB*1024)/float64(fileSize), "peak-RSS/file")
}

// rssChild loads dir once, reads every weight and prints VmHWM.
func rssChild(b *testing.B, dir string) {
	m, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	load := vmHWM(b)
	var sum float32
	add := func(x []float32) {
		for _, v := range x {
			sum += v
		}
	}
	add(m.Weights.WTE)
	add(m.Weights.WPE)
	for _, bl := range m.Weights.Blocks {
		for _, x := range [][]float32{bl.LN1G, bl.LN1B, bl.AttnW, bl.AttnB, bl.AttnProjW, bl.AttnProjB, bl.LN2G, bl.LN2B, bl.FCW, bl.FCB, bl.MLPProjW, bl.MLPProjB} {
			add(x)
		}
	}
	add(m.Weights.LNFG)
	add(m.Weights.LNFB)
	var bits uint16 // 16-bit matrices (F16 or BF16 checkpoints), read as they are
	for _, h := range []gemv.Half{m.Weights.WTEHalf, m.Weights.LMHeadHalf} {
		for _, v := range h.Bits {
			bits ^= v
		}
	}
	for _, bl := range m.Weights.Blocks {
		for _, h := range []gemv.Half{bl.AttnWHalf, bl.AttnProjWHalf, bl.FCWHalf, bl.MLPProjWHalf} {
			for _, v := range h.Bits {
				bits ^= v
			}
		}
	}
	sum += float32(bits)
	fmt.Printf("gptviz-rss load-kB=%d peak-kB=%d (sum %g)\n", load, vmHWM(b), sum)
	m.Close()
}

// vmHWM returns the process's peak resident set size in kB, or 0 where
// /proc/self/status is absent.
func vmHWM(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM line %q: %v", sc.Text(), err)
			}
			return kb
		}
	}
	return 0
}

// write124M writes config.json and model.safetensors of GPT-2 124M's shape
// (F32, seeded uniform weights in [-0.05, 0.05)) into dir and returns the
// weights file's size in bytes.
func write124M(b *testing.B, dir string) int64 {
	const config = `{"model_type":"gpt2","vocab_size":50257,"n_positions":1024,"n_ctx":1024,"n_embd":768,"n_head":12,"n_layer":12}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	c, err := arch.ParseConfig([]byte(config))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(124, 124))
	var w Weights
	var tensors []safetensors.Tensor
	for _, p := range params(c, &w) {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = (rng.Float32() - 0.5) / 10
		}
		tensors = append(tensors, safetensors.Tensor{Name: p.name, DType: safetensors.F32, Shape: p.shape, Data: data})
	}
	path := filepath.Join(dir, "model.safetensors")
	if err := safetensors.Write(path, tensors, map[string]string{"format": "pt"}); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
