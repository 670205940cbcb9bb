// Package serve is gptviz serve: a local HTTP server where a learner types a
// prompt, steps the model one token at a time (sampling under sliders, or
// forcing a candidate by hand), undoes and forks, and watches working
// memory change: the candidates and their probabilities, the new token's
// attention, the KV cache, the logit lens and evictions. It composes model,
// viz, lessons and output as the command line does; none of them imports
// it.
//
// # Security
//
// The server drives a model on the learner's machine, so it answers only
// its own page, as Jupyter does:
//
//   - it listens on loopback by default (the command's --addr);
//   - every request carries a random access token (32 bytes from
//     crypto/rand): in the URL the command prints (?token=), which the
//     first load turns into a cookie, or in the X-Gptviz-Token header;
//     a missing or wrong token is refused (401);
//   - a request whose Host is not the bound address (a DNS name pointing
//     at it: DNS rebinding) or that comes from another origin (Origin, or
//     Sec-Fetch-Site: cross-site) is refused (403);
//   - request bodies are bounded (Limits.BodyBytes; 413 over it) and
//     malformed JSON is a 400 that says where it broke.
//
// # API
//
// JSON over HTTP; every answer that fails is {"error": message} with a
// 4xx status that says whose fault it is.
//
//	POST   /api/tokenize              {"prompt"} → the tokens, as typed
//	POST   /api/sessions              {"prompt", "temperature", "top_k", "top_p", "seed", "layer", "head"} → prefill; the state
//	GET    /api/sessions/{id}         the state
//	POST   /api/sessions/{id}/step    {"n", and any setting} → n states, one JSON line each as each step ends
//	POST   /api/sessions/{id}/force   {"id": token id} → the state after forcing it
//	POST   /api/sessions/{id}/undo    the state one step back (the KV cache truncated; a step that evicted is undone by replaying the session up to the step before)
//	POST   /api/sessions/{id}/settings {"temperature", "top_k", "top_p", "layer", "head"} → the state
//	POST   /api/sessions/{id}/fork    a new session from this point; its state
//	DELETE /api/sessions/{id}         frees it (POST …/close for navigator.sendBeacon)
//	GET    /api/sessions/{id}/charts  the report's charts of the run so far (ECharts options)
//	GET    /api/sessions/{id}/download?format=html|ipynb|json&lang=en|zh  the report
//	GET    /api/lessons?lang=en|zh    the lessons: number, id, title, address
//	GET    /lessons/{N}?lang=en|zh    lesson N rendered on the server's model, its try-it cells runnable
//	POST   /api/run                   {"command": "gptviz report …"} → what the command wrote (a /results/ address) and printed
//	GET    /results/{id}/{name}       a file a command wrote: a page in a sandbox, any other file as a download
//
// # Lessons and try-it cells
//
// A lesson page is `gptviz lesson N --lang L` run on the server's model
// through Options.Command (the command line's own code, in-process), with
// /static/lesson.js added: each gptviz command of a try-it-yourself cell
// becomes an editable line with a Run button, and its result appears in
// place — the page it wrote in a frame, what it printed as text. The
// lessons package knows nothing of this; the server only adds a script to
// the page the lesson command writes.
//
// A line sent to /api/run is split into words as a shell splits a simple
// command (quotes and backslashes group and escape; splitWords) and
// nothing else: no variable, command substitution, glob, redirection, pipe
// or second command — those characters are plain text in the words. The
// first word must be gptviz and the second one of RunCommands; anything
// else is refused (400) with a message saying what runs here. The command
// parses its flags itself (an unknown flag or bad value is a 400 naming
// it), runs on the loaded model only, writes no file but the one it shows
// (the command line refuses --out, --figures and --trace), runs within
// Limits.CommandTime and a compute slot, and stops when the tab closes.
// Its file is kept among the last Limits.Results (Limits.ResultBytes in
// all) and served with a sandbox Content-Security-Policy: an origin of its
// own, which cannot use this server's API or cookie.
//
// A state (stateJSON) holds the tokens (prompt, generated, forced,
// evicted), the next token's top candidates with P and the sampler's
// probability under the current settings, the newest token's attention
// [n_layer][n_head][keys] and logit lens, the KV cache's size and the
// chosen layer and head's newest rows, and the evictions.
//
// # Limits
//
// At most Limits.Sessions sessions live at once (a new one over it is
// refused with 429), each with a prompt of at most Limits.PromptBytes bytes
// and Limits.PromptTokens tokens and at most Limits.Steps decode steps; a
// session unused for Limits.Idle is freed. The model is loaded once and
// read by every session; each session owns its KV cache and recording.
// Model work (prefills, steps, downloads, lessons and try-it commands)
// runs at most Limits.Compute at a time, and a request whose client has
// gone stops before its next step. A lesson or try-it command runs at most
// Limits.CommandTime (504 over it); the server keeps the last Limits.Results
// files they wrote and 8 rendered lesson pages.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/trace"
)

