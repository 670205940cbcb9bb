package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/model/hub"
	"github.com/gptviz/gptviz/model/hub/hubtest"
)

const pullCommit = "0123456789abcdef0123456789abcdef01234567"

// pullEnv points the Hugging Face variables at a fresh cache and away from
// the real environment.
func pullEnv(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	for _, k := range []string{"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_TOKEN_PATH", filepath.Join(cache, "no-token"))
	return cache
}

// defaultRepo serves the embedded default model's checkpoint as
// openai-community/gpt2.
func defaultRepo(t *testing.T) hubtest.Repo {
	t.Helper()
	files := map[string][]byte{}
	for _, f := range []string{"config.json", "vocab.json", "merges.txt", "model.safetensors"} {
		b, err := fs.ReadFile(defaultmodel.FS(), f)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	return hubtest.Repo{ID: "openai-community/gpt2", Aliases: []string{"gpt2"}, Commit: pullCommit, Files: files, ResolveCache: true}
}

func TestPullThenTokens(t *testing.T) {
	cache := pullEnv(t)
	repo := defaultRepo(t)
	srv := hubtest.NewServer(t, repo)

	stdout, stderr, code := gptviz(t, "pull", "--endpoint", srv.URL, "gpt2")
	if code != 0 {
		t.Fatalf("pull: exit %d: %s", code, stderr)
	}
	want := filepath.Join(cache, "models--gpt2", "snapshots", pullCommit)
	if stdout != want+"\n" {
		t.Errorf("pull printed %q, want %q", stdout, want+"\n")
	}
	n := len(repo.Files["model.safetensors"])
	if n < 1e6 || n >= 1e7 {
		t.Fatalf("the default model's weights are %d bytes; this test shows sizes of 1–10 MB as 2.52 MB", n)
	}
	if want := fmt.Sprintf("downloaded model.safetensors: %.2f MB", float64(n)/1e6); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks the download line %q:\n%s", want, stderr)
	}

	// The pulled model is found by name, without the network.
	t.Setenv("HF_HUB_OFFLINE", "1")
	srv.Reset()
	stdout, stderr, code = gptviz(t, "tokens", "--model", "gpt2", "Hello world")
	if code != 0 {
		t.Fatalf("tokens --model gpt2: exit %d: %s", code, stderr)
	}
	m, err := defaultmodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	ids := m.Tokenizer.Encode("Hello world")
	if want := fmt.Sprintf("%d tokens (context window %d)", len(ids), m.Config.NPositions); !strings.Contains(stdout, want) {
		t.Errorf("tokens output lacks %q:\n%s", want, stdout)
	}
	if first := regexp.MustCompile(fmt.Sprintf(`(?m)^0\s+%d\s`, ids[0])); !first.MatchString(stdout) {
		t.Errorf("tokens output lacks the first row, position 0 id %d:\n%s", ids[0], stdout)
	}
	if n := srv.Count("", ""); n != 0 {
		t.Errorf("tokens --model gpt2 sent %d requests to the hub", n)
	}
}

func TestPullErrors(t *testing.T) {
	srv := hubtest.NewServer(t, defaultRepo(t))
	srv.Token = "hf_cliSECRETtoken42"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want []string
	}{
		{"help", []string{"pull", "--help"}, nil, 0, []string{"Usage: gptviz pull NAME", "gpt2-xl", "--revision", "HF_ENDPOINT"}},
		{"no name", []string{"pull"}, nil, 2, []string{"exactly one model NAME"}},
		{"two names", []string{"pull", "gpt2", "gpt2-xl"}, nil, 2, []string{"exactly one model NAME"}},
		{"path as name", []string{"pull", "../models/gpt2"}, nil, 2, []string{"not a Hugging Face repo id"}},
		{"bad revision", []string{"pull", "gpt2", "--revision", "../../x"}, nil, 2, []string{"revision", ".."}},
		{"bad endpoint", []string{"pull", "gpt2", "--endpoint", "ftp://example.com"}, nil, 2, []string{"endpoint"}},
		{"unknown flag", []string{"pull", "--frobnicate", "gpt2"}, nil, 2, []string{"frobnicate"}},
		{"offline, not cached", []string{"pull", "--offline", "gpt2"}, nil, 1, []string{"offline mode is on", "models--gpt2", "drop --offline"}},
		{"HF_HUB_OFFLINE, not cached", []string{"pull", "gpt2"}, map[string]string{"HF_HUB_OFFLINE": "1"}, 1, []string{"offline mode is on", "unset HF_HUB_OFFLINE"}},
		{"no token", []string{"pull", "--endpoint", srv.URL, "gpt2"}, nil, 1, []string{"HF_TOKEN", "token is needed"}},
		{"wrong token", []string{"pull", "--endpoint", srv.URL, "gpt2"}, map[string]string{"HF_TOKEN": "hf_cliWRONGtoken99"}, 1, []string{"HF_TOKEN", "lacks access"}},
		{"missing repo", []string{"pull", "--endpoint", srv.URL, "someone/nothing"}, nil, 1, []string{"someone/nothing", "not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pullEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			stdout, stderr, code := gptviz(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
			for _, secret := range []string{"hf_cliSECRETtoken42", "hf_cliWRONGtoken99"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("a token appears in the output")
				}
			}
		})
	}
}

