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
		Endpoint: *endpoint,
		Revision: *revision,
		Offline:  *offline,
		Progress: stderr,
	})
	err = hubError(err)
	if errors.Is(err, hub.ErrBadName) {
		return usagef("pull: %v", err) // a malformed --endpoint
	}
	if err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}
	_, err = fmt.Fprintln(stdout, dir)
	return err
}

// hubError returns an error of model/hub (Resolve, Pull) in the CLI's
// words, and err unchanged otherwise: the one place where the hub's
// settings become flags and its advice becomes commands to run.
//
//   - a model missing from the cache: the pull command that downloads it;
//   - offline mode: the flag to drop or the variable to unset;
//   - a damaged cached snapshot: the pull command that repairs it;
//   - an endpoint that is malformed or cannot be reached: --endpoint when
//     the endpoint came from it (PullOptions.Endpoint is set only by
//     pull's --endpoint).
//
// The result keeps err's chain for errors.Is and errors.As.
func hubError(err error) error {
	var (
		oe *hub.OfflineError
		nc *hub.NotCachedError
		de *hub.DamagedError
		ee *hub.EndpointError
		ue *hub.UnreachableError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &oe):
		var how []string
		if oe.Option {
			how = append(how, "drop --offline")
		}
		if oe.Env != "" {
			how = append(how, "unset "+oe.Env)
		}
		if len(how) == 0 {
			return err
		}
		return fmt.Errorf("%w; %s to download it", err, strings.Join(how, " and "))
	case errors.As(err, &nc):
		return fmt.Errorf("%w; run %q to download it", err, pullCommand(nc.Name, nc.Revision))
	case errors.As(err, &de):
		return fmt.Errorf("%w; run %q online to download it again", err, pullCommand(de.Name, de.Revision))
	case errors.As(err, &ee) && ee.Source == hub.EndpointOption:
		return reword(err, ee, fmt.Sprintf("--endpoint %q: %s", ee.Endpoint, ee.Problem))
	case errors.As(err, &ue) && ue.Source == hub.EndpointOption:
		return reword(err, ue, fmt.Sprintf("%v; check the network connection and --endpoint (%s)", ue.Err, ue.Endpoint))
	}
	return err
}

// pullCommand is the command line that downloads the model name at
// revision rev.
func pullCommand(name, rev string) string {
	cmd := "gptviz pull " + shellQuote(name)
	if rev != "" && rev != hub.DefaultRevision {
		cmd += " --revision " + shellQuote(rev)
	}
	return cmd
}

// reword returns err with the message of inner, an error in err's chain
// whose message ends err's, replaced by msg; err's chain is kept.
func reword(err, inner error, msg string) error {
	prefix, ok := strings.CutSuffix(err.Error(), inner.Error())
	if !ok {
		return err // some wrapper rewrote the message: keep it whole
	}
	return &rewordedError{prefix + msg, err}
}

// rewordedError is an error with a message in the CLI's words.
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