// Limits bound what the server holds and does; a zero field takes its
// default (DefaultLimits).
type Limits struct {
	Sessions     int           // sessions alive at once
	PromptBytes  int           // bytes of one prompt
	PromptTokens int           // tokens of one prompt (0: the model's n_positions)
	Steps        int           // decode steps of one session
	Idle         time.Duration // a session unused this long is freed
	BodyBytes    int64         // bytes of one request body
	Compute      int           // model computations at once (0: GOMAXPROCS)
	CommandTime  time.Duration // time of one lesson or try-it command
	Results      int           // files of try-it commands kept, newest first
	ResultBytes  int64         // bytes of those files in all
}

// DefaultLimits are the limits of a zero Limits field.
var DefaultLimits = Limits{
	Sessions:    16,
	PromptBytes: 16 << 10,
	Steps:       256,
	Idle:        30 * time.Minute,
	BodyBytes:   64 << 10,
	CommandTime: 2 * time.Minute,
	Results:     16,
	ResultBytes: 128 << 20,
}

func (l Limits) withDefaults(c int) Limits {
	d := DefaultLimits
	if l.Sessions <= 0 {
		l.Sessions = d.Sessions
	}
	if l.PromptBytes <= 0 {
		l.PromptBytes = d.PromptBytes
	}
	if l.PromptTokens <= 0 {
		l.PromptTokens = c
	}
	if l.Steps <= 0 {
		l.Steps = d.Steps
	}
	if l.Idle <= 0 {
		l.Idle = d.Idle
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = d.BodyBytes
	}
	if l.Compute <= 0 {
		l.Compute = runtime.GOMAXPROCS(0)
	}
	if l.CommandTime <= 0 {
		l.CommandTime = d.CommandTime
	}
	if l.Results <= 0 {
		l.Results = d.Results
	}
	if l.ResultBytes <= 0 {
		l.ResultBytes = d.ResultBytes
	}
	return l
}

// Run is what a session did, for the command lines of its report
// (Options.Commands): the prompt, the decode steps taken, the settings and
// seed, and whether `gptviz report` with them records the same tokens.
type Run struct {
	Prompt   string
	Steps    int
	Sampling model.SamplingParams
	Seed     uint64
	Overflow model.Overflow
	Lang     string // "en" or "zh"
	Format   string // "html", "ipynb" or "json"
	// Reproducible is true when every step was sampled with Sampling from
	// the seeded sampler (none forced, no slider moved in between): then
	// `gptviz report` with these settings writes the same tokens.
	Reproducible bool
}

// Options configure a Server.
type Options struct {
	// Model is loaded once and shared read-only by every session.
	Model *model.Model
	// Token is the access token; empty makes a random one.
	Token string
	// Version is recorded in downloaded traces (trace.Settings.Version).
	Version string
	// Commands returns the command lines a downloaded report shows (and
	// records in the trace's Settings.Command, Rerun): the command line
	// knows its flags, this package does not. Nil shows none.
	Commands func(Run) lessons.Commands
	// OmitTimings removes wall-clock timings from a Trace before it is
	// downloaded, as `gptviz report --reproducible` does, so that a
	// download is byte for byte that command's file. Nil keeps them.
	OmitTimings func(*trace.Trace)
	Limits      Limits
	// Command runs `gptviz ARGS` (args[0] one of RunCommands) in-process
	// on Model, parsed by that command's own flags, printing to stdout and
	// stderr, and returns the file it wrote (nil for a command that writes
	// none), or an error: a *CommandError for a wrong command line or a
	// failed run, ctx's error once ctx is done. It serves the lessons
	// (`lesson N --lang L`) and runs their try-it-yourself cells. Nil
	// serves neither.
	Command func(ctx context.Context, args []string, stdout, stderr io.Writer) (*File, error)
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Available is the memory the process may still use, bytes, ok false
	// when unknown; nil is model.AvailableMemory. A new session is refused
	// (503) when what it may come to hold (model.EstimateMemory of its
	// prompt and Limits.Steps: KV cache, activations, sampling and the
	// recording) is more than what is available beside the open sessions'.
	Available func() (int64, bool)
}

// Server is the live playground: an http.Handler.
type Server struct {
	opt     Options
	lim     Limits
	token   string
	cookie  string
	mux     *http.ServeMux
	compute chan struct{}

	lessonCache *store // rendered lesson pages by NN-id.lang
	results     *store // files of try-it commands by id

	mu       sync.Mutex
	sessions map[string]*session
	hosts    map[string]bool // allowed Host values; nil allows any IP literal or localhost on port
	port     string
	anyIP    bool
}

