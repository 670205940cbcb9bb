package model

import (
	"fmt"
	"unicode/utf8"
)

// PromptError is a prompt that is not valid UTF-8. Run refuses such a
// prompt: the pre-tokeniser reads it as text, so its invalid bytes would be
// encoded as U+FFFD (the bytes EF BF BD), and the Trace's prompt and the
// command that reruns it would no longer say which bytes were used.
type PromptError struct {
	Offset int  // byte offset of the first invalid byte
	Byte   byte // its value
}

func (e *PromptError) Error() string {
	return fmt.Sprintf("prompt: byte 0x%02x at offset %d is not valid UTF-8; give the prompt as UTF-8 text", e.Byte, e.Offset)
}

// CheckPrompt returns a *PromptError when prompt is not valid UTF-8, else
// nil.
func CheckPrompt(prompt string) error {
	for i := 0; i < len(prompt); {
		r, size := utf8.DecodeRuneInString(prompt[i:])
		if r == utf8.RuneError && size <= 1 {
			return &PromptError{Offset: i, Byte: prompt[i]}
		}
		i += size
	}
	return nil
}
