package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/serve"
)

// startServe starts gptviz serve's server on the default model, with
// default limits, behind an httptest server bound to its address (closed
// when the test ends).
func startServe(t *testing.T) (*serve.Server, *httptest.Server) {
	t.Helper()
	m, err := loadDefault()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serveOptions(m, &modelFlags{}, serve.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	if err := srv.Bind(ts.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return srv, ts
}

// serveTest starts gptviz serve's server on the default model behind an
// httptest server and returns a function that sends one request with the
// token and returns the body, failing the test on a status other than 200.
func serveTest(t *testing.T) func(method, path, body string) []byte {
	t.Helper()
	srv, ts := startServe(t)
	return func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("X-Gptviz-Token", srv.Token())
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
}

// TestServeDownloadEqualsReport: a session stepped with one setting (with
// a forced token undone on the way) downloads, in every format and
// language, byte for byte the file 'gptviz report --reproducible' writes
// for the same prompt, steps, settings and seed.
func TestServeDownloadEqualsReport(t *testing.T) {
	t.Parallel()
	do := serveTest(t)
	var st struct {
		ID           string
		Reproducible bool
		Candidates   []struct{ ID int }
	}
	json.Unmarshal(do("POST", "/api/sessions", `{"prompt":"The light","temperature":0.8,"top_k":40,"seed":3}`), &st)
	do("POST", "/api/sessions/"+st.ID+"/step", `{"n":3}`)
	do("POST", "/api/sessions/"+st.ID+"/force", `{"id":7}`)
	do("POST", "/api/sessions/"+st.ID+"/undo", ``)
	b := do("POST", "/api/sessions/"+st.ID+"/step", `{"n":2}`)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	json.Unmarshal(lines[len(lines)-1], &st)
	if !st.Reproducible {
		t.Fatal("the session is not reproducible")
	}
	dir := t.TempDir()
	for _, tc := range []struct{ format, lang string }{{"html", "en"}, {"html", "zh"}, {"json", "en"}, {"ipynb", "en"}} {
		t.Run(tc.format+"-"+tc.lang, func(t *testing.T) {
			got := do("GET", fmt.Sprintf("/api/sessions/%s/download?format=%s&lang=%s", st.ID, tc.format, tc.lang), "")
			out := filepath.Join(dir, "report-"+tc.lang+"."+tc.format)
			var stdout, stderr bytes.Buffer
			args := []string{"report", "--reproducible", "--steps", "5", "--temperature", "0.8", "--top-k", "40", "--seed", "3",
				"--format", tc.format, "--lang", tc.lang, "-o", out, "The light"}
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("gptviz %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				os.WriteFile(out+".got", got, 0o644)
				t.Errorf("download differs from gptviz report (%d vs %d bytes); see %s.got", len(got), len(want), out)
			}
		})
	}
}

// TestServeForcedDownload: a session with a forced token and a slider
// moved between steps has no report command that reruns it, so its page
// shows none; its trace renders (gptviz render) like any other.
func TestServeForcedDownload(t *testing.T) {
	t.Parallel()
	do := serveTest(t)
	var st struct{ ID string }
	json.Unmarshal(do("POST", "/api/sessions", `{"prompt":"Once upon a time"}`), &st)
	do("POST", "/api/sessions/"+st.ID+"/step", `{"n":2}`)
	do("POST", "/api/sessions/"+st.ID+"/force", `{"id":7}`)
	do("POST", "/api/sessions/"+st.ID+"/settings", `{"temperature":0.5}`)
	do("POST", "/api/sessions/"+st.ID+"/step", `{"n":2}`)
	dir := t.TempDir()
	tracePath := filepath.Join(dir, "trace.json")
	if err := os.WriteFile(tracePath, do("GET", "/api/sessions/"+st.ID+"/download?format=json", ""), 0o644); err != nil {
		t.Fatal(err)
	}
	got := do("GET", "/api/sessions/"+st.ID+"/download?format=html", "")
	if bytes.Contains(got, []byte("gptviz report --")) {
		t.Error("the page of a forced session shows a report command that would not rerun it")
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"render", "-o", filepath.Join(dir, "render.html"), tracePath}, &stdout, &stderr); err != nil {
		t.Fatalf("gptviz render of the downloaded trace: %v\n%s", err, stderr.String())
	}
}

// TestServeCommand: gptviz serve prints a token URL on loopback, answers
// it, refuses the API without the token, and returns cleanly when its
// context ends (Ctrl-C).
func TestServeCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--sessions", "2", "--max-steps", "4"}, pw, &stderr)
		pw.Close()
	}()
	var line []byte
	buf := make([]byte, 1)
	for {
		if _, err := pr.Read(buf); err != nil {
			t.Fatalf("reading the URL: %v (stderr %s)", err, stderr.String())
		}
		if buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	go io.Copy(io.Discard, pr)
	u := string(line)
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(u, "/?token=") {
		t.Fatalf("printed %q, want http://127.0.0.1:PORT/?token=…", u)
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(u) // as a browser: the token becomes a cookie
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(`src="/static/app.js"`)) {
		t.Errorf("the URL answered %d %.200s", resp.StatusCode, page)
	}
	base := u[:strings.Index(u, "/?")]
	resp, err = http.Post(base+"/api/sessions", "application/json", strings.NewReader(`{"prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API without the token: %d, want 401", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after Ctrl-C: %v", err)
	}
}

func TestServeUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "x"}, "takes no arguments"},
		{[]string{"serve", "--lang", "fr"}, "--lang"},
		{[]string{"serve", "--addr", "nope"}, "--addr"},
		{[]string{"serve", "--addr", "example.com:80"}, "IP address"},
		{[]string{"serve", "--sessions", "0"}, "--sessions"},
		{[]string{"serve", "--max-steps", "0"}, "--max-steps"},
		{[]string{"serve", "--idle", "0s"}, "--idle"},
		{[]string{"serve", "--command-time", "0s"}, "--command-time"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err, io.Discard) != 2 {
			t.Errorf("%v: %v, want a usage error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestServeRunCommands: the commands gptviz serve runs for the lessons and
// their try-it cells are the command line's own, parsed by their own
// flags, on the server's model: each of serve.RunCommands is one; a command
// that writes a file returns it (the temporary name it printed left out);
// one that prints returns its text; --out, --figures, --trace, another
// model and more steps than the server allows are refused as usage errors.
func TestServeRunCommands(t *testing.T) {
	t.Parallel()
	for _, c := range serve.RunCommands {
		if servedCommands[c] == nil {
			t.Errorf("serve.RunCommands names %q, which serveCommand does not run", c)
		}
	}
	m, err := loadDefault()
	if err != nil {
		t.Fatal(err)
	}
	cmd := serveCommand(m, &modelFlags{}, 16)
	for _, tc := range []struct {
		args  []string
		file  string // the file's name, "" for none
		text  string // in stdout
		usage string // a usage error naming this
	}{
		{args: []string{"tokens", "a; b | c"}, text: "tokens (context window"},
		{args: []string{"generate", "--steps", "2", "--seed", "1", "The light"}, text: "The light"},
		{args: []string{"report", "--steps", "2", "The light"}, file: "report.html"},
		{args: []string{"report", "--steps", "1", "--format", "json", "The light"}, file: "report.json"},
		{args: []string{"report", "--format=ipynb", "--steps", "1", "x"}, file: "report.ipynb"},
		{args: []string{"compare", "--steps", "2", "--seeds", "1", "--sample", "greedy", "x"}, file: "compare.html"},
		{args: []string{"lesson", "2", "--lang", "zh"}, file: "lesson.html"},
		{args: []string{"report", "--help"}, text: "Usage: gptviz report"},
		// A trailing flag that takes a value once swallowed the server's
		// --out and wrote report.html into the working folder.
		{args: []string{"report", "-n", "2", "--continuation"}, usage: "flag needs an argument"},
		{args: []string{"report", "--format", "json", "--continuation"}, usage: "flag needs an argument"},
		{args: []string{"lesson", "--format"}, usage: "flag needs an argument"},
		{args: []string{"report", "-o", "/tmp/x.html", "x"}, usage: "-o: the server shows"},
		{args: []string{"report", "--out=/tmp/x.html", "x"}, usage: "--out: the server shows"},
		{args: []string{"report", "-so", "x"}, usage: "-o"},
		{args: []string{"compare", "--figures", "/tmp", "x"}, usage: "--figures"},
		{args: []string{"generate", "--trace", "/tmp/t.json", "x"}, usage: "--trace"},
		// --open once started the server machine's browser on a file
		// already deleted, once per request.
		{args: []string{"report", "--steps", "2", "--open", "x"}, usage: "--open: the server shows"},
		{args: []string{"compare", "--open=true", "x"}, usage: "--open"},
		{args: []string{"report", "--model", "gpt2", "x"}, usage: "this server runs the default model"},
		{args: []string{"report", "--steps", "17", "x"}, usage: "at most 16 decode steps"},
		{args: []string{"report", "--bogus", "x"}, usage: "unknown flag: --bogus"},
		{args: []string{"tokens"}, usage: "tokens"},
		{args: []string{"pull", "gpt2"}, usage: "want one of"},
		{args: []string{"serve"}, usage: "want one of"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			f, err := cmd(context.Background(), tc.args, &stdout, &stderr)
			var ce *serve.CommandError
			if tc.usage != "" {
				if !errors.As(err, &ce) || !ce.Usage || !strings.Contains(err.Error(), tc.usage) {
					t.Errorf("got %v, want a usage error naming %q", err, tc.usage)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if tc.file != "" && (f == nil || f.Name != tc.file || len(f.Data) == 0) {
				t.Fatalf("file %+v, want %s", f, tc.file)
			}
			if tc.file == "" && f != nil {
				t.Errorf("wrote %s", f.Name)
			}
			if tc.text != "" && !strings.Contains(stdout.String(), tc.text) {
				t.Errorf("printed %q, want %q", stdout.String(), tc.text)
			}
			if strings.Contains(stdout.String(), os.TempDir()) {
				t.Errorf("printed the temporary file: %q", stdout.String())
			}
		})
	}
	for _, name := range []string{"report.html", "trace.json", "lesson.html"} {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("a served command wrote %s into the working folder", name)
		}
	}
	// A server started with --model runs commands without --model on it,
	// and the commands its pages show name it.
	named := serveCommand(m, &modelFlags{name: "my-model"}, 16)
	var stdout, stderr bytes.Buffer
	f, err := named(context.Background(), []string{"report", "--steps", "1", "x"}, &stdout, &stderr)
	if err != nil || !bytes.Contains(f.Data, []byte("--model my-model")) {
		t.Errorf("with the server's --model: %v; the report names it: %v", err, err == nil && bytes.Contains(f.Data, []byte("--model my-model")))
	}
	if _, err := named(context.Background(), []string{"report", "--model", "my-model", "--steps", "1", "x"}, &stdout, &stderr); err != nil {
		t.Errorf("naming the server's model: %v", err)
	}
}

// TestServeRunMemory: a command serve runs that needs more memory than is
// free beside the loaded model is refused, saying so. Not parallel: it
// fakes availableMemory.
func TestServeRunMemory(t *testing.T) {
	m, err := loadDefault()
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	availableMemory = func() (int64, bool) { return 1 << 10, true }
	_, err = serveCommand(m, &modelFlags{}, 16)(context.Background(), []string{"report", "--steps", "2", "x"}, io.Discard, io.Discard)
	var ce *serve.CommandError
	if !errors.As(err, &ce) || ce.Usage || !strings.Contains(err.Error(), "of memory") {
		t.Errorf("got %v, want a failure naming the memory", err)
	}
}
