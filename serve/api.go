package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.page)
	m.HandleFunc("GET /static/{name}", s.static)
	m.HandleFunc("POST /api/tokenize", s.handle(s.tokenize))
	m.HandleFunc("POST /api/sessions", s.handle(s.create))
	m.HandleFunc("GET /api/sessions/{id}", s.handle(s.state))
	m.HandleFunc("POST /api/sessions/{id}/step", s.step)
	m.HandleFunc("POST /api/sessions/{id}/force", s.handle(s.force))
	m.HandleFunc("POST /api/sessions/{id}/undo", s.handle(s.undo))
	m.HandleFunc("POST /api/sessions/{id}/settings", s.handle(s.settings))
	m.HandleFunc("POST /api/sessions/{id}/fork", s.handle(s.fork))
	m.HandleFunc("DELETE /api/sessions/{id}", s.handle(s.closeSession))
	m.HandleFunc("POST /api/sessions/{id}/close", s.handle(s.closeSession)) // navigator.sendBeacon when a tab closes
	m.HandleFunc("GET /api/sessions/{id}/charts", s.handle(s.charts))
	m.HandleFunc("GET /api/sessions/{id}/download", s.download)
	m.HandleFunc("GET /api/lessons", s.handle(s.lessonList))
	m.HandleFunc("GET /lessons/{key}", s.lessonPage)
	m.HandleFunc("POST /api/run", s.handle(s.run))
	m.HandleFunc("GET /results/{id}/{name}", s.result)
	s.mux = m
}

// httpError answers with status code and a JSON body {"error": message}.
func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

// writeErr answers err: its own status for an *errStatus, 400 for a
// *model.ParamError or *model.PromptError, 499-like silence when the
// client has gone, 500 otherwise.
func writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var es *errStatus
	var pe *model.ParamError
	var pre *model.PromptError
	switch {
	case errors.As(err, &es):
		httpError(w, es.code, "%s", es.msg)
	case errors.As(err, &pe), errors.As(err, &pre):
		httpError(w, http.StatusBadRequest, "%v", err)
	case r.Context().Err() != nil:
		// The client has gone: nobody reads the answer.
	default:
		httpError(w, http.StatusInternalServerError, "%v", err)
	}
}

// handle adapts a handler that returns a value to answer as JSON.
func (s *Server) handle(f func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(v)
	}
}

// decode reads r's JSON body into v: at most Limits.BodyBytes (413 over
// it), no unknown fields, one value (400 otherwise, saying where). An
// empty body leaves v as it is.
func (s *Server) decode(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.lim.BodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return statusf(http.StatusRequestEntityTooLarge, "request body over %d bytes", s.lim.BodyBytes)
		}
		return statusf(http.StatusBadRequest, "request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return statusf(http.StatusBadRequest, "request body: malformed JSON at byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return statusf(http.StatusBadRequest, "request body: malformed JSON: it ends at byte %d, inside a value", len(body))
		case errors.As(err, &te):
			return statusf(http.StatusBadRequest, "request body: field %q: want %s, got %s (byte %d)", te.Field, te.Type, te.Value, te.Offset)
		}
		return statusf(http.StatusBadRequest, "request body: %v", err)
	}
	if d.More() {
		return statusf(http.StatusBadRequest, "request body: more than one JSON value")
	}
	return nil
}

