package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/serve"
)

const serveUsage = `Usage: gptviz serve [flags]

Starts a local playground in the browser: type a prompt and watch it split
into tokens; run the prefill, then step one token at a time — the candidates
and their probabilities, the sampler's choice under temperature / top-k /
top-p sliders, or your own choice (click a candidate: teacher forcing by
hand); undo a step (the KV cache is truncated, not recomputed; a step that
evicted tokens is undone by running the session again up to the step
before); fork the run
into two columns; watch the new token's attention, the KV cache and the
logit lens change; download the session as a report (HTML, ipynb or trace),
byte for byte what 'gptviz report --reproducible' writes for the same tokens.
The page also lists the lessons: each opens rendered on the server's model
in the page's language, and the commands of its try-it-yourself cells run
in place (edit a line, press Run): gptviz report, compare, generate, tokens
and lesson, parsed by their own flags and run in the server on its model,
never through a shell, within --command-time; the page a command writes
appears under it.

The server listens on loopback (127.0.0.1) on a free port by default and
prints a URL with a random access token, as Jupyter does: requests without
the token, from another origin, or through another host name are refused.
Everything the page needs is served from the binary; nothing is fetched from
the network. Ctrl-C stops it.

Limits (a request over them gets a clear message): --sessions sessions at
once (browser tabs and forks), prompts of the model's context window at most,
--max-steps decode steps per session (and per try-it command); a session
unused for --idle is freed.

Examples:
  gptviz serve
  gptviz serve --open --lang zh
  gptviz serve --model gpt2 --addr 127.0.0.1:8765

Flags:
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	mf.registerDownload(fs)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on, host:port (port 0: a free one); keep it on loopback unless you mean others to reach it")
	open := fs.Bool("open", false, "open the page in the default browser")
	lang := fs.String("lang", "en", "language of the page: en or zh")
	sessions := fs.Int("sessions", serve.DefaultLimits.Sessions, "sessions alive at once")
	maxSteps := fs.Int("max-steps", serve.DefaultLimits.Steps, "decode steps per session")
	idle := fs.Duration("idle", serve.DefaultLimits.Idle, "free a session unused this long")
	cmdTime := fs.Duration("command-time", serve.DefaultLimits.CommandTime, "stop a lesson or try-it command that runs longer")
	if err := parseFlags(fs, args, serveUsage, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("serve: takes no arguments, got %d", fs.NArg())
	}
	if *lang != "en" && *lang != "zh" {
		return usagef("--lang %q: want en or zh", *lang)
	}
	if *sessions < 1 {
		return usagef("--sessions %d: must be ≥ 1", *sessions)
	}
	if *maxSteps < 1 {
		return usagef("--max-steps %d: must be ≥ 1", *maxSteps)
	}
	if *idle <= 0 {
		return usagef("--idle %s: must be > 0", *idle)
	}
	if *cmdTime <= 0 {
		return usagef("--command-time %s: must be > 0", *cmdTime)
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("--addr %q: want host:port, e.g. 127.0.0.1:8765", *addr)
	}
	ip := net.ParseIP(host)
	if ip == nil && host != "localhost" {
		return usagef("--addr %q: want an IP address (127.0.0.1, ::1) or localhost", *addr)
	}
	mf.run = model.RunSize{PromptTokens: serve.DefaultLimits.PromptBytes, Steps: *maxSteps, Runs: *sessions, Output: model.OutputReport}
	mf.lessRun = "lower --max-steps or --sessions"
	m, _, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	srv, err := serve.New(serveOptions(m, &mf, serve.Limits{Sessions: *sessions, Steps: *maxSteps, Idle: *idle, CommandTime: *cmdTime}))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	bound := ln.Addr().(*net.TCPAddr)
	if !bound.IP.IsLoopback() {
		fmt.Fprintf(stderr, "gptviz: serve: listening on %s, which is not loopback: anyone who can reach it and has the token can drive the model\n", bound)
	}
	u := srv.URL(bound.String(), *lang)
	fmt.Fprintf(stderr, "gptviz serve: model %s; at most %d sessions of %d steps. Open this URL (Ctrl-C stops):\n", m.Name, *sessions, *maxSteps)
	fmt.Fprintln(stdout, u)
	if *open {
		if err := openURL(u); err != nil {
			fmt.Fprintf(stderr, "gptviz: --open: %v (open the URL above)\n", err)
		}
	}
	return srv.Serve(ctx, ln)
}

// serveOptions are the server's options for model m loaded by mf: the
// command lines its downloads show are the report command's own, and its
// downloads leave timings out as report --reproducible does.
func serveOptions(m *model.Model, mf *modelFlags, lim serve.Limits) serve.Options {
	return serve.Options{
		Model: m, Version: version, Limits: lim, OmitTimings: omitTimings,
		Command: serveCommand(m, mf, cmp.Or(lim.Steps, serve.DefaultLimits.Steps)),
		Commands: func(run serve.Run) lessons.Commands {
			r := rerun{model: mf.name, revision: mf.revision, prompt: run.Prompt, steps: run.Steps, sampling: run.Sampling,
				seed: run.Seed, overflow: string(run.Overflow), reproducible: true, lang: run.Lang, format: run.Format}
			c := r.commands(false)
			if !run.Reproducible {
				// Forced tokens or settings changed between steps: no
				// report command reruns this session.
				c.Rerun = ""
			}
			return c
		},
	}
}

// openURL opens u in the default browser without waiting.
func openURL(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
