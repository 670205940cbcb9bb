package lessons

import (
	"errors"
	"fmt"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// A modern model for lesson 7's worked formula: Llama 3 8B (Meta, 2024,
// config.json of meta-llama/Meta-Llama-3-8B): 32 layers, grouped-query
// attention with 8 key/value heads of 128 dimensions, keys and values
// stored in 16-bit floats, a context of 8,192 tokens.
const (
	llamaLayers, llamaKVHeads, llamaDHead, llamaBytes, llamaContext = 32, 8, 128, 2, 8192
)

// CostAttnSmall is the share of an uncached step (0..1) below which
// lesson 7 calls the attention part small enough for the per-step cost to
// look linear.
const CostAttnSmall = 0.25

// attnFLOPs is the part of an uncached step over n tokens (arch.Config
// ForwardFLOPs(n, 0)) that grows with n²: in every layer the scores q·k
// and the weighted sum of values, 2·2·n_embd FLOPs for each of the
// n(n+1)/2 (query, key) pairs the causal mask allows.
func attnFLOPs(c arch.Config, n int) int64 {
	N := int64(n)
	return int64(c.NLayer) * 4 * int64(c.NEmbd) * N * (N + 1) / 2
}

// costTotals sums the FLOPs of cc's steps, cached and uncached.
func costTotals(cc *trace.CacheCost) (cached, uncached int64) {
	for _, s := range cc.Steps {
		cached += s.CachedFLOPs
		uncached += s.UncachedFLOPs
	}
	return cached, uncached
}

// llamaKVToken is Llama 3 8B's KV cache per token, bytes.
func llamaKVToken() int64 { return 2 * llamaLayers * llamaKVHeads * llamaDHead * llamaBytes }

// Lesson 7, the KV cache measured: cached vs uncached decoding (equal
// outputs, FLOPs and time per step), and memory at 1,024 tokens.
func init() {
	cost := func(name string, f func(cc *trace.CacheCost) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			if tr.CacheCost == nil || len(tr.CacheCost.Steps) == 0 {
				return "", errors.New("the run measured no cached vs uncached steps (Measure.CacheSteps)")
			}
			return f(tr.CacheCost), nil
		})
	}
	last := func(cc *trace.CacheCost) trace.CostStep { return cc.Steps[len(cc.Steps)-1] }
	cost("cost-steps", func(cc *trace.CacheCost) string { return itoa(len(cc.Steps)) })
	cost("cost-max-diff", func(cc *trace.CacheCost) string { return sci(cc.MaxLogitDiff) })
	cost("cost-first-context", func(cc *trace.CacheCost) string { return itoa(cc.Steps[0].Context) })
	cost("cost-last-context", func(cc *trace.CacheCost) string { return itoa(last(cc).Context) })
	cost("cost-last-cached-flops", func(cc *trace.CacheCost) string { return thousands(last(cc).CachedFLOPs) })
	cost("cost-last-uncached-flops", func(cc *trace.CacheCost) string { return thousands(last(cc).UncachedFLOPs) })
	cost("cost-flops-ratio", func(cc *trace.CacheCost) string {
		return num(float64(last(cc).UncachedFLOPs)/float64(last(cc).CachedFLOPs), 3)
	})
	// The quadratic part of the last uncached step, the rest (weight
	// products, linear in the window), and the totals over the steps.
	runValue("cost-last-attn-pct", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		if tr.CacheCost == nil || len(tr.CacheCost.Steps) == 0 {
			return "", errors.New("the run measured no cached vs uncached steps (Measure.CacheSteps)")
		}
		st := last(tr.CacheCost)
		return pct(float64(attnFLOPs(tr.Model.Config, st.Context)) / float64(st.UncachedFLOPs)), nil
	})
	cost("cost-total-cached", func(cc *trace.CacheCost) string { c, _ := costTotals(cc); return thousands(c) })
	cost("cost-total-uncached", func(cc *trace.CacheCost) string { _, u := costTotals(cc); return thousands(u) })
	cost("cost-total-ratio", func(cc *trace.CacheCost) string {
		c, u := costTotals(cc)
		return num(float64(u)/float64(c), 3)
	})
	cost("cost-first-uncached-flops", func(cc *trace.CacheCost) string { return thousands(cc.Steps[0].UncachedFLOPs) })
	cost("cost-window-ratio", func(cc *trace.CacheCost) string {
		return num(float64(last(cc).Context)/float64(cc.Steps[0].Context), 3)
	})
	cost("cost-window-squared", func(cc *trace.CacheCost) string {
		w := float64(last(cc).Context) / float64(cc.Steps[0].Context)
		return num(w*w, 3)
	})
	cost("cost-uncached-growth", func(cc *trace.CacheCost) string {
		return num(float64(last(cc).UncachedFLOPs)/float64(cc.Steps[0].UncachedFLOPs), 3)
	})
	cost("cost-cached-ms", func(cc *trace.CacheCost) string { c, _ := costMillis(cc); return num(c, 3) })
	cost("cost-uncached-ms", func(cc *trace.CacheCost) string { _, u := costMillis(cc); return num(u, 3) })
	cost("cost-time-ratio", func(cc *trace.CacheCost) string { c, u := costMillis(cc); return num(u/c, 3) })
	costFact := func(name string, f func(cc *trace.CacheCost) bool) {
		runFact(name, func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
			if tr.CacheCost == nil || len(tr.CacheCost.Steps) == 0 {
				return false, errors.New("the run measured no cached vs uncached steps (Measure.CacheSteps)")
			}
			return f(tr.CacheCost), nil
		})
	}
	costFact("cost-linear", func(cc *trace.CacheCost) bool {
		w := float64(last(cc).Context) / float64(cc.Steps[0].Context)
		u := float64(last(cc).UncachedFLOPs) / float64(cc.Steps[0].UncachedFLOPs)
		return w > 1 && u >= 0.75*w && u <= 1.25*w
	})
	runFact("cost-attn-small", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		if tr.CacheCost == nil || len(tr.CacheCost.Steps) == 0 {
			return false, errors.New("the run measured no cached vs uncached steps (Measure.CacheSteps)")
		}
		st := last(tr.CacheCost)
		return float64(attnFLOPs(tr.Model.Config, st.Context)) < CostAttnSmall*float64(st.UncachedFLOPs), nil
	})
	costFact("cache-equal", func(cc *trace.CacheCost) bool { return cc.SameTokens && cc.MaxLogitDiff < CacheEqualTolerance })
	costFact("cache-timed", func(cc *trace.CacheCost) bool { c, u := costMillis(cc); return c > 0 && u > 0 })
	costFact("cache-faster", func(cc *trace.CacheCost) bool { c, u := costMillis(cc); return c > 0 && c < u })
	// Work saved against time saved (findings.CacheSpeed): the speeds
	// cached and uncached decoding reached.
	for name, f := range map[string]func(r findings.CacheRates) string{
		"cost-cached-gflops":   func(r findings.CacheRates) string { return num(r.CachedGFLOPS, 3) },
		"cost-uncached-gflops": func(r findings.CacheRates) string { return num(r.UncachedGFLOPS, 3) },
		"cost-gflops-ratio":    func(r findings.CacheRates) string { return num(r.SpeedRatio, 3) },
	} {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			r, ok := findings.CacheSpeed(tr)
			if !ok {
				return "", errors.New("the run timed no cached vs uncached steps")
			}
			return f(r), nil
		})
	}
	// The cache saved less time than work: a cached FLOP ran slower.
	runFact("cost-time-below-flops", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		r, ok := findings.CacheSpeed(tr)
		return ok && r.SlowerPerFLOP(), nil
	})
	charts["cache-flops"] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) { return costChart(e, tr, false) }
	charts["cache-time"] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) { return costChart(e, tr, true) }
	tables["kv-sizes"] = kvSizesTable
	runValue("kv-1024", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return size(tr.Model.Config.KVBytes(1024)), nil
	})
	for name, f := range map[string]func() string{
		"llama-layers":   func() string { return itoa(llamaLayers) },
		"llama-kv-heads": func() string { return itoa(llamaKVHeads) },
		"llama-d-head":   func() string { return itoa(llamaDHead) },
		"llama-bytes":    func() string { return itoa(llamaBytes) },
		"llama-context":  func() string { return thousands(llamaContext) },
		"llama-kv-token": func() string { return itoa(int(llamaKVToken())) },
		"llama-kv-full":  func() string { return size(llamaKVToken() * llamaContext) },
		"gpt2xl-kv-token": func() string {
			return thousands(arch.GPT2Sizes[3].KVBytesPerToken())
		},
	} {
		values[name] = func(e *Env, a *Args) (string, error) { return f(), nil }
	}
}