// settingsJSON are the sampler's settings; nil fields keep the current ones.
type settingsJSON struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopK        *int     `json:"top_k,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Seed        *uint64  `json:"seed,omitempty"`
	Layer       *int     `json:"layer,omitempty"`
	Head        *int     `json:"head,omitempty"`
}

// apply returns p with the fields set in j.
func (j settingsJSON) apply(p model.SamplingParams) model.SamplingParams {
	if j.Temperature != nil {
		p.Temperature = *j.Temperature
	}
	if j.TopK != nil {
		p.TopK = *j.TopK
	}
	if j.TopP != nil {
		p.TopP = *j.TopP
	}
	return p
}

// view sets the layer and head the session shows, checked against the
// model.
func (ss *session) view(j settingsJSON, c int, h int) error {
	if j.Layer != nil {
		if *j.Layer < 0 || *j.Layer >= c {
			return statusf(http.StatusBadRequest, "layer %d: the model has layers 0..%d", *j.Layer, c-1)
		}
		ss.layer = *j.Layer
	}
	if j.Head != nil {
		if *j.Head < 0 || *j.Head >= h {
			return statusf(http.StatusBadRequest, "head %d: the model has heads 0..%d", *j.Head, h-1)
		}
		ss.head = *j.Head
	}
	return nil
}

type tokenJSON struct {
	ID      int    `json:"id"`
	Display string `json:"display"`
	Prompt  bool   `json:"prompt,omitempty"`
	Forced  bool   `json:"forced,omitempty"`
	Evicted bool   `json:"evicted,omitempty"`
}

// checkPrompt bounds a prompt by Limits.PromptBytes and valid UTF-8, and
// returns its token ids, bounded by Limits.PromptTokens.
func (s *Server) checkPrompt(p string) ([]int, error) {
	if len(p) > s.lim.PromptBytes {
		return nil, statusf(http.StatusRequestEntityTooLarge, "the prompt has %d bytes; this server takes at most %d", len(p), s.lim.PromptBytes)
	}
	if err := model.CheckPrompt(p); err != nil {
		return nil, statusf(http.StatusBadRequest, "%v", err)
	}
	ids := s.opt.Model.Tokenizer.Encode(p)
	if len(ids) > s.lim.PromptTokens {
		return ids, statusf(http.StatusRequestEntityTooLarge, "the prompt has %d tokens; this server takes at most %d", len(ids), s.lim.PromptTokens)
	}
	return ids, nil
}

type tokenizeReq struct {
	Prompt string `json:"prompt"`
}

func (s *Server) tokenize(r *http.Request) (any, error) {
	var req tokenizeReq
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	ids, err := s.checkPrompt(req.Prompt)
	var es *errStatus
	if err != nil && !(errors.As(err, &es) && ids != nil) {
		return nil, err
	}
	t := s.opt.Model.Tokenizer
	out := struct {
		Tokens    []tokenJSON `json:"tokens"`
		Bytes     int         `json:"bytes"`
		MaxTokens int         `json:"max_tokens"`
		MaxBytes  int         `json:"max_bytes"`
		Window    int         `json:"n_positions"`
		TooLong   string      `json:"too_long,omitempty"`
	}{Tokens: []tokenJSON{}, Bytes: len(req.Prompt), MaxTokens: s.lim.PromptTokens, MaxBytes: s.lim.PromptBytes, Window: s.opt.Model.Config.NPositions}
	if err != nil {
		out.TooLong = err.Error()
	}
	for _, id := range ids[:min(len(ids), s.lim.PromptTokens+1)] {
		out.Tokens = append(out.Tokens, tokenJSON{ID: id, Display: t.Display(id), Prompt: true})
	}
	return out, nil
}

type createReq struct {
	Prompt string `json:"prompt"`
	settingsJSON
}

func (s *Server) create(r *http.Request) (any, error) {
	var req createReq
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	ids, err := s.checkPrompt(req.Prompt)
	if err != nil {
		return nil, err
	}
	p := req.apply(model.SamplingParams{Temperature: 1, TopP: 1})
	seed := uint64(1) // gptviz report's --seed default
	if req.Seed != nil {
		seed = *req.Seed
	}
	sampler, err := model.NewSampler(p, seed)
	if err != nil {
		return nil, err
	}
	c := s.opt.Model.Config
	ss := &session{id: newID(), prompt: req.Prompt, seed: seed, params: p, sampler: sampler, layer: c.NLayer - 1,
		memory: s.sessionMemory(len(ids))}
	if err := ss.view(req.settingsJSON, c.NLayer, c.NHead); err != nil {
		return nil, err
	}
	// Take a place first, so that a flood of requests cannot prefill more
	// than Limits.Sessions prompts.
	if err := s.add(ss); err != nil {
		return nil, err
	}
	if err := s.acquire(r.Context()); err != nil {
		s.remove(ss.id)
		return nil, err
	}
	ss.mu.Lock()
	ss.live, err = model.NewLive(s.opt.Model, model.LiveOptions{Prompt: req.Prompt, MaxSteps: s.lim.Steps})
	s.release()
	if err != nil {
		ss.mu.Unlock()
		s.remove(ss.id)
		return nil, err
	}
	defer ss.mu.Unlock()
	return s.stateOf(ss)
}

// sessionMemory is what a session of a prompt of n tokens may come to
// hold, bytes: model.EstimateMemory less the weights and the runtime,
// which every session shares.
func (s *Server) sessionMemory(n int) int64 {
	e := model.EstimateMemory(s.opt.Model.Config, model.RunSize{PromptTokens: max(n, 1), Steps: s.lim.Steps})
	return e.KVCache + e.Activations + e.Sampling + e.Recorder
}

func (s *Server) session(r *http.Request) (*session, error) {
	ss, err := s.get(r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := ss.lock(); err != nil {
		return nil, err
	}
	if ss.live == nil { // still prefilling in another request: cannot be, create holds the lock
		ss.mu.Unlock()
		return nil, errGone
	}
	return ss, nil
}

// bodylessSession is session for a request that carries no settings: its
// body must be empty or {} (decode; a 400 names an unknown field),
// checked before the session is looked up and locked.
func (s *Server) bodylessSession(r *http.Request) (*session, error) {
	if err := s.decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	return s.session(r)
}

func (s *Server) state(r *http.Request) (any, error) {
	ss, err := s.session(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	return s.stateOf(ss)
}

// setParams moves the sliders: the sampler continues its random stream
// with the new settings.
func (ss *session) setParams(j settingsJSON) error {
	p := j.apply(ss.params)
	if p == ss.params {
		return nil
	}
	n, err := ss.sampler.WithParams(p)
	if err != nil {
		return err
	}
	ss.params, ss.sampler = p, n
	return nil
}

func (s *Server) settings(r *http.Request) (any, error) {
	var req settingsJSON
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	ss, err := s.session(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	if req.Seed != nil {
		return nil, statusf(http.StatusBadRequest, "seed: set when the session starts; fork or start a new session for another")
	}
	c := s.opt.Model.Config
	if err := ss.view(req, c.NLayer, c.NHead); err != nil {
		return nil, err
	}
	if err := ss.setParams(req); err != nil {
		return nil, err
	}
	return s.stateOf(ss)
}

type stepReq struct {
	N int `json:"n"`
	settingsJSON
}

// step takes N decode steps (default 1) and streams the state after each as
// one JSON line (application/x-ndjson); a failure after the first line is
// a line {"error": …}. A client that goes away stops the steps.
func (s *Server) step(w http.ResponseWriter, r *http.Request) {
	req := stepReq{N: 1}
	if err := s.decode(r, &req); err != nil {
		writeErr(w, r, err)
		return
	}
	if req.Seed != nil {
		writeErr(w, r, statusf(http.StatusBadRequest, "seed: set when the session starts"))
		return
	}
	if req.N < 1 || req.N > s.lim.Steps {
		writeErr(w, r, statusf(http.StatusBadRequest, "n %d: want 1..%d steps", req.N, s.lim.Steps))
		return
	}
	ss, err := s.session(r)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	defer ss.mu.Unlock()
	c := s.opt.Model.Config
	if err := ss.view(req.settingsJSON, c.NLayer, c.NHead); err != nil {
		writeErr(w, r, err)
		return
	}
	if err := ss.setParams(req.settingsJSON); err != nil {
		writeErr(w, r, err)
		return
	}
	ctx := r.Context()
	started := false
	flusher, _ := w.(http.Flusher)
	for range req.N {
		err := s.advance(ctx, ss, -1)
		var st *stateJSON
		if err == nil {
			st, err = s.stateOf(ss)
		}
		if err != nil {
			if !started {
				writeErr(w, r, err)
			} else if ctx.Err() == nil {
				json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			}
			return
		}
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
			started = true
		}
		if err := json.NewEncoder(w).Encode(st); err != nil {
			return // the client has gone
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// advance takes one decode step of ss (held locked): sampled when forced <
// 0, else forcing token forced. It stops with ctx.
func (s *Server) advance(ctx context.Context, ss *session, forced int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ss.live.Steps() >= s.lim.Steps {
		return statusf(http.StatusConflict, "the session has taken %d steps, the most this server allows (fork is bounded the same; start a new session)", s.lim.Steps)
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	before := ss.sampler.Clone()
	var err error
	if forced < 0 {
		_, err = ss.live.Step(ss.sampler)
	} else {
		_, err = ss.live.Force(ss.sampler, forced)
	}
	if err != nil {
		return err
	}
	ss.before = append(ss.before, before)
	ss.used = append(ss.used, ss.params)
	return nil
}

type forceReq struct {
	ID *int `json:"id"`
}

func (s *Server) force(r *http.Request) (any, error) {
	var req forceReq
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.ID == nil {
		return nil, statusf(http.StatusBadRequest, "request body: want {\"id\": TOKEN_ID}")
	}
	if v := s.opt.Model.Config.VocabSize; *req.ID < 0 || *req.ID >= v {
		// advance reads a negative id as "sample": refuse it here.
		return nil, statusf(http.StatusBadRequest, "request body: id %d: must be a token id in 0..%d", *req.ID, v-1)
	}
	ss, err := s.session(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	if err := s.advance(r.Context(), ss, *req.ID); err != nil {
		return nil, err
	}
	return s.stateOf(ss)
}

func (s *Server) undo(r *http.Request) (any, error) {
	ss, err := s.bodylessSession(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	if ss.live.Steps() == 0 {
		return nil, statusf(http.StatusConflict, "nothing to undo: no step was taken")
	}
	if err := s.acquire(r.Context()); err != nil {
		return nil, err
	}
	err = ss.live.Undo()
	if errors.Is(err, model.ErrUndoEvicted) {
		// The step evicted tokens whose keys and values are gone from the
		// cache: run the session again up to the step before.
		var l *model.Live
		if l, err = s.replay(r.Context(), ss, ss.live.Steps()-1); err == nil {
			ss.live = l
		}
	}
	s.release()
	if err != nil {
		return nil, err
	}
	k := len(ss.before) - 1
	// The sampler goes back to where it was before the step, with the
	// sliders as they are now.
	if ss.sampler, err = ss.before[k].WithParams(ss.params); err != nil {
		return nil, err
	}
	ss.before, ss.used = ss.before[:k], ss.used[:k]
	return s.stateOf(ss)
}

// replay returns ss's run (held locked, with a compute slot) made again
// from its prompt up to decode step k: the prefill, then each step as it
// was taken — a sampled one with a copy of the sampler it was drawn with,
// which draws the same token, a forced one forced to the same token. The
// model computes the same numbers for the same tokens, so this is the run
// as it was after step k, the evicted tokens' keys and values included;
// it costs a prefill and k steps. It stops with ctx.
func (s *Server) replay(ctx context.Context, ss *session, k int) (*model.Live, error) {
	l, err := model.NewLive(s.opt.Model, model.LiveOptions{Prompt: ss.prompt, MaxSteps: s.lim.Steps})
	if err != nil {
		return nil, err
	}
	toks := ss.live.Tokens()
	for i := range k {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		want := toks[l.PromptLen()+i].ID
		smp := ss.before[i].Clone()
		var res *model.SampleResult
		if ss.live.Forced(i + 1) {
			res, err = l.Force(smp, want)
		} else {
			res, err = l.Step(smp)
		}
		if err != nil {
			return nil, fmt.Errorf("undo: replaying step %d: %w", i+1, err)
		}
		if res.Chosen != want {
			return nil, fmt.Errorf("undo: replaying step %d drew token %d, not %d as before", i+1, res.Chosen, want)
		}
	}
	return l, nil
}

func (s *Server) fork(r *http.Request) (any, error) {
	ss, err := s.bodylessSession(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	n := &session{id: newID(), prompt: ss.prompt, seed: ss.seed, params: ss.params, sampler: ss.sampler.Clone(),
		layer: ss.layer, head: ss.head, memory: s.sessionMemory(ss.live.PromptLen())}
	for _, b := range ss.before {
		n.before = append(n.before, b.Clone())
	}
	n.used = append(n.used, ss.used...)
	if err := s.add(n); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.live, err = ss.live.Fork(); err != nil {
		s.remove(n.id)
		return nil, err
	}
	return s.stateOf(n)
}

func (s *Server) closeSession(r *http.Request) (any, error) {
	if !s.remove(r.PathValue("id")) {
		return nil, statusf(http.StatusNotFound, "no session %q", r.PathValue("id"))
	}
	return map[string]bool{"closed": true}, nil
}

// run returns what ss did, for the command lines of its report.
func (ss *session) run(lang, format string) Run {
	p, ok := ss.reproducible()
	return Run{Prompt: ss.prompt, Steps: ss.live.Steps(), Sampling: p, Seed: ss.seed, Overflow: model.OverflowBlock,
		Lang: lang, Format: format, Reproducible: ok}
}

// download answers the session as a report: format html (default), ipynb
// or json (the Trace), lang en (default) or zh; byte for byte what `gptviz
// report --reproducible --format F --lang L` writes for a reproducible
// session, and what `gptviz render` writes of the downloaded trace for
// any.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, lang := q.Get("format"), q.Get("lang")
	if format == "" {
		format = "html"
	}
	if lang == "" {
		lang = "en"
	}
	if format != "html" && format != "ipynb" && format != "json" {
		writeErr(w, r, statusf(http.StatusBadRequest, "format %q: want html, ipynb or json", format))
		return
	}
	if lang != "en" && lang != "zh" {
		writeErr(w, r, statusf(http.StatusBadRequest, "lang %q: want en or zh", lang))
		return
	}
	ss, err := s.session(r)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	var buf bytes.Buffer
	err = func() error {
		defer ss.mu.Unlock()
		if err := s.acquire(r.Context()); err != nil {
			return err
		}
		defer s.release()
		return s.writeReport(r.Context(), &buf, ss, lang, format)
	}()
	if err != nil {
		writeErr(w, r, err)
		return
	}
	name := map[string]string{"html": "report.html", "ipynb": "report.ipynb", "json": "trace.json"}[format]
	ctype := map[string]string{"html": "text/html; charset=utf-8", "ipynb": "application/x-ipynb+json", "json": "application/json"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(buf.Bytes())
}