// TestReportDownload: report refuses a model that is not cached (telling
// the user to pull it) unless --download is given, which pulls it first.
func TestReportDownload(t *testing.T) {
	pullEnv(t)
	srv := hubtest.NewServer(t, defaultRepo(t))
	t.Setenv("HF_ENDPOINT", srv.URL)
	out := filepath.Join(t.TempDir(), "r.html")

	_, stderr, code := gptviz(t, "report", "--model", "gpt2", "--steps", "1", "-o", out, "Hello")
	if code != 1 || !strings.Contains(stderr, "gptviz pull gpt2") {
		t.Errorf("report of an uncached model: exit %d, stderr %q; want 1 and a hint to pull", code, stderr)
	}
	if n := srv.Count("", ""); n != 0 {
		t.Errorf("report without --download sent %d requests to the hub", n)
	}
	stdout, stderr, code := gptviz(t, "report", "--model", "gpt2", "--download", "--steps", "1", "-o", out, "Hello")
	if code != 0 || strings.TrimSpace(stdout) != out {
		t.Fatalf("report --download: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// TestPullEndpointRefusedFailsFast: pull --endpoint to a port nothing
// listens on used to retry for about 31 s, and its hint named only
// HF_ENDPOINT. It now fails on the first try, naming --endpoint.
func TestPullEndpointRefusedFailsFast(t *testing.T) {
	pullEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	_, stderr, code := gptviz(t, "pull", "--endpoint", refused, "gpt2")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"cannot reach " + refused, "connection refused", "--endpoint (" + refused + ")"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "retrying") {
		t.Errorf("the refused connection was retried:\n%s", stderr)
	}
}

// TestPullEndpointNotAURL: pull --endpoint 'not a url' used to say
// "invalid name:"; it is a usage error naming the flag.
func TestPullEndpointNotAURL(t *testing.T) {
	pullEnv(t)
	_, stderr, code := gptviz(t, "pull", "--endpoint", "not a url", "gpt2")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if want := `--endpoint "not a url": not an http(s) URL`; !strings.Contains(stderr, want) || strings.Contains(stderr, "invalid name") {
		t.Errorf("stderr %q, want %q and no \"invalid name\"", stderr, want)
	}
}

// TestPullOfflineDamagedCache: pull --offline of a cached model whose
// weights blob was truncated used to exit 0; it now fails naming the repo
// and the file, and says how to repair it.
func TestPullOfflineDamagedCache(t *testing.T) {
	pullEnv(t)
	repo := defaultRepo(t)
	repo.ID, repo.Aliases, repo.ResolveCache = "good/m", nil, false
	srv := hubtest.NewServer(t, repo)
	stdout, stderr, code := gptviz(t, "pull", "--endpoint", srv.URL, "good/m")
	if code != 0 {
		t.Fatalf("pull: exit %d: %s", code, stderr)
	}
	weights := filepath.Join(strings.TrimSpace(stdout), "model.safetensors")
	blob, err := filepath.EvalSymlinks(weights)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(blob, 1000); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = gptviz(t, "pull", "good/m", "--offline")
	if code != 1 {
		t.Errorf("pull --offline of a damaged cache: exit %d, want 1", code)
	}
	for _, w := range []string{"good/m", "model.safetensors", "damaged", `"gptviz pull good/m" online`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}

// TestHubErrorHints: model/hub used to build the CLI's advice itself
// ("run \"gptviz pull NAME --revision R\"", "(--offline or
// HF_HUB_OFFLINE=1)", "--endpoint (URL)"); it now returns structured errors
// in its own words, and hubError adds the commands and flags, keeping the
// chain for errors.As.
func TestHubErrorHints(t *testing.T) {
	nc := &hub.NotCachedError{Name: "gpt2", Repos: []string{"gpt2", "openai-community/gpt2"}, Revision: "main", Cache: "/c"}
	ncRev := &hub.NotCachedError{Name: "org/m", Repos: []string{"org/m"}, Revision: "refs/pr/1", Cache: "/c"}
	netErr := errors.New("gpt2/config.json (revision main): cannot reach http://127.0.0.1:1: connection refused")
	tests := []struct {
		name string
		err  error
		want string // the whole message
	}{
		{"not cached", fmt.Errorf("--model gpt2: %w", nc), "--model gpt2: " + nc.Error() + `; run "gptviz pull gpt2" to download it`},
		{"not cached, revision", ncRev, ncRev.Error() + `; run "gptviz pull org/m --revision refs/pr/1" to download it`},
		{"offline by --offline", &hub.OfflineError{Name: "gpt2", Option: true, Err: nc},
			"offline mode is on, so gpt2 cannot be downloaded: " + nc.Error() + "; drop --offline to download it"},
		{"offline by HF_HUB_OFFLINE", &hub.OfflineError{Name: "gpt2", Env: "HF_HUB_OFFLINE", Err: nc},
			"offline mode is on (set by HF_HUB_OFFLINE), so gpt2 cannot be downloaded: " + nc.Error() + "; unset HF_HUB_OFFLINE to download it"},
		{"offline by both", &hub.OfflineError{Name: "gpt2", Option: true, Env: "HF_HUB_OFFLINE", Err: nc},
			"offline mode is on (set by HF_HUB_OFFLINE), so gpt2 cannot be downloaded: " + nc.Error() + "; drop --offline and unset HF_HUB_OFFLINE to download it"},
		{"damaged", &hub.DamagedError{Name: "good/m", Repo: "good/m", Revision: "main", Snapshot: "/s", Files: []string{"model.safetensors: short"}},
			`good/m (revision main) in the cache is damaged (snapshot /s): model.safetensors: short; run "gptviz pull good/m" online to download it again`},
		{"endpoint from the flag", &hub.EndpointError{Endpoint: "not a url", Source: hub.EndpointOption, Problem: "not an http(s) URL"},
			`--endpoint "not a url": not an http(s) URL`},
		{"endpoint from HF_ENDPOINT", &hub.EndpointError{Endpoint: "x", Source: hub.EndpointEnv, Problem: "not an http(s) URL"},
			`HF_ENDPOINT "x": not an http(s) URL`},
		{"unreachable, the flag", fmt.Errorf("pull gpt2: %w", &hub.UnreachableError{Endpoint: "http://127.0.0.1:1", Source: hub.EndpointOption, Err: netErr}),
			"pull gpt2: " + netErr.Error() + "; check the network connection and --endpoint (http://127.0.0.1:1)"},
		{"unreachable, HF_ENDPOINT", &hub.UnreachableError{Endpoint: "http://127.0.0.1:1", Source: hub.EndpointEnv, Err: netErr},
			netErr.Error() + "; check the network connection and HF_ENDPOINT (http://127.0.0.1:1)"},
		{"other", hub.ErrNotFound, hub.ErrNotFound.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hubError(tt.err)
			if got.Error() != tt.want {
				t.Errorf("hubError(%v)\n = %q\nwant %q", tt.err, got, tt.want)
			}
			for _, target := range []any{new(*hub.NotCachedError), new(*hub.OfflineError), new(*hub.DamagedError), new(*hub.EndpointError), new(*hub.UnreachableError)} {
				if errors.As(tt.err, target) != errors.As(got, target) {
					t.Errorf("hubError lost or added %T in the chain", target)
				}
			}
		})
	}
	if hubError(nil) != nil {
		t.Error("hubError(nil) != nil")
	}
}

// TestModelNotCachedHint: a --model missing from the cache says which pull
// command downloads it, with its revision; offline mode says what turned it
// on. These run without a hub and without ../shared.
func TestModelNotCachedHint(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"main", []string{"tokens", "--model", "gpt2", "Hi"}, nil, `; run "gptviz pull gpt2" to download it`},
		{"revision", []string{"tokens", "--model", "gpt2", "--revision", "v9", "Hi"}, nil, `; run "gptviz pull gpt2 --revision v9" to download it`},
		{"report --download, HF_HUB_OFFLINE", []string{"report", "--download", "--model", "gpt2", "-o", "r.html", "Hi"}, map[string]string{"HF_HUB_OFFLINE": "1"},
			"--model gpt2: offline mode is on (set by HF_HUB_OFFLINE), so gpt2 cannot be downloaded"},
		{"report --download, HF_HUB_OFFLINE hint", []string{"report", "--download", "--model", "gpt2", "-o", "r.html", "Hi"}, map[string]string{"HF_HUB_OFFLINE": "1"},
			"; unset HF_HUB_OFFLINE to download it"},
		{"pull --offline", []string{"pull", "--offline", "gpt2"}, nil, "offline mode is on, so gpt2 cannot be downloaded"},
		{"pull --offline hint", []string{"pull", "--offline", "gpt2"}, nil, "; drop --offline to download it"},
		{"pull, HF_HUB_OFFLINE", []string{"pull", "gpt2"}, map[string]string{"HF_HUB_OFFLINE": "1"}, "offline mode is on (set by HF_HUB_OFFLINE)"},
		{"pull, HF_HUB_OFFLINE hint", []string{"pull", "gpt2"}, map[string]string{"HF_HUB_OFFLINE": "1"}, "; unset HF_HUB_OFFLINE to download it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pullEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, stderr, code := gptviz(t, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
}
