package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gptviz/gptviz/lessons"
)

// The lessons, with their try-it-yourself cells runnable in place.
//
// GET /lessons/{key}?lang= is `gptviz lesson KEY --lang LANG` run on the
// server's model (Options.Command), as the command writes it, with a
// script added (/static/lesson.js) that turns each command of a try-it
// cell into an editable line with a Run button. Run sends the line to
// POST /api/run, which splits it into words (splitWords: quotes group
// words, nothing else is special; no shell is involved), accepts only
// `gptviz` followed by one of RunCommands, and runs it in-process through
// Options.Command, parsed by the command's own flags, bounded in time
// (Limits.CommandTime) and stopped when the tab closes. The file it writes
// is kept (Limits.Results, Limits.ResultBytes) and shown from
// GET /results/{id}/{name} in a sandboxed frame under the cell; what it
// prints is shown as text.

// RunCommands are the gptviz subcommands a try-it cell may run on the
// server.
var RunCommands = []string{"report", "compare", "generate", "tokens", "lesson"}

// File is a file a command wrote: its base name (report.html,
// compare.ipynb, …) and contents.
type File struct {
	Name string
	Data []byte
}

// CommandError is a command that failed. Usage is true when the command
// line was wrong (exit status 2: an unknown flag, a bad value, a missing
// argument), false for a failure of the run (exit status 1).
type CommandError struct {
	Usage bool
	Err   error
}