// writeReport writes ss's run (held locked) through the report pipeline.
func (s *Server) writeReport(ctx context.Context, w io.Writer, ss *session, lang, format string) error {
	run := ss.run(lang, format)
	var cmds lessons.Commands
	if s.opt.Commands != nil {
		cmds = s.opt.Commands(run)
	}
	tr, err := ss.live.Trace(trace.Settings{Temperature: run.Sampling.Temperature, TopK: run.Sampling.TopK, TopP: run.Sampling.TopP,
		Seed: ss.seed, Command: cmds.Rerun, Version: s.opt.Version})
	if err != nil {
		return err
	}
	if s.opt.OmitTimings != nil {
		s.opt.OmitTimings(tr)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if format == "json" {
		return output.WriteJSON(w, tr)
	}
	opt := lessons.ReportOptions{Lang: lang, Commands: cmds}
	if format == "ipynb" {
		opt.Static = []string{"svg", "png"}
	}
	nb, err := lessons.Report(tr, opt)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if format == "ipynb" {
		return output.WriteIPYNB(w, nb)
	}
	return output.WriteHTML(w, nb)
}

// chartJSON is a viz chart as the page draws it with ECharts.
type chartJSON struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Subtitle string          `json:"subtitle,omitempty"`
	Option   json.RawMessage `json:"option"`
	Height   int             `json:"height"`
}

