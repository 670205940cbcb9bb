package arch

import "testing"

// TestGPT2Sizes checks the four sizes against their published parameter
// counts (Hugging Face num_parameters) and KV bytes per token.
func TestGPT2Sizes(t *testing.T) {
	t.Parallel()
	for i, want := range []struct {
		params  int
		kvToken int64
	}{
		{124439808, 73728},
		{354823168, 196608},
		{774030080, 368640},
		{1557611200, 614400},
	} {
		c := GPT2Sizes[i]
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", GPT2SizeNames[i], err)
		}
		if got := c.NumParams(); got != want.params {
			t.Errorf("%s: %d parameters, want %d", GPT2SizeNames[i], got, want.params)
		}
		if got := c.KVBytesPerToken(); got != want.kvToken {
			t.Errorf("%s: %d KV bytes per token, want %d", GPT2SizeNames[i], got, want.kvToken)
		}
	}
}

// TestForwardFLOPs: a decode step with the cache costs about 2 × the
// non-embedding parameters plus the attention over the context; without
// it, the whole window is recomputed, so it costs about n times more.
func TestForwardFLOPs(t *testing.T) {
	t.Parallel()
	c := GPT2Sizes[0]
	one := c.ForwardFLOPs(1, 0)
	C, L := int64(c.NEmbd), int64(c.NLayer)
	want := L*(2*C*3*C+4*C+2*C*C+4*C*int64(c.NInner)) + 2*C*int64(c.VocabSize)
	if one != want {
		t.Errorf("one token: %d FLOPs, want %d", one, want)
	}
	cached, uncached := c.ForwardFLOPs(1, 99), c.ForwardFLOPs(100, 0)
	if cached >= uncached/50 {
		t.Errorf("step 100: cached %d, uncached %d FLOPs: want the cache to save ≥ 50×", cached, uncached)
	}
	// Rows computed together cost what they cost one by one with the cache.
	var sum int64
	for p := 0; p < 10; p++ {
		sum += c.ForwardFLOPs(1, p) - 2*C*int64(c.VocabSize)
	}
	if got := c.ForwardFLOPs(10, 0) - 2*C*int64(c.VocabSize); got != sum {
		t.Errorf("10 rows at once: %d FLOPs, one by one %d", got, sum)
	}
}
