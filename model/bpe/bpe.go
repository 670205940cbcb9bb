// Package bpe implements GPT-2's byte-level byte-pair encoding.
package bpe

import "errors"

// Tokenizer encodes text to GPT-2 token ids and back. (Placeholder: the
// implementation is being written.)
type Tokenizer struct{}

// Load reads a tokenizer from GPT-2's vocab.json and merges.txt.
func Load(vocabPath, mergesPath string) (*Tokenizer, error) {
	return nil, errors.New("bpe: not implemented yet")
}

// Parse builds a tokenizer from the contents of vocab.json and merges.txt;
// the names are used in error messages.
func Parse(vocabJSON []byte, vocabName string, merges []byte, mergesName string) (*Tokenizer, error) {
	return nil, errors.New("bpe: not implemented yet")
}

// Encode splits text into token ids.
func (t *Tokenizer) Encode(text string) []int { return nil }

// Decode returns the bytes the ids stand for, concatenated.
func (t *Tokenizer) Decode(ids []int) []byte { return nil }

// TokenBytes returns the raw bytes of one token id.
func (t *Tokenizer) TokenBytes(id int) []byte { return nil }

// Display returns the learner's display form of one token id.
func (t *Tokenizer) Display(id int) string { return "" }

// VocabSize is the number of token ids.
func (t *Tokenizer) VocabSize() int { return 0 }