// charts answers the session's working memory as viz charts (the report's
// own): the new token's attention and the KV cache contents of the chosen
// layer and head, the KV cache size over the steps and the logit lens.
func (s *Server) charts(r *http.Request) (any, error) {
	lang := r.URL.Query().Get("lang")
	if lang != "zh" {
		lang = "en"
	}
	ss, err := s.session(r)
	if err != nil {
		return nil, err
	}
	defer ss.mu.Unlock()
	tr := *ss.live.Recorded()
	tr.Settings = trace.Settings{Steps: ss.live.Steps(), Temperature: ss.params.Temperature, TopK: ss.params.TopK, TopP: ss.params.TopP, Seed: ss.seed}
	tr.Evictions = ss.live.Runner().Evictions()
	kc := ss.live.Runner().Cache()
	c := tr.Model.Config
	lk := trace.LayerKV{Layer: ss.layer, WindowStart: ss.live.Runner().WindowStart(), Keys: make([][][]float32, c.NHead), Values: make([][][]float32, c.NHead)}
	k, v := kc.Head(ss.layer, ss.head)
	lk.Keys[ss.head], lk.Values[ss.head] = rows(k, kc.DHead), rows(v, kc.DHead)
	for h := range c.NHead {
		if h != ss.head {
			lk.Keys[h], lk.Values[h] = [][]float32{}, [][]float32{}
		}
	}
	tr.Cache = []trace.LayerKV{lk}
	opt := viz.Lang(lang)
	out := struct {
		Charts []chartJSON `json:"charts"`
		Skip   []string    `json:"skipped,omitempty"`
	}{Charts: []chartJSON{}}
	for _, f := range []func() (*viz.Chart, error){
		func() (*viz.Chart, error) { return viz.NewTokenAttention(&tr, ss.layer, ss.head, opt) },
		func() (*viz.Chart, error) { return viz.KVHeatmap(&tr, ss.layer, ss.head, opt) },
		func() (*viz.Chart, error) { return viz.KVSize(&tr, opt) },
		func() (*viz.Chart, error) { return viz.LogitLens(&tr, opt) },
	} {
		ch, err := f()
		if err != nil {
			out.Skip = append(out.Skip, err.Error())
			continue
		}
		out.Charts = append(out.Charts, chartJSON{ID: ch.ID, Title: ch.Title, Subtitle: ch.Subtitle, Option: ch.Option, Height: ch.Height})
	}
	return out, nil
}

func rows(x []float32, n int) [][]float32 {
	out := make([][]float32, len(x)/n)
	for i := range out {
		out[i] = x[i*n : (i+1)*n]
	}
	return out
}

// finite makes NaN and ±Inf JSON-safe (0), which encoding/json refuses.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
