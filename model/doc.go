// Package model runs GPT-2-family language models in pure Go and records what
// happens inside them.
//
// It owns everything between text and numbers: loading a Hugging Face
// checkpoint (config.json + model.safetensors), the byte-level BPE tokenizer
// (package bpe), the forward pass with a KV cache, sampling, and the Runner
// that executes a model step by step while a Recorder observes every layer.
// A whole run is collected into a Trace, plain versioned data that the viz and
// output packages render without ever touching the model again.
//
// Shapes follow ../shared/docs/ARCHITECTURE.md: row-major float32; weights in
// Hugging Face GPT-2's Conv1D layout [in, out]; attention probabilities
// [n_head][query][key]; KV cache per layer [n_head][position][d_head].
//
// The maths follows Radford et al., "Language Models are Unsupervised
// Multitask Learners" (2019) and the reference implementations
// openai/gpt-2 src/model.py and Hugging Face transformers modeling_gpt2.py.
package model