// CacheEqualTolerance is the largest logit difference between cached and
// uncached decoding that lesson 7 calls equal (float32 rounding).
const CacheEqualTolerance = 1e-3

// costMillis sums the measured times of every step, cached and uncached.
func costMillis(cc *trace.CacheCost) (cached, uncached float64) {
	for _, s := range cc.Steps {
		cached += s.CachedMillis
		uncached += s.UncachedMillis
	}
	return cached, uncached
}

// costChart draws FLOPs (or, with times, milliseconds) per step with and
// without the cache.
func costChart(e *Env, tr *trace.Trace, times bool) (*viz.Chart, string, error) {
	cc := tr.CacheCost
	if cc == nil || len(cc.Steps) == 0 {
		return nil, "", errors.New("the run measured no cached vs uncached steps (Measure.CacheSteps)")
	}
	cats := make([]string, len(cc.Steps))
	var a, b []float64
	for i, s := range cc.Steps {
		cats[i] = itoa(s.Context)
		if times {
			a, b = append(a, s.CachedMillis), append(b, s.UncachedMillis)
		} else {
			a, b = append(a, float64(s.CachedFLOPs)), append(b, float64(s.UncachedFLOPs))
		}
	}
	// FLOPs on a log axis: the cached line is a few percent of the
	// uncached one and would lie flat on the floor of a linear axis.
	id, y, logY := "cache-flops", e.T("floating-point operations (log scale)", "浮点运算次数（对数坐标）"), !times
	title := e.T("Work per decode step, with and without the KV cache", "每个解码步骤的计算量：有无 KV 缓存")
	sub := e.T("cached: one new row reads the stored keys and values; uncached: every row of the window recomputed",
		"有缓存：只算新的一行，读取已存的键和值；无缓存：整个窗口每一行都重算")
	if times {
		id, y, logY = "cache-time", e.T("milliseconds (measured)", "毫秒（实测）"), false
		title = e.T("Time per decode step, with and without the KV cache (this machine, this run)", "每个解码步骤的耗时：有无 KV 缓存（本机、本次运行）")
		if _, u := costMillis(cc); u == 0 {
			return nil, "", errors.New("the run's times were cleared")
		}
	}
	ch, err := viz.NewSeriesChart(viz.SeriesChart{ID: id, Subtitle: sub, XName: e.T("tokens in the window", "窗口中的 token 数"), YName: y,
		Categories: cats, Line: true, LogY: logY, Series: []viz.Series{
			{Name: e.T("with the KV cache", "使用 KV 缓存"), Values: a, Color: "#3182bd"},
			{Name: e.T("without (recompute)", "不用缓存（重算）"), Values: b, Color: "#e6550d"},
		}})
	return ch, title, err
}

// kvSizesTable lists the KV cache of the four GPT-2 sizes and of the run's
// model at 1,024 tokens: 2 × n_layer × n_embd × 4 bytes per token.
func kvSizesTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	t := &output.Table{
		Caption: e.T("KV cache (float32) at 1,024 tokens", "1,024 个 token 时的 KV 缓存（float32）"),
		Header:  []string{e.T("model", "模型"), "n_layer", "n_embd", e.T("bytes per token", "每 token 字节数"), e.T("at 1,024 tokens", "1,024 个 token")},
		Align:   []string{"left", "right", "right", "right", "right"},
	}
	row := func(name string, c arch.Config) []string {
		return []string{name, itoa(c.NLayer), itoa(c.NEmbd), thousands(c.KVBytesPerToken()), size(c.KVBytes(1024))}
	}
	for i, c := range arch.GPT2Sizes {
		t.Rows = append(t.Rows, row(arch.GPT2SizeNames[i], c))
	}
	t.Rows = append(t.Rows, row(fmt.Sprintf(e.T("%s (this run)", "%s（本次运行）"), tr.Model.Name), tr.Model.Config))
	return t, nil
}
