package serve

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model"
	"github.com/gptviz/gptviz/model/arch"
)

// gpt2SmallShaped returns a model of GPT-2 124M's shape (Hugging Face
// "gpt2") with seeded random weights and the default model's tokenizer
// (ids past its vocabulary display as nothing): the cost of a step, not
// its words, is what the load test measures.
func gpt2SmallShaped(b *testing.B) *model.Model {
	d, err := loadModel()
	if err != nil {
		b.Fatal(err)
	}
	c := arch.Config{ModelType: "gpt2", VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12,
		NHead: 12, NInner: 3072, LayerNormEpsilon: 1e-5, Activation: "gelu_new", BOSTokenID: 50256, EOSTokenID: 50256}
	rng := rand.New(rand.NewPCG(1, 1))
	normal := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.02)
		}
		return x
	}
	ones := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		return x
	}
	e, in := c.NEmbd, c.NInner
	w := model.Weights{WTE: normal(c.VocabSize * e), WPE: normal(c.NPositions * e), LNFG: ones(e), LNFB: make([]float32, e)}
	for range c.NLayer {
		w.Blocks = append(w.Blocks, model.Block{
			LN1G: ones(e), LN1B: make([]float32, e), AttnW: normal(e * 3 * e), AttnB: normal(3 * e),
			AttnProjW: normal(e * e), AttnProjB: normal(e), LN2G: ones(e), LN2B: make([]float32, e),
			FCW: normal(e * in), FCB: normal(in), MLPProjW: normal(in * e), MLPProjB: normal(e),
		})
	}
	return &model.Model{Name: "random-124M", Config: c, Weights: w, Tokenizer: d.Tokenizer}
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
