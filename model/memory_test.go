package model

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gptviz/gptviz/model/arch"
)

// TestEstimateMemoryHugeConfigs pins issue 9 item 8 by the estimate alone:
// n_positions 2^27 allocated a 16.9 GB KV cache for a 3-step run, and
// vocab_size 100M sat at 23.6 GB. The cache is now sized for the run, and
// both configs are refused on a machine with 4 GiB free, naming needed and
// available memory.
func TestEstimateMemoryHugeConfigs(t *testing.T) {
	t.Parallel()
	const avail = 4 << 30
	run := RunSize{PromptTokens: 5, Steps: 3}
	for _, tc := range []struct {
		name string
		c    arch.Config
		big  func(MemoryEstimate) int64 // the part that must dominate
	}{
		{"n_positions 2^27", arch.Config{ModelType: "gpt2", VocabSize: 50257, NPositions: 1 << 27, NEmbd: 16, NLayer: 1, NHead: 1, NInner: 64},
			func(e MemoryEstimate) int64 { return e.Weights }},
		{"vocab_size 100M", arch.Config{ModelType: "gpt2", VocabSize: 100_000_000, NPositions: 1024, NEmbd: 16, NLayer: 1, NHead: 1, NInner: 64},
			func(e MemoryEstimate) int64 { return e.Weights + e.Sampling + e.Activations }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.LayerNormEpsilon, c.Activation, c.BOSTokenID, c.EOSTokenID = 1e-5, arch.ActGELUNew, 0, 0
			if err := c.Validate(); err != nil {
				t.Fatalf("the config passes the config limits, as in the issue: %v", err)
			}
			e := EstimateMemory(c, run)
			if want := c.KVBytes(8); e.KVCache != want {
				t.Errorf("KV cache %d bytes, want %d: prompt + steps positions, not n_positions", e.KVCache, want)
			}
			if e.Total() < 4<<30 || tc.big(e) < e.Total()/2 {
				t.Errorf("estimate %+v: want several GB, mostly in the model's own size", e)
			}
			err := CheckMemory(e, avail)
			var me *MemoryError
			if !errors.As(err, &me) || me.Available != avail {
				t.Fatalf("CheckMemory: %v, want a *MemoryError", err)
			}
			for _, w := range []string{"needs about", "GiB of memory", "but only 4 GiB is available", "weights"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestAvailableMemory(t *testing.T) {
	t.Parallel()
	meminfo := "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want int64
		ok   bool
	}{
		{"nothing readable", fstest.MapFS{}, 0, false},
		{"meminfo only", fstest.MapFS{"proc/meminfo": {Data: []byte(meminfo)}}, 8000000 << 10, true},
		{"cgroup v2 below meminfo", fstest.MapFS{
			"proc/meminfo":                     {Data: []byte(meminfo)},
			"proc/self/cgroup":                 {Data: []byte("0::/job\n")},
			"sys/fs/cgroup/job/memory.max":     {Data: []byte("1073741824\n")},
			"sys/fs/cgroup/job/memory.current": {Data: []byte("73741824\n")},
			"sys/fs/cgroup/memory.max":         {Data: []byte("max\n")},
		}, 1000000000, true},
		{"cgroup v2 unlimited", fstest.MapFS{
			"proc/meminfo":             {Data: []byte(meminfo)},
			"sys/fs/cgroup/memory.max": {Data: []byte("max\n")},
		}, 8000000 << 10, true},
		{"cgroup v1", fstest.MapFS{
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("2000\n")},
			"sys/fs/cgroup/memory/memory.usage_in_bytes": {Data: []byte("500\n")},
		}, 1500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := availableMemory(tc.fs)
			if n != tc.want || ok != tc.ok {
				t.Errorf("availableMemory = %d, %v; want %d, %v", n, ok, tc.want, tc.ok)
			}
		})
	}
}
