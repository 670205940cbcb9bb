package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gptviz/gptviz/lessons"
	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/defaultmodel"
	"github.com/gptviz/gptviz/output"
)

var loadModel = sync.OnceValues(func() (*model.Model, error) { return defaultmodel.Load() })

// testServer is a Server behind an httptest server on loopback.
type testServer struct {
	*Server
	ts  *httptest.Server
	url string
}

func newTestServer(t testing.TB, lim Limits) *testServer {
	t.Helper()
	m, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Model: m, Limits: lim, Command: fakeCommand})
	if err != nil {
		t.Fatal(err)
	}
	ts := newHTTPTest(t, s)
	return &testServer{Server: s, ts: ts, url: ts.URL}
}

// newHTTPTest serves s on a loopback httptest server bound to it.
func newHTTPTest(t testing.TB, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(s)
	if err := s.Bind(ts.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// do sends a request with the token in the header (unless hdr says
// otherwise) and returns the status and body.
func (s *testServer) do(t testing.TB, method, path, body string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Gptviz-Token", s.Token())
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// json sends a request that must succeed and decodes its (last) JSON line.
func (s *testServer) json(t testing.TB, method, path, body string) *stateJSON {
	t.Helper()
	code, b := s.do(t, method, path, body, nil)
	if code != http.StatusOK {
		t.Fatalf("%s %s %s: %d %s", method, path, body, code, b)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	var st stateJSON
	if err := json.Unmarshal(lines[len(lines)-1], &st); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
	return &st
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{Sessions: 2, PromptBytes: 200, PromptTokens: 40, Steps: 5, BodyBytes: 1 << 10})
	host := strings.TrimPrefix(s.url, "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		hdr          map[string]string
		want         int
		wantMsg      string
	}{
		{"no token", "GET", "/api/sessions/x", "", map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"no token page", "GET", "/", "", map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"wrong token", "GET", "/", "", map[string]string{"X-Gptviz-Token": strings.Repeat("0", 64)}, 401, "access token"},
		{"wrong token in URL", "GET", "/?token=nope", "", map[string]string{"X-Gptviz-Token": ""}, 401, "wrong access token"},
		{"token in URL on an API path", "GET", "/static/app.js?token=" + s.Token(), "", map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"right token", "GET", "/", "", nil, 200, ""},
		{"foreign origin", "POST", "/api/tokenize", `{"prompt":"x"}`, map[string]string{"Origin": "http://evil.example"}, 403, "origin"},
		{"foreign origin same host other port", "POST", "/api/tokenize", `{"prompt":"x"}`, map[string]string{"Origin": "http://127.0.0.1:1"}, 403, "origin"},
		{"own origin", "POST", "/api/tokenize", `{"prompt":"x"}`, map[string]string{"Origin": s.url}, 200, ""},
		{"cross-site fetch", "POST", "/api/tokenize", `{"prompt":"x"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"DNS rebinding host", "GET", "/", "", map[string]string{"Host": "evil.example:" + port}, 403, "DNS rebinding"},
		{"host other port", "GET", "/", "", map[string]string{"Host": "127.0.0.1:1"}, 403, "host"},
		{"localhost", "GET", "/", "", map[string]string{"Host": "localhost:" + port}, 200, ""},
		{"malformed JSON", "POST", "/api/tokenize", `{"prompt":`, nil, 400, "malformed JSON"},
		{"malformed JSON syntax", "POST", "/api/sessions", `{"prompt" "x"}`, nil, 400, "malformed JSON at byte"},
		{"wrong type", "POST", "/api/sessions", `{"prompt": 3}`, nil, 400, `field "prompt"`},
		{"unknown field", "POST", "/api/sessions", `{"prompt": "x", "rm": true}`, nil, 400, "unknown field"},
		{"two values", "POST", "/api/sessions", `{"prompt": "x"} {}`, nil, 400, "more than one"},
		{"oversized body", "POST", "/api/tokenize", `{"prompt":"` + strings.Repeat("a", 2000) + `"}`, nil, 413, "request body over"},
		{"oversized prompt bytes", "POST", "/api/sessions", `{"prompt":"` + strings.Repeat("a", 300) + `"}`, nil, 413, "bytes"},
		{"oversized prompt tokens", "POST", "/api/sessions", `{"prompt":"` + strings.Repeat("x ", 60) + `"}`, nil, 413, "tokens"},
		{"invalid UTF-8", "POST", "/api/sessions", `{"prompt":"\ud800"}`, nil, 201, ""},
		{"bad temperature", "POST", "/api/sessions", `{"prompt":"x","temperature":-1}`, nil, 400, "temperature"},
		{"bad layer", "POST", "/api/sessions", `{"prompt":"x","layer":99}`, nil, 400, "layer 99"},
		{"no session", "GET", "/api/sessions/nope", "", nil, 404, "no session"},
		{"wrong method", "GET", "/api/tokenize", "", nil, 405, ""},
		{"unknown static", "GET", "/static/x.js", "", nil, 404, ""},
		{"bad format", "GET", "/api/sessions/x/download?format=exe", "", nil, 400, "format"},
		// The lessons and their try-it commands.
		{"run: no token", "POST", "/api/run", `{"command":"gptviz tokens x"}`, map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"run: wrong token", "POST", "/api/run", `{"command":"gptviz tokens x"}`, map[string]string{"X-Gptviz-Token": "x"}, 401, "access token"},
		{"run: foreign origin", "POST", "/api/run", `{"command":"gptviz tokens x"}`, map[string]string{"Origin": "http://evil.example"}, 403, "origin"},
		{"run: cross-site", "POST", "/api/run", `{"command":"gptviz tokens x"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"run: foreign host", "POST", "/api/run", `{"command":"gptviz tokens x"}`, map[string]string{"Host": "evil.example:" + port}, 403, "DNS rebinding"},
		{"run: oversized", "POST", "/api/run", `{"command":"gptviz tokens ` + strings.Repeat("a", 2000) + `"}`, nil, 413, "request body over"},
		{"run: malformed", "POST", "/api/run", `{"command":`, nil, 400, "malformed JSON"},
		{"run: wrong type", "POST", "/api/run", `{"command":["gptviz","tokens"]}`, nil, 400, `field "command"`},
		{"run: unknown field", "POST", "/api/run", `{"command":"gptviz tokens x","shell":true}`, nil, 400, "unknown field"},
		{"run: empty", "POST", "/api/run", `{}`, nil, 400, "want a gptviz command"},
		{"run: not gptviz", "POST", "/api/run", `{"command":"rm -rf /"}`, nil, 400, "want a gptviz command"},
		{"run: gptviz alone", "POST", "/api/run", `{"command":"gptviz"}`, nil, 400, "does not run on this server"},
		{"run: not allowed", "POST", "/api/run", `{"command":"gptviz pull gpt2"}`, nil, 400, `gptviz "pull" does not run on this server`},
		{"run: serve", "POST", "/api/run", `{"command":"gptviz serve --addr 0.0.0.0:80"}`, nil, 400, "does not run"},
		{"run: train", "POST", "/api/run", `{"command":"gptviz train x"}`, nil, 400, "does not run"},
		{"run: quoted command name", "POST", "/api/run", `{"command":"'gptviz pull' x"}`, nil, 400, "want a gptviz command"},
		{"run: command substitution as the name", "POST", "/api/run", `{"command":"gptviz $(echo report)"}`, nil, 400, "does not run"},
		{"run: unclosed quote", "POST", "/api/run", `{"command":"gptviz tokens \"x"}`, nil, 400, "not closed"},
		{"run: usage error", "POST", "/api/run", `{"command":"gptviz compare --bogus"}`, nil, 400, "unknown flag"},
		{"run: failure", "POST", "/api/run", `{"command":"gptviz generate --fail x"}`, nil, 422, "failed"},
		{"run: GET", "GET", "/api/run", ``, nil, 405, ""},
		{"lessons: no token", "GET", "/api/lessons", ``, map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"lesson: no token", "GET", "/lessons/1", ``, map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"lesson: token in URL", "GET", "/lessons/1?token=" + s.Token(), ``, map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"lesson: foreign host", "GET", "/lessons/1", ``, map[string]string{"Host": "evil.example:" + port}, 403, "DNS rebinding"},
		{"lesson: unknown", "GET", "/lessons/99", ``, nil, 404, "no lesson"},
		{"lesson: path", "GET", "/lessons/..%2f..%2fetc", ``, nil, 404, ""},
		{"result: no token", "GET", "/results/x/report.html", ``, map[string]string{"X-Gptviz-Token": ""}, 401, "access token"},
		{"result: unknown", "GET", "/results/nope/report.html", ``, nil, 404, "no result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.do(t, tc.method, tc.path, tc.body, tc.hdr)
			var e struct{ Error string }
			if json.Unmarshal(body, &e) == nil && e.Error != "" {
				body = []byte(e.Error)
			}
			if tc.want == 201 { // either served or refused cleanly, never a 500
				if code >= 500 {
					t.Fatalf("%d %s", code, body)
				}
				return
			}
			if code != tc.want || !strings.Contains(string(body), tc.wantMsg) {
				t.Errorf("got %d %s, want %d containing %q", code, body, tc.want, tc.wantMsg)
			}
		})
	}
}

// TestTokenCookie: the URL's token is turned into a cookie by a redirect,
// and the cookie alone then opens the page and the API.
func TestTokenCookie(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{})
	c := s.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(s.url + "/?lang=zh&token=" + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?lang=zh" {
		t.Fatalf("token URL: %d to %q, want 303 to /?lang=zh", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || ck[0].Value != s.Token() || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", ck)
	}
	req, _ := http.NewRequest("POST", s.url+"/api/tokenize", strings.NewReader(`{"prompt":"hello"}`))
	req.AddCookie(ck[0])
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with the cookie: %d", resp.StatusCode)
	}
}

func TestSessionAPI(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{Sessions: 3, Steps: 12})
	st := s.json(t, "POST", "/api/sessions", `{"prompt":"The light","temperature":0.8,"seed":3}`)
	if st.Steps != 0 || st.PromptLen == 0 || len(st.Candidates) == 0 || len(st.Last.Attention) != st.NLayer || st.KV.Positions != st.PromptLen {
		t.Fatalf("after prefill: %+v", st)
	}
	id := st.ID
	st = s.json(t, "POST", "/api/sessions/"+id+"/step", `{"n":5}`)
	if st.Steps != 5 || len(st.Tokens) != st.PromptLen+5 || st.KV.Positions != st.PromptLen+5 || !st.Reproducible {
		t.Fatalf("after 5 steps: steps %d tokens %d kv %d reproducible %v", st.Steps, len(st.Tokens), st.KV.Positions, st.Reproducible)
	}
	five := st.Tokens
	// A negative id once took a sampled step (advance reads it as "sample").
	for _, bad := range []string{`{"id":-5}`, `{"id":-1}`, `{"id":100000}`} {
		if code, b := s.do(t, "POST", "/api/sessions/"+id+"/force", bad, nil); code != 400 || !strings.Contains(string(b), "must be a token id in 0..") {
			t.Errorf("force %s: %d %s, want 400 naming the token ids", bad, code, b)
		}
	}
	if st := s.json(t, "GET", "/api/sessions/"+id, ``); st.Steps != 5 {
		t.Fatalf("a refused force changed the session: %d steps", st.Steps)
	}
	want := st.Candidates[3].ID
	st = s.json(t, "POST", "/api/sessions/"+id+"/force", fmt.Sprintf(`{"id":%d}`, want))
	if st.Steps != 6 || st.Tokens[len(st.Tokens)-1].ID != want || !st.Tokens[len(st.Tokens)-1].Forced || st.Reproducible {
		t.Fatalf("after force: %+v", st.Tokens[len(st.Tokens)-1])
	}
	st = s.json(t, "POST", "/api/sessions/"+id+"/undo", ``)
	if st.Steps != 5 || !st.Reproducible || fmt.Sprint(st.Tokens) != fmt.Sprint(five) {
		t.Fatalf("after undo: %d steps, tokens %v", st.Steps, st.Tokens)
	}
	st = s.json(t, "POST", "/api/sessions/"+id+"/settings", `{"temperature":0,"layer":0,"head":1}`)
	if st.Temperature != 0 || st.Candidates[0].SampleProb != 1 || st.Layer != 0 || st.Head != 1 {
		t.Fatalf("after settings: %+v", st)
	}
	f := s.json(t, "POST", "/api/sessions/"+id+"/fork", ``)
	if f.ID == id || f.Steps != 5 {
		t.Fatalf("fork: %+v", f)
	}
	s.json(t, "POST", "/api/sessions/"+f.ID+"/step", `{"n":2,"temperature":1.5}`)
	if st := s.json(t, "GET", "/api/sessions/"+id, ``); st.Steps != 5 || st.Temperature != 0 {
		t.Errorf("the fork's steps changed the parent: %d steps, temperature %v", st.Steps, st.Temperature)
	}
	if code, b := s.do(t, "POST", "/api/sessions/"+id+"/step", `{"n":20}`, nil); code != 400 {
		t.Errorf("n over the limit: %d %s", code, b)
	}
	s.json(t, "POST", "/api/sessions/"+id+"/step", `{"n":7}`)
	if code, b := s.do(t, "POST", "/api/sessions/"+id+"/step", ``, nil); code != 409 || !strings.Contains(string(b), "12 steps") {
		t.Errorf("a step over Limits.Steps: %d %s", code, b)
	}
	if code, b := s.do(t, "POST", "/api/sessions/"+id+"/force", `{"id":100000}`, nil); code != 409 && code != 400 {
		t.Errorf("force out of range: %d %s", code, b)
	}
	code, b := s.do(t, "GET", "/api/sessions/"+id+"/charts?lang=zh", ``, nil)
	if code != 200 || !strings.Contains(string(b), `"attn-new-l0-h1"`) || !strings.Contains(string(b), `"kv-l0-h1"`) {
		t.Errorf("charts: %d %.300s", code, b)
	}
	s.json(t, "POST", "/api/sessions", `{"prompt":"a"}`)
	if code, b := s.do(t, "POST", "/api/sessions", `{"prompt":"b"}`, nil); code != 429 || !strings.Contains(string(b), "3 sessions") {
		t.Errorf("a session over Limits.Sessions: %d %s", code, b)
	}
	if code, _ := s.do(t, "DELETE", "/api/sessions/"+id, ``, nil); code != 200 {
		t.Errorf("close: %d", code)
	}
	if code, _ := s.do(t, "GET", "/api/sessions/"+id, ``, nil); code != 404 {
		t.Errorf("a closed session: %d", code)
	}
}

// TestIdleSessionsFreed: a session unused for Limits.Idle is freed at the
// next request that creates one.
func TestIdleSessionsFreed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{Sessions: 1, Idle: time.Minute})
	var mu sync.Mutex
	now := time.Unix(0, 0)
	s.opt.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := s.json(t, "POST", "/api/sessions", `{"prompt":"x"}`)
	if code, _ := s.do(t, "POST", "/api/sessions", `{"prompt":"y"}`, nil); code != 429 {
		t.Fatalf("second session: %d, want 429", code)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	s.json(t, "POST", "/api/sessions", `{"prompt":"y"}`)
	if code, _ := s.do(t, "GET", "/api/sessions/"+st.ID, ``, nil); code != 404 {
		t.Errorf("the idle session: %d, want 404 (freed)", code)
	}
}

// TestCancelStopsSteps: a client that goes away after the first streamed
// step stops the rest.
func TestCancelStopsSteps(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{Steps: 256})
	st := s.json(t, "POST", "/api/sessions", `{"prompt":"The light"}`)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/api/sessions/"+st.ID+"/step", strings.NewReader(`{"n":256}`))
	req.Header.Set("X-Gptviz-Token", s.Token())
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if !bufio.NewScanner(resp.Body).Scan() {
		t.Fatal("no first line")
	}
	cancel()
	resp.Body.Close()
	// The handler holds the session until it stops; then it answers.
	got := s.json(t, "GET", "/api/sessions/"+st.ID, ``)
	if got.Steps >= 256 {
		t.Errorf("all %d steps ran after the client went away", got.Steps)
	}
	t.Logf("stopped after %d of 256 steps", got.Steps)
}