func (e *CommandError) Error() string { return e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// lessonJSON is one lesson in the list.
type lessonJSON struct {
	Number int    `json:"number"`
	ID     string `json:"id"`
	Title  string `json:"title"`
	URL    string `json:"url"`
}

// lessonList answers the lessons in ?lang=, with the address of each.
func (s *Server) lessonList(r *http.Request) (any, error) {
	if s.opt.Command == nil {
		return nil, statusf(http.StatusNotFound, "this server does not run lessons")
	}
	lang := langOf(r)
	ls, err := lessons.Lessons()
	if err != nil {
		return nil, err
	}
	out := struct {
		Lessons  []lessonJSON `json:"lessons"`
		Commands []string     `json:"commands"`
	}{Lessons: []lessonJSON{}, Commands: RunCommands}
	for _, l := range ls {
		out.Lessons = append(out.Lessons, lessonJSON{Number: l.Number, ID: l.ID, Title: l.Title(lang),
			URL: "/lessons/" + strconv.Itoa(l.Number) + "?lang=" + lang})
	}
	return out, nil
}

func langOf(r *http.Request) string {
	if r.URL.Query().Get("lang") == "zh" {
		return "zh"
	}
	return "en"
}

// lessonPage answers lesson {key} in ?lang=, rendered on the server's
// model the first time it is asked for and kept.
func (s *Server) lessonPage(w http.ResponseWriter, r *http.Request) {
	if s.opt.Command == nil {
		writeErr(w, r, statusf(http.StatusNotFound, "this server does not run lessons"))
		return
	}
	l, err := lessons.Find(r.PathValue("key"))
	if err != nil {
		writeErr(w, r, statusf(http.StatusNotFound, "%v", err))
		return
	}
	lang := langOf(r)
	key := l.Name() + "." + lang
	page, ok := s.lessonCache.get(key)
	if !ok {
		var f *File
		f, _, _, err = s.command(r.Context(), []string{"lesson", strconv.Itoa(l.Number), "--lang", lang})
		if err == nil && (f == nil || path.Ext(f.Name) != ".html") {
			err = errors.New("the lesson command wrote no HTML page")
		}
		if err == nil {
			page, err = runnable(f.Data)
		}
		if err != nil {
			writeErr(w, r, err)
			return
		}
		s.lessonCache.put(key, page)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// runReq is a try-it command line.
type runReq struct {
	Command string `json:"command"`
}

// runJSON is what a command did: the file it wrote (URL, to show in a
// frame when Kind is "page", to download when "file"), or for a command
// that writes none ("text") only what it printed.
type runJSON struct {
	Kind   string   `json:"kind"`
	URL    string   `json:"url,omitempty"`
	Name   string   `json:"name,omitempty"`
	Bytes  int      `json:"bytes,omitempty"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
	Words  []string `json:"words"`
}

// run runs a try-it command line (POST /api/run).
func (s *Server) run(r *http.Request) (any, error) {
	if s.opt.Command == nil {
		return nil, statusf(http.StatusNotFound, "this server does not run commands")
	}
	var req runReq
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if n := s.lim.PromptBytes + 1024; len(req.Command) > n {
		return nil, statusf(http.StatusRequestEntityTooLarge, "the command has %d bytes; this server takes at most %d", len(req.Command), n)
	}
	words, err := splitWords(req.Command)
	if err != nil {
		return nil, statusf(http.StatusBadRequest, "command: %v", err)
	}
	if len(words) == 0 || words[0] != "gptviz" {
		return nil, statusf(http.StatusBadRequest, "command: want a gptviz command (gptviz %s …); nothing else runs here", strings.Join(RunCommands, "|"))
	}
	if len(words) < 2 || !slices.Contains(RunCommands, words[1]) {
		sub := ""
		if len(words) > 1 {
			sub = words[1]
		}
		return nil, statusf(http.StatusBadRequest, "command: gptviz %q does not run on this server; it runs gptviz %s (run the others in a terminal)", sub, strings.Join(RunCommands, ", "))
	}
	f, stdout, stderr, err := s.command(r.Context(), words[1:])
	if err != nil {
		return nil, err
	}
	out := runJSON{Kind: "text", Stdout: stdout, Stderr: stderr, Words: words}
	if f != nil {
		key := newID() + "/" + f.Name
		s.results.put(key, f.Data)
		out.Kind, out.Name, out.Bytes = "file", f.Name, len(f.Data)
		out.URL = "/results/" + key
		if path.Ext(f.Name) == ".html" {
			out.Kind = "page"
		}
	}
	return out, nil
}

// command runs `gptviz args` through Options.Command with a compute slot,
// within Limits.CommandTime and ctx, its output bounded: the file it
// wrote (or nil) and what it printed. A *CommandError is answered 400
// (Usage) or 422; the time limit 504.
func (s *Server) command(ctx context.Context, args []string) (*File, string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.lim.CommandTime)
	defer cancel()
	if err := s.acquire(ctx); err != nil {
		return nil, "", "", s.commandErr(ctx, err)
	}
	defer s.release()
	stdout, stderr := &limitedBuffer{n: 1 << 20}, &limitedBuffer{n: 1 << 20}
	f, err := s.opt.Command(ctx, args, stdout, stderr)
	if err != nil {
		return nil, "", "", s.commandErr(ctx, err)
	}
	if f != nil && int64(len(f.Data)) > s.lim.ResultBytes {
		return nil, "", "", statusf(http.StatusRequestEntityTooLarge, "gptviz %s wrote %d bytes; this server keeps results of at most %d", args[0], len(f.Data), s.lim.ResultBytes)
	}
	if f != nil {
		f.Name = path.Base(f.Name)
	}
	return f, stdout.String(), stderr.String(), nil
}

func (s *Server) commandErr(ctx context.Context, err error) error {
	var ce *CommandError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return statusf(http.StatusGatewayTimeout, "the command ran longer than %s, the most this server allows (gptviz serve --command-time); lower --steps, or run it in a terminal", s.lim.CommandTime)
	case errors.As(err, &ce) && ce.Usage:
		return statusf(http.StatusBadRequest, "%v", ce.Err)
	case errors.As(err, &ce):
		return statusf(http.StatusUnprocessableEntity, "%v", ce.Err)
	}
	return err
}

// result answers a command's file: an HTML page in a sandbox (an origin of
// its own: it cannot use this server's API or cookie), drawn in a frame of
// this server's pages only; any other file as a download.
func (s *Server) result(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	data, ok := s.results.get(r.PathValue("id") + "/" + name)
	if !ok {
		writeErr(w, r, statusf(http.StatusNotFound, "no result %s/%s (this server keeps the last %d)", r.PathValue("id"), name, s.lim.Results))
		return
	}
	h := w.Header()
	switch path.Ext(name) {
	case ".html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "sandbox allow-scripts allow-downloads allow-popups; frame-ancestors 'self'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
	case ".json":
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	default:
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	w.Write(data)
}

// limitedBuffer keeps the first n bytes written and drops the rest,
// saying so at the end.
type limitedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	n       int
	dropped int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(len(p), l.n-l.b.Len())
	l.b.Write(p[:k])
	l.dropped += len(p) - k
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped > 0 {
		return l.b.String() + fmt.Sprintf("\n[… %d more bytes not kept]\n", l.dropped)
	}
	return l.b.String()
}

var _ io.Writer = (*limitedBuffer)(nil)

// store keeps the newest pages by key, at most n of them and bytes in
// all.
type store struct {
	mu    sync.Mutex
	n     int
	bytes int64
	keys  []string // oldest first
	data  map[string][]byte
}

func newStore(n int, bytes int64) *store {
	return &store{n: n, bytes: bytes, data: map[string][]byte{}}
}

func (st *store) put(key string, b []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.data[key]; !ok {
		st.keys = append(st.keys, key)
	}
	st.data[key] = b
	for len(st.keys) > 1 && (len(st.keys) > st.n || st.size() > st.bytes) {
		delete(st.data, st.keys[0])
		st.keys = st.keys[1:]
	}
}

func (st *store) size() int64 {
	var n int64
	for _, b := range st.data {
		n += int64(len(b))
	}
	return n
}

func (st *store) get(key string) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.data[key]
	return b, ok
}

// runnable returns a lesson page (output.WriteHTML's) with the try-it
// script and its styles added: its Content-Security-Policy lets it load
// /static/lesson.js, talk to this server and frame its results, and
// nothing else it did not allow before.
func runnable(page []byte) ([]byte, error) {
	const metaStart = `<meta http-equiv="Content-Security-Policy" content="`
	s := string(page)
	i := strings.Index(s, metaStart)
	if i < 0 {
		return nil, errors.New("lesson page: no Content-Security-Policy to extend")
	}
	j := strings.Index(s[i+len(metaStart):], `"`)
	if j < 0 {
		return nil, errors.New("lesson page: malformed Content-Security-Policy")
	}
	j += i + len(metaStart)
	csp := html.UnescapeString(s[i+len(metaStart) : j])
	if !strings.Contains(csp, "script-src ") {
		return nil, errors.New("lesson page: its Content-Security-Policy has no script-src")
	}
	csp = strings.Replace(csp, "script-src ", "script-src 'self' ", 1) + "; connect-src 'self'; frame-src 'self'"
	k := strings.LastIndex(s, "</body>")
	if k < j {
		return nil, errors.New("lesson page: no </body>")
	}
	var b strings.Builder
	b.WriteString(s[:i+len(metaStart)])
	b.WriteString(html.EscapeString(csp))
	b.WriteString(s[j:k])
	b.WriteString("<script src=\"/static/lesson.js\"></script>\n")
	b.WriteString(s[k:])
	return []byte(b.String()), nil
}
