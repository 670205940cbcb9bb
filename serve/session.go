package serve

import (
	"fmt"

	"github.com/gptviz/gptviz/internal/inputfile"
	"net/http"
	"sync"
	"time"

	"github.com/gptviz/gptviz/model"
)

// session is one learner's run: a model.Live, the sampler and what each
// step was done with.
type session struct {
	id string

	mu       sync.Mutex // held while the run is read or changed
	live     *model.Live
	prompt   string
	seed     uint64
	params   model.SamplingParams // the sliders now
	sampler  *model.Sampler       // params, at the point of the random stream after the last step
	before   []*model.Sampler     // the sampler before each step, for undo
	used     []model.SamplingParams
	layer    int // the layer and head the page looks at
	head     int
	lastUsed time.Time // guarded by Server.mu
	memory   int64     // bytes the session may come to hold (model.EstimateMemory); guarded by Server.mu
	closed   bool
}

// reproducible reports whether every step was sampled (none forced) with
// the same settings, and returns them: then `gptviz report` with them and
// the seed records the same tokens.
func (ss *session) reproducible() (model.SamplingParams, bool) {
	p := ss.params
	if len(ss.used) > 0 {
		p = ss.used[0]
	}
	for k, u := range ss.used {
		if u != p || ss.live.Forced(k+1) {
			return p, false
		}
	}
	return p, true
}

// errStatus is an error with the HTTP status it is answered with.
type errStatus struct {
	code int
	msg  string
}

func (e *errStatus) Error() string { return e.msg }

func statusf(code int, format string, args ...any) error {
	return &errStatus{code, fmt.Sprintf(format, args...)}
}

// add stores a new session, freeing idle ones first; it errors (429) when
// Limits.Sessions are alive.
func (s *Server) add(ss *session) error {
	s.reap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.lim.Sessions {
		return statusf(http.StatusTooManyRequests, "%d sessions are open, the most this server keeps (close a tab, or wait %s minutes for an idle one to be freed)", len(s.sessions), minutes(s.lim.Idle))
	}
	if avail, ok := s.opt.Available(); ok {
		var held int64
		for _, o := range s.sessions {
			held += o.memory
		}
		// What the open sessions may still grow to is taken from what is
		// available now; they hold some of it already, so this is
		// cautious.
		if ss.memory > avail-held {
			return statusf(http.StatusServiceUnavailable, "a session of %d steps needs up to %s of memory, and only %s is free beside the %d open sessions (close one)",
				s.lim.Steps, inputfile.Size(ss.memory), inputfile.Size(max(avail-held, 0)), len(s.sessions))
		}
	}
	ss.lastUsed = s.opt.Now()
	s.sessions[ss.id] = ss
	return nil
}

// get returns session id, marking it used; 404 when there is none.
func (s *Server) get(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	if ss == nil {
		return nil, statusf(http.StatusNotFound, "no session %q (it was closed, or freed after %s minutes unused)", id, minutes(s.lim.Idle))
	}
	ss.lastUsed = s.opt.Now()
	return ss, nil
}

// remove frees session id.
func (s *Server) remove(id string) bool {
	s.mu.Lock()
	ss := s.sessions[id]
	delete(s.sessions, id)
	s.mu.Unlock()
	if ss != nil {
		ss.free()
	}
	return ss != nil
}

// free drops the session's run once no request holds it.
func (ss *session) free() {
	ss.mu.Lock()
	ss.closed, ss.live, ss.sampler, ss.before = true, nil, nil, nil
	ss.mu.Unlock()
}

// reap frees the sessions unused for Limits.Idle.
func (s *Server) reap() {
	now := s.opt.Now()
	var idle []*session
	s.mu.Lock()
	for id, ss := range s.sessions {
		if now.Sub(ss.lastUsed) >= s.lim.Idle {
			delete(s.sessions, id)
			idle = append(idle, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range idle {
		ss.free()
	}
}

// closeAll frees every session.
func (s *Server) closeAll() {
	s.mu.Lock()
	all := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for _, ss := range all {
		ss.free()
	}
}

// Sessions returns the number of live sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// lock locks the session and fails (410) when it was freed meanwhile.
func (ss *session) lock() error {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return errGone
	}
	return nil
}

var errGone = &errStatus{http.StatusGone, "the session was closed"}
