package main

import (
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	t.Parallel()
	out, errs, code := gptviz(t, "bench", "--prompt", "8", "--steps", "2", "--rounds", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"prefill, unrecorded", "decode, unrecorded", "decode, recorded", "decode, recorded, no logit lens", "greedy", "heap in use"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "extra"},
		{"bench", "--random", "gpt3"},
		{"bench", "--random", "gpt2", "--model", "x"},
		{"bench", "--steps", "0"},
		{"bench", "--prompt", "100000"},
	} {
		if _, errs, code := gptviz(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}
