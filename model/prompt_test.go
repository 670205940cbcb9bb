package model_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
)

// TestRunInvalidUTF8Prompt: a prompt with invalid UTF-8 was encoded as
// U+FFFD, so the trace's prompt and its rerun command differed from the
// tokens used. Run refuses it with a *PromptError at the first bad byte; a
// valid non-ASCII prompt is recorded byte for byte and its tokens decode to
// it, so rerunning reproduces the run.
func TestRunInvalidUTF8Prompt(t *testing.T) {
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prompt string
		offset int
		b      byte
	}{
		{"The \xff light", 4, 0xff},
		{"caf\xe9", 3, 0xe9},
		{"\xe4\xbd", 0, 0xe4},       // a cut 你
		{"ok\xed\xa0\x80", 2, 0xed}, // a UTF-16 surrogate
	} {
		_, err := model.Run(context.Background(), m, model.RunOptions{Prompt: tc.prompt, Steps: 1, Sampling: model.SamplingParams{TopP: 1}})
		var pe *model.PromptError
		if !errors.As(err, &pe) || pe.Offset != tc.offset || pe.Byte != tc.b {
			t.Errorf("Run(%q): %v, want a *PromptError at offset %d byte 0x%02x", tc.prompt, err, tc.offset, tc.b)
		}
	}
	const prompt = "café 你好 <|endoftext|>x"
	tr, err := model.Run(context.Background(), m, model.RunOptions{Prompt: prompt, Steps: 1, Sampling: model.SamplingParams{TopP: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, tok := range tr.Tokens[:tr.PromptLen] {
		ids = append(ids, tok.ID)
	}
	if tr.Prompt != prompt || string(m.Tokenizer.Decode(ids)) != prompt {
		t.Errorf("recorded prompt %q, tokens decode to %q; want %q", tr.Prompt, m.Tokenizer.Decode(ids), prompt)
	}
}