// TestRequestLoop sends thousands of requests, good and bad, from several
// clients at once, bounded in count and time: every one is served or
// refused cleanly (never a 5xx), and once the sessions are closed the heap
// is back near where it started.
func TestRequestLoop(t *testing.T) {
	s := newTestServer(t, Limits{Sessions: 8, Steps: 64, PromptBytes: 512})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const workers, perWorker = 8, 400
	deadline := time.Now().Add(2 * time.Minute)
	var wg sync.WaitGroup
	counts := make([]map[int]int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[w] = map[int]int{}
			var id string
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				var code int
				var b []byte
				switch i % 10 {
				case 0:
					code, b = s.do(t, "POST", "/api/sessions", fmt.Sprintf(`{"prompt":"worker %d round %d","seed":%d}`, w, i, i), nil)
					if code == 200 {
						var st stateJSON
						json.Unmarshal(b, &st)
						id = st.ID
					}
				case 1, 2, 3:
					code, b = s.do(t, "POST", "/api/sessions/"+id+"/step", `{"n":2}`, nil)
				case 4:
					code, b = s.do(t, "POST", "/api/sessions/"+id+"/undo", ``, nil)
				case 5:
					switch i % 40 {
					case 5:
						code, b = s.do(t, "POST", "/api/tokenize", `{"prompt":"`+strings.Repeat("ab ", i%300)+`"}`, nil)
					case 15:
						code, b = s.do(t, "POST", "/api/run", `{"command":"gptviz report --steps 1 'x; y' | sh"}`, nil)
					case 25:
						code, b = s.do(t, "POST", "/api/run", `{"command":"gptviz pull `+strings.Repeat("$(x) ", i%50)+`"}`, nil)
					default:
						code, b = s.do(t, "GET", "/results/"+id+"/report.html", ``, nil)
					}
				case 6:
					code, b = s.do(t, "POST", "/api/sessions/"+id+"/step", `{"n":`, nil)
				case 7:
					code, b = s.do(t, "GET", "/api/sessions/"+id, ``, map[string]string{"X-Gptviz-Token": "bad"})
				case 8:
					code, b = s.do(t, "POST", "/api/sessions/"+id+"/force", `{"id":1}`, map[string]string{"Origin": "http://evil.example"})
				case 9:
					code, b = s.do(t, "DELETE", "/api/sessions/"+id, ``, nil)
				}
				if code >= 500 {
					t.Errorf("worker %d request %d: %d %s", w, i, code, b)
				}
				counts[w][code]++
			}
		}()
	}
	wg.Wait()
	total := map[int]int{}
	for _, c := range counts {
		for k, v := range c {
			total[k] += v
		}
	}
	t.Logf("status counts: %v", total)
	s.closeAll()
	s.ts.CloseClientConnections()
	var after runtime.MemStats
	for range 5 {
		runtime.GC()
	}
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap before %d KB, after %d KB", before.HeapAlloc>>10, after.HeapAlloc>>10)
	if grew > 8<<20 {
		t.Errorf("the heap grew by %d KB after every session closed", grew>>10)
	}
	if s.Sessions() != 0 {
		t.Errorf("%d sessions left", s.Sessions())
	}
}

