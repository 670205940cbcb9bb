package serve

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model"
)

// gpt2SmallShaped returns a model of GPT-2 124M's shape (Hugging Face
// "gpt2") with model.RandomModel's seeded random weights (seed 1) and
// the default model's tokenizer instead of the synthetic one
// (ids past its vocabulary display as nothing): the cost of a step, not
// its words, is what the load test measures.
func gpt2SmallShaped(b *testing.B) *model.Model {
	d, err := loadModel()
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.RandomModel(model.GPT2SmallConfig, 1)
	if err != nil {
		b.Fatal(err)
	}
	m.Name, m.Tokenizer = "random-124M", d.Tokenizer
	return m
}

// BenchmarkServeLoad is the load test: N sessions at once, each stepping
// one token per request over HTTP on loopback (the page's Step button),
// on the default model and on a GPT-2-124M-shaped one. It reports steps/s
// over all sessions and the p50 and p99 latency of one step request, ms.
// b.N is the number of steps in all; each session takes at most
// Limits.Steps, so a long run starts new sessions.
//
//	go test ./serve -run '^$' -bench ServeLoad -benchtime 200x
func BenchmarkServeLoad(b *testing.B) {
	for _, mc := range []struct {
		name string
		m    func(*testing.B) *model.Model
	}{
		{"default", func(b *testing.B) *model.Model {
			m, err := loadModel()
			if err != nil {
				b.Fatal(err)
			}
			return m
		}},
		{"gpt2-small-shaped", gpt2SmallShaped},
	} {
		for _, n := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/sessions=%d", mc.name, n), func(b *testing.B) {
				m := mc.m(b)
				s, err := New(Options{Model: m, Limits: Limits{Sessions: n, Steps: 100}})
				if err != nil {
					b.Fatal(err)
				}
				ts := newBenchServer(b, s)
				var mu sync.Mutex
				var lat []time.Duration
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for w := range n {
					steps := b.N / n
					if w < b.N%n {
						steps++
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						var mine []time.Duration
						id, taken := "", 0
						for range steps {
							if id == "" || taken == 100 {
								if id != "" {
									ts.post(b, "DELETE", "/api/sessions/"+id, "")
								}
								id, taken = ts.create(b, fmt.Sprintf(`{"prompt":"The light of session %d","seed":%d}`, w, w)), 0
								if id == "" {
									return
								}
							}
							t0 := time.Now()
							ts.post(b, "POST", "/api/sessions/"+id+"/step", `{"n":1}`)
							mine = append(mine, time.Since(t0))
							taken++
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}()
				}
				wg.Wait()
				el := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				q := func(p float64) float64 {
					if len(lat) == 0 {
						return 0
					}
					return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds()) / 1000
				}
				b.ReportMetric(float64(len(lat))/el.Seconds(), "steps/s")
				b.ReportMetric(q(0.50), "p50-ms")
				b.ReportMetric(q(0.99), "p99-ms")
			})
		}
	}
}

type benchServer struct {
	s   *Server
	url string
	c   *http.Client
}

func newBenchServer(b *testing.B, s *Server) *benchServer {
	ts := newHTTPTest(b, s)
	return &benchServer{s: s, url: ts.URL, c: ts.Client()}
}

func (bs *benchServer) post(b *testing.B, method, path, body string) string {
	req, _ := http.NewRequest(method, bs.url+path, strings.NewReader(body))
	req.Header.Set("X-Gptviz-Token", bs.s.Token())
	resp, err := bs.c.Do(req)
	if err != nil {
		b.Error(err)
		return ""
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return string(out)
}

func (bs *benchServer) create(b *testing.B, body string) string {
	out := bs.post(b, "POST", "/api/sessions", body)
	i := strings.Index(out, `"id":"`)
	if i < 0 {
		b.Errorf("create: %s", out)
		return ""
	}
	out = out[i+6:]
	return out[:strings.IndexByte(out, '"')]
}