// New returns a server for opt.Model. It errors when the model has no
// tokenizer or the random token cannot be made.
func New(opt Options) (*Server, error) {
	if opt.Model == nil || opt.Model.Tokenizer == nil {
		return nil, errors.New("serve: the model has no tokenizer (vocab.json and merges.txt)")
	}
	if opt.Token == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("serve: access token: %w", err)
		}
		opt.Token = hex.EncodeToString(b[:])
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Available == nil {
		opt.Available = model.AvailableMemory
	}
	lim := opt.Limits.withDefaults(opt.Model.Config.NPositions)
	s := &Server{opt: opt, lim: lim, token: opt.Token, cookie: "gptviz_token",
		compute: make(chan struct{}, lim.Compute), sessions: map[string]*session{}, hosts: map[string]bool{},
		lessonCache: newStore(8, lim.ResultBytes), results: newStore(lim.Results, lim.ResultBytes)}
	s.routes()
	return s, nil
}

// Token returns the access token.
func (s *Server) Token() string { return s.token }

// Limits returns the limits in force (defaults filled in).
func (s *Server) Limits() Limits { return s.lim }

// Bind sets the address the server answers for, as the listener reports
// it (host:port): a request's Host must name that port and either that IP,
// or localhost when it is a loopback address, or — when the listener is on
// the unspecified address (0.0.0.0, ::) — any IP literal. A DNS name other
// than localhost is always refused: that is DNS rebinding. Bind also names
// the token cookie after the port, so servers on two ports keep theirs.
func (s *Server) Bind(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("serve: address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("serve: address %q: not an IP address", addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.port, s.anyIP = port, ip.IsUnspecified()
	s.hosts = map[string]bool{net.JoinHostPort(ip.String(), port): true}
	if ip.IsLoopback() {
		s.hosts[net.JoinHostPort("localhost", port)] = true
	}
	s.cookie = "gptviz_token_" + port
	return nil
}

// URL returns the address to open: http://addr/?token=… (with lang=zh for
// Chinese).
func (s *Server) URL(addr, lang string) string {
	q := url.Values{"token": {s.token}}
	if lang == "zh" {
		q.Set("lang", "zh")
	}
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsUnspecified() {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return "http://" + addr + "/?" + q.Encode()
}

// Serve answers requests on ln until ctx is done, then shuts down (letting
// running requests finish for up to 5 seconds) and frees every session.
// Idle sessions are freed once a minute.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.Bind(ln.Addr().String()); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				hs.Shutdown(sctx)
				cancel()
				close(done)
				return
			case <-t.C:
				s.reap()
			}
		}
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		err = nil
	}
	s.closeAll()
	return err
}

// ServeHTTP checks Host, Origin and the token, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if !s.hostOK(r.Host) {
		httpError(w, http.StatusForbidden, "host %q is not this server's address (a request through another name is refused: DNS rebinding)", r.Host)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		httpError(w, http.StatusForbidden, "origin %q may not use this server", o)
		return
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		httpError(w, http.StatusForbidden, "cross-site requests may not use this server")
		return
	}
	s.mu.Lock()
	cookieName := s.cookie
	s.mu.Unlock()
	if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet && r.URL.Path == "/" {
		if !s.tokenOK(q) {
			httpError(w, http.StatusUnauthorized, "wrong access token: open the URL that gptviz serve printed")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *r.URL
		v := u.Query()
		v.Del("token")
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return
	}
	tok := r.Header.Get("X-Gptviz-Token")
	if tok == "" {
		if c, err := r.Cookie(cookieName); err == nil {
			tok = c.Value
		}
	}
	if !s.tokenOK(tok) {
		httpError(w, http.StatusUnauthorized, "missing or wrong access token: open the URL that gptviz serve printed")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) tokenOK(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

// hostOK reports whether host (a request's Host) names this server (Bind).
func (s *Server) hostOK(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hosts[host] {
		return true
	}
	if !s.anyIP {
		return false
	}
	h, p, err := net.SplitHostPort(host)
	return err == nil && p == s.port && (net.ParseIP(h) != nil || h == "localhost")
}

// acquire waits for a compute slot or ctx; release gives it back.
func (s *Server) acquire(ctx context.Context) error {
	select {
	case s.compute <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) release() { <-s.compute }

// newID returns a random session id, 16 hex digits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// atoiOr parses s as an int, or returns d when s is empty; ok is false on
// a malformed number.
func atoiOr(s string, d int) (int, bool) {
	if s == "" {
		return d, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}