func TestHostOK(t *testing.T) {
	t.Parallel()
	m, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bound string
		ok    []string
		no    []string
	}{
		{"127.0.0.1:8765", []string{"127.0.0.1:8765", "localhost:8765"}, []string{"127.0.0.1:8766", "evil.example:8765", "localhost", "127.0.0.2:8765", "[::1]:8765", ""}},
		{"[::1]:80", []string{"[::1]:80", "localhost:80"}, []string{"127.0.0.1:80", "evil.example:80", "[::1]"}},
		{"0.0.0.0:9000", []string{"192.168.1.5:9000", "127.0.0.1:9000", "localhost:9000"}, []string{"evil.example:9000", "192.168.1.5:9001", "rebind.127.0.0.1.nip.io:9000"}},
		{"192.168.1.5:9000", []string{"192.168.1.5:9000"}, []string{"localhost:9000", "127.0.0.1:9000"}},
	} {
		s, err := New(Options{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Bind(tc.bound); err != nil {
			t.Fatal(err)
		}
		for _, h := range tc.ok {
			if !s.hostOK(h) {
				t.Errorf("bound %s: Host %q refused", tc.bound, h)
			}
		}
		for _, h := range tc.no {
			if s.hostOK(h) {
				t.Errorf("bound %s: Host %q allowed", tc.bound, h)
			}
		}
	}
	s, _ := New(Options{Model: m})
	if s.hostOK("127.0.0.1:80") {
		t.Error("an unbound server allows a Host")
	}
	for _, bad := range []string{"localhost:80", "nohost", "1.2.3.4"} {
		if err := s.Bind(bad); err == nil {
			t.Errorf("Bind(%q): no error", bad)
		}
	}
	if a, b := s.Token(), New; a == "" || len(a) != 64 || b == nil {
		t.Errorf("token %q: want 64 hex digits", a)
	}
}

// FuzzAPI sends any body to every endpoint: each is answered, never with
// a 5xx or a panic.
func FuzzAPI(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"prompt":"x"}`, `{"n":3}`, `{"id":-1}`, `{"temperature":1e309}`, `{"prompt":"\u0000"}`, `[`, `null`, `{"top_k":-5,"top_p":0}`, `{"layer":-1}`} {
		f.Add(0, s)
	}
	m, err := loadModel()
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Options{Model: m, Limits: Limits{Sessions: 4, Steps: 8}})
	if err != nil {
		f.Fatal(err)
	}
	s.Bind("127.0.0.1:1")
	paths := []string{"/api/tokenize", "/api/sessions", "step", "force", "undo", "settings", "fork"}
	f.Fuzz(func(t *testing.T, which int, body string) {
		var id string
		s.mu.Lock()
		for k := range s.sessions {
			id = k
			break
		}
		n := len(s.sessions)
		s.mu.Unlock()
		if n >= 4 {
			s.closeAll()
		}
		p := paths[uint(which)%uint(len(paths))]
		if !strings.HasPrefix(p, "/") {
			p = "/api/sessions/" + id + "/" + p
		}
		req := httptest.NewRequest("POST", "http://127.0.0.1:1"+p, strings.NewReader(body))
		req.Header.Set("X-Gptviz-Token", s.Token())
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Errorf("POST %s %q: %d %s", p, body, w.Code, w.Body)
		}
	})
}

// TestWindowFills: stepping past the context window evicts tokens, which
// the state lists and marks; undoing the step that evicted runs the
// session again up to the step before (the evicted keys and values are
// gone from the cache), so the state is the one before that step, and
// stepping again evicts the same tokens as the first time.
func TestWindowFills(t *testing.T) {
	t.Parallel()
	m, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Limits{Steps: m.Config.NPositions + 8})
	st := s.json(t, "POST", "/api/sessions", `{"prompt":"Light is reflected from the surface of the glass","temperature":0.9,"seed":5}`)
	id := st.ID
	// One forced step, so that the replay forces it again.
	st = s.json(t, "POST", "/api/sessions/"+id+"/force", fmt.Sprintf(`{"id":%d}`, st.Candidates[1].ID))
	var prev *stateJSON
	for st.WindowStart == 0 {
		prev = st
		st = s.json(t, "POST", "/api/sessions/"+id+"/step", `{"n":1}`)
	}
	if len(st.Evictions) == 0 || !st.Tokens[0].Evicted || st.Tokens[st.WindowStart].Evicted || st.KV.Positions > st.NPositions {
		t.Fatalf("after the window filled: window start %d, %d evictions, kv %d", st.WindowStart, len(st.Evictions), st.KV.Positions)
	}
	undone := s.json(t, "POST", "/api/sessions/"+id+"/undo", ``)
	state := func(x *stateJSON) string {
		b, _ := json.Marshal(x)
		return string(b)
	}
	if state(undone) != state(prev) {
		t.Errorf("undo of the evicting step:\n%.600s\nwant the state before it:\n%.600s", state(undone), state(prev))
	}
	if !undone.Tokens[st.PromptLen].Forced {
		t.Error("after the replay the forced step is no longer marked forced")
	}
	again := s.json(t, "POST", "/api/sessions/"+id+"/step", `{"n":1}`)
	if state(again) != state(st) {
		t.Errorf("stepping again after the undo:\n%.600s\nwant the first time's:\n%.600s", state(again), state(st))
	}
	s.json(t, "POST", "/api/sessions/"+id+"/step", `{"n":2}`)
	after := s.json(t, "POST", "/api/sessions/"+id+"/undo", ``)
	if after.Steps != st.Steps+1 {
		t.Errorf("undo after the eviction: %d steps, want %d", after.Steps, st.Steps+1)
	}
}

// TestMemoryBound: a session that may need more memory than is available
// beside the open ones is refused with 503, saying how much.
func TestMemoryBound(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{})
	need := s.sessionMemory(3)
	s.opt.Available = func() (int64, bool) { return need*3/2 + 1, true }
	s.json(t, "POST", "/api/sessions", `{"prompt":"a b"}`)
	code, b := s.do(t, "POST", "/api/sessions", `{"prompt":"a b"}`, nil)
	if code != 503 || !strings.Contains(string(b), "of memory") {
		t.Errorf("a session over the memory: %d %s", code, b)
	}
	t.Logf("a session of %d steps on the default model may hold %d KB", s.lim.Steps, need>>10)
}

// fakeCommand stands in for the command line's Options.Command: tokens
// prints its words as JSON, report writes a page, lesson a lesson page with
// a try-it cell (through output.WriteHTML, as the lesson command does),
// compare is a usage error, generate --fail a failure and generate --wait
// waits for its context.
func fakeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) (*File, error) {
	switch args[0] {
	case "tokens":
		return nil, json.NewEncoder(stdout).Encode(args)
	case "report":
		fmt.Fprintln(stderr, "wrote it")
		return &File{Name: "report.html", Data: []byte("<!DOCTYPE html><p>report</p>")}, nil
	case "lesson":
		nb := &output.Notebook{Title: "Lesson " + args[1], Lang: args[3], Cells: []output.Cell{
			output.MarkdownCell("Try it:"), output.CodeCell("shell", "gptviz tokens \"a b\"\ngptviz report --steps 1 x")}}
		var b bytes.Buffer
		if err := output.WriteHTML(&b, nb); err != nil {
			return nil, err
		}
		return &File{Name: "lesson.html", Data: b.Bytes()}, nil
	case "compare":
		return nil, &CommandError{Usage: true, Err: errors.New("compare: unknown flag: --bogus")}
	case "generate":
		if args[1] == "--wait" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, &CommandError{Err: errors.New("generate: the run failed")}
	}
	return nil, fmt.Errorf("fake: %v", args)
}

// TestRunCommand: a try-it command line reaches the command as the words
// a shell would split it into, with every shell metacharacter plain text;
// a file it writes is kept and served in a sandbox; a command over
// Limits.CommandTime is stopped (504) and one whose client has gone is
// cancelled.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{CommandTime: 300 * time.Millisecond})
	line := `gptviz tokens "a; b" $(x) | y && z > /tmp/f 'it''s' \; ` + "`id`" + ` *`
	body, _ := json.Marshal(runReq{Command: line})
	code, b := s.do(t, "POST", "/api/run", string(body), nil)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	var r runJSON
	json.Unmarshal(b, &r)
	want := `["tokens","a; b","$(x)","|","y","\u0026\u0026","z","\u003e","/tmp/f","its",";","` + "`id`" + `","*"]`
	if r.Kind != "text" || strings.TrimSpace(r.Stdout) != want {
		t.Errorf("the command got %s, want %s", r.Stdout, want)
	}
	code, b = s.do(t, "POST", "/api/run", `{"command":"gptviz report --steps 1 x"}`, nil)
	json.Unmarshal(b, &r)
	if code != 200 || r.Kind != "page" || !strings.HasPrefix(r.URL, "/results/") || r.Stderr != "wrote it\n" {
		t.Fatalf("report: %d %s", code, b)
	}
	req, _ := http.NewRequest("GET", s.url+r.URL, nil)
	req.Header.Set("X-Gptviz-Token", s.Token())
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(page) != "<!DOCTYPE html><p>report</p>" ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox allow-scripts") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("result: %d %q %v", resp.StatusCode, page, resp.Header)
	}
	// Only under the name it was written as.
	if code, _ := s.do(t, "GET", strings.TrimSuffix(r.URL, "report.html")+"report.json", "", nil); code != 404 {
		t.Errorf("the result under another name: %d, want 404", code)
	}
	start := time.Now()
	code, b = s.do(t, "POST", "/api/run", `{"command":"gptviz generate --wait"}`, nil)
	if code != 504 || !strings.Contains(string(b), "longer than 300ms") {
		t.Errorf("a command over the time limit: %d %s", code, b)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the time limit took %s to stop the command", d)
	}
	// A client that goes away cancels the command.
	s2 := newTestServer(t, Limits{CommandTime: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "POST", s2.url+"/api/run", strings.NewReader(`{"command":"gptviz generate --wait"}`))
	req.Header.Set("X-Gptviz-Token", s2.Token())
	start = time.Now()
	if _, err := s2.ts.Client().Do(req); err == nil {
		t.Error("the request outlived its context")
	}
	// The compute slot is free again once the command stopped.
	deadline := time.Now().Add(5 * time.Second)
	for len(s2.compute) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(s2.compute) > 0 {
		t.Error("the cancelled command still holds its compute slot")
	}
}

// TestLessonPage: a lesson page is the lesson command's page with the
// try-it script added, and its Content-Security-Policy extended by exactly
// what the script needs; the list names every lesson.
func TestLessonPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Limits{})
	code, b := s.do(t, "GET", "/lessons/2?lang=zh", "", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	page := string(b)
	for _, want := range []string{`<script src="/static/lesson.js"></script>`, "Lesson 2", `lang="zh-CN"`,
		"script-src &#39;self&#39; &#39;sha256-", "connect-src &#39;self&#39;; frame-src &#39;self&#39;\">", "default-src &#39;none&#39;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the lesson page lacks %q", want)
		}
	}
	code, b = s.do(t, "GET", "/api/lessons?lang=zh", "", nil)
	var list struct{ Lessons []lessonJSON }
	json.Unmarshal(b, &list)
	ls, _ := lessons.Lessons()
	if code != 200 || len(list.Lessons) != len(ls) || len(ls) == 0 || list.Lessons[0].URL != "/lessons/1?lang=zh" || list.Lessons[0].Title != ls[0].Title("zh") {
		t.Errorf("lesson list: %d %s", code, b)
	}
	if _, err := runnable([]byte("<html><body></body></html>")); err == nil {
		t.Error("runnable: no error for a page without a Content-Security-Policy")
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{`gptviz tokens "The Rays"`, []string{"gptviz", "tokens", "The Rays"}, ""},
		{"gptviz report --steps 24 \"User: hi\nAssistant:\"", []string{"gptviz", "report", "--steps", "24", "User: hi\nAssistant:"}, ""},
		{`a 'b "c' "d 'e" "f\"g\\h\$i\j"`, []string{"a", `b "c`, `d 'e`, `f"g\h$i\j`}, ""},
		{`a\ b c\` + "\n" + `d`, []string{"a b", "cd"}, ""},
		{`"" ''`, []string{"", ""}, ""},
		{"  \t\n ", nil, ""},
		{`; | & $(rm) *`, []string{";", "|", "&", "$(rm)", "*"}, ""},
		{`x "y`, nil, "not closed"},
		{`x 'y`, nil, "not closed"},
		{`x \`, nil, "backslash"},
	} {
		got, err := splitWords(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`gptviz tokens "a b"`, `a 'b' \c "d\"e"`, "x\\\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err != nil {
			return
		}
		for _, w := range words {
			if len(w) > len(s) {
				t.Fatalf("word %q longer than the line %q", w, s)
			}
		}
	})
}

// TestPageIdleMinutes: the page states the idle limit in minutes, not in
// Go's duration syntax ("30m0s", as a new user saw it).
func TestPageIdleMinutes(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{30 * time.Minute: "30", 90 * time.Second: "1.5", time.Hour: "60"} {
		if got := minutes(d); got != want {
			t.Errorf("minutes(%v) = %q, want %q", d, got, want)
		}
	}
	s := newTestServer(t, Limits{Idle: 30 * time.Minute})
	code, b := s.do(t, "GET", "/", "", nil)
	if code != 200 || !strings.Contains(string(b), `data-idle="30"`) || strings.Contains(string(b), "30m0s") {
		t.Errorf("page: %d; want data-idle=\"30\"", code)
	}
}
