package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/model/hub"
)

const pullUsage = `Usage: gptviz pull NAME [--revision REV] [--endpoint URL] [--offline]

Downloads a GPT-2 checkpoint (config.json, vocab.json, merges.txt and
model.safetensors, or its shards) from the Hugging Face Hub into the Hugging
Face cache, which Python's transformers shares, and prints its folder. Files
already there are not downloaded again; an interrupted download resumes.

NAME is one of ` + "%s" + `
(or their repo ids openai-community/gpt2…, distilbert/distilgpt2), or any
repo id org/name whose config.json describes a GPT-2.

Environment:
  HF_HUB_CACHE, HF_HOME   where the cache is (default ~/.cache/huggingface/hub)
  HF_ENDPOINT             a mirror of the hub, such as https://hf-mirror.com
  HF_TOKEN                access token for private or gated repositories
  HF_HUB_OFFLINE=1        never use the network (like --offline)

Examples:
  gptviz pull gpt2
  gptviz report --model gpt2 "The quick brown fox jumps over the lazy dog."
  HF_ENDPOINT=https://hf-mirror.com gptviz pull gpt2-medium

Flags:
`

func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("pull", pflag.ContinueOnError)
	revision := fs.String("revision", hub.DefaultRevision, "branch, tag or commit hash to download")
	endpoint := fs.String("endpoint", "", "hub URL (default $HF_ENDPOINT, else "+hub.DefaultEndpoint+")")
	offline := fs.Bool("offline", false, "use only the local cache; fail if the model is not there (also HF_HUB_OFFLINE=1)")
	usage := fmt.Sprintf(pullUsage, strings.Join(hub.KnownModels(), ", "))
	if err := parseFlags(fs, args, usage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("pull: want exactly one model NAME, got %d", fs.NArg())
	}
	name := fs.Arg(0)
	if _, err := hub.RepoIDs(name); err != nil {
		return usagef("pull: %v", err)
	}
	if err := hub.ValidateRevision(*revision); err != nil {
		return usagef("pull: --revision: %v", err)
	}
	dir, err := hub.Pull(ctx, name, hub.PullOptions{
		Endpoint:     *endpoint,
		EndpointFlag: "--endpoint", // messages about the endpoint name the flag
		Revision:     *revision,
		Offline:      *offline,
		Progress:     stderr,
	})
	if errors.Is(err, hub.ErrBadName) {
		return usagef("pull: %v", err) // a malformed --endpoint
	}
	if err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}
	_, err = fmt.Fprintln(stdout, dir)
	return err
}
