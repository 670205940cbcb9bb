package lessons

import (
	"fmt"

	"github.com/gptviz/gptviz/lessons/findings"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 12, the blog's FAQ answered with the run's numbers: what the KV
// cache saves (FLOPs with and without it over the run's steps), how it is
// and is not like a cache, and what each way of improving working memory
// costs for the model in use.
func init() {
	flops := func(name string, f func(cached, uncached int64) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) {
			c, u, err := runFLOPs(tr)
			if err != nil {
				return "", err
			}
			return f(c, u), nil
		})
	}
	flops("flops-cached", func(c, u int64) string { return thousands(c) })
	flops("flops-uncached", func(c, u int64) string { return thousands(u) })
	flops("flops-ratio", func(c, u int64) string { return num(float64(u)/float64(c), 3) })
	runValue("cache-diff", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return sci(tr.Checks.CacheVsRecompute), nil
	})
	runValue("cache-tolerance", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return sci(findings.CacheTolerance), nil
	})
	// The run measured cached against recomputed logits and they agreed
	// to within float32 rounding.
	runFact("cache-exact", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		d := tr.Checks.CacheVsRecompute
		return d >= 0 && d <= findings.CacheTolerance, nil
	})
	runFact("cache-measured", func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return tr.Checks.CacheVsRecompute >= 0, nil })
	runValue("window-share", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		p, _ := lastKV(tr)
		return pct(float64(p) / float64(tr.Model.Config.NPositions)), nil
	})
	runValue("kv-window-fp16", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return size(tr.Model.Config.KVBytes(tr.Model.Config.NPositions) / 2), nil
	})
	tables["kv-improve"] = kvImproveTable
}

// fullFLOPs is the floating-point operations of one step without a
// cache: a forward pass over all n tokens of the context (weights for
// every row, causal attention over n(n+1)/2 query–key pairs), and the
// unembedding of the last row only.
func fullFLOPs(c arch.Config, n int) int64 {
	e, L, N := int64(c.NEmbd), int64(c.NLayer), int64(n)
	return 2 * (L*N*(4*e*e+2*e*int64(c.NInner)) + L*2*e*N*(N+1)/2 + int64(c.VocabSize)*e)
}

// runFLOPs adds up, over the run's decode steps, the operations of each
// step with the KV cache (one new row, attention over the context) and
// without it (the whole context recomputed).
func runFLOPs(tr *trace.Trace) (cached, uncached int64, err error) {
	c := tr.Model.Config
	for _, st := range tr.Steps[1:] {
		n := st.QueryStart + st.NQuery - st.WindowStart // context after the step
		cached += stepFLOPs(c, n)
		uncached += fullFLOPs(c, n)
	}
	if cached == 0 {
		return 0, 0, fmt.Errorf("the run has no decode steps")
	}
	return cached, uncached, nil
}

// kvImproveTable is the KV cache at the model's full window under each
// way of shrinking or stretching it, with its formula.
func kvImproveTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	c := tr.Model.Config
	L, n, d, H, dh := int64(c.NLayer), int64(c.NPositions), int64(c.NEmbd), int64(c.NHead), int64(c.DHead())
	base := 2 * L * n * d * 4
	groups := max(H/2, 1)
	rows := []struct {
		name, formula string
		bytes         int64 // times 2, for half bytes
	}{
		{e.T("float32 (this engine)", "float32（本引擎）"), "2·n_layer·n_ctx·d_model·4", 2 * base},
		{e.T("float16 / bfloat16", "float16 / bfloat16"), "2·n_layer·n_ctx·d_model·2", base},
		{e.T("int8 quantisation", "int8 量化"), "2·n_layer·n_ctx·d_model·1", base / 2},
		{e.T("int4 quantisation", "int4 量化"), "2·n_layer·n_ctx·d_model·½", base / 4},
		{e.T(fmt.Sprintf("grouped-query attention, %d K/V heads (float32)", groups), fmt.Sprintf("分组查询注意力，%d 个 K/V 头（float32）", groups)),
			"2·n_layer·n_ctx·n_kv·d_head·4", 2 * 2 * L * n * groups * dh * 4},
		{e.T("multi-query attention, 1 K/V head (float32)", "多查询注意力，1 个 K/V 头（float32）"), "2·n_layer·n_ctx·d_head·4", 2 * 2 * L * n * dh * 4},
		{e.T(fmt.Sprintf("sliding window of %d tokens (float32)", n/4), fmt.Sprintf("%d 个 token 的滑动窗口（float32）", n/4)), "2·n_layer·w·d_model·4", 2 * 2 * L * (n / 4) * d * 4},
		{e.T(fmt.Sprintf("4× longer context, %d tokens (float32)", 4*n), fmt.Sprintf("上下文加长到 4 倍，%d 个 token（float32）", 4*n)), "2·n_layer·4n_ctx·d_model·4", 2 * 4 * base},
	}
	t := &output.Table{
		Caption: e.T(fmt.Sprintf("The KV cache of %s at %d tokens, per sequence", tr.Model.Name, n),
			fmt.Sprintf("%s 在 %d 个 token 时的 KV 缓存（每条序列）", tr.Model.Name, n)),
		Header: []string{e.T("working memory as", "工作记忆的形式"), e.T("formula (bytes)", "公式（字节）"), e.T("bytes", "字节"), e.T("vs float32", "相对 float32")},
		Align:  []string{"left", "left", "right", "right"},
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.name, r.formula, size(r.bytes / 2), num(float64(r.bytes)/float64(2*base), 3) + "×"})
	}
	return t, nil
}
