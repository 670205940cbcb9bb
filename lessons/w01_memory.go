package lessons

import (
	"strconv"

	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 1, working memory: what one token leaves in memory and what a
// step throws away, from the model's shapes.
func init() {
	// The "Try it" run with --steps 200: its length, and whether it
	// overflows this model's window.
	runValue("steps200-total", func(e *Env, a *Args, tr *trace.Trace) (string, error) { return itoa(tr.PromptLen + 200), nil })
	runFact("steps200-overflows", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return tr.PromptLen+200 > tr.Model.Config.NPositions, nil
	})
	runValue("kv-token-raw", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return strconv.FormatInt(tr.Model.Config.KVBytes(1), 10), nil
	})
	runValue("kv-layer-token-bytes", func(e *Env, a *Args, tr *trace.Trace) (string, error) {
		return thousands(2 * int64(tr.Model.Config.NEmbd) * 4), nil
	})
	tables["memory-kinds"] = memoryKinds
}

// memoryKinds lists, for one token in one layer at the run's last step,
// each vector the layer computes, its size in bytes (float32), and whether
// it stays in working memory (the KV cache) or is discarded after the
// step.
func memoryKinds(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	c := tr.Model.Config
	ctx, _ := lastKV(tr)
	b := func(n int) string { return thousands(int64(n) * 4) }
	kept, gone := e.T("kept (KV cache)", "保留（KV 缓存）"), e.T("discarded after the step", "这一步结束即丢弃")
	rows := [][]string{
		{e.T("key k", "键 k"), "n_embd = " + itoa(c.NEmbd), b(c.NEmbd), kept},
		{e.T("value v", "值 v"), "n_embd = " + itoa(c.NEmbd), b(c.NEmbd), kept},
		{e.T("query q", "查询 q"), "n_embd = " + itoa(c.NEmbd), b(c.NEmbd), gone},
		{e.T("attention probabilities", "注意力概率"), "n_head × context = " + itoa(c.NHead) + " × " + itoa(ctx), b(c.NHead * ctx), gone},
		{e.T("attention output", "注意力输出"), "n_embd = " + itoa(c.NEmbd), b(c.NEmbd), gone},
		{e.T("MLP hidden activations", "MLP 隐藏层激活"), "n_inner = " + itoa(c.NInner), b(c.NInner), gone},
		{e.T("residual stream after the block", "本层之后的残差流"), "n_embd = " + itoa(c.NEmbd), b(c.NEmbd), gone},
	}
	return &output.Table{
		Caption: e.T("One token in one layer, at the last step (context "+itoa(ctx)+" positions)",
			"一个 token 在一层中的数据（最后一步，上下文 "+itoa(ctx)+" 个位置）"),
		Header: []string{e.T("vector", "向量"), e.T("size (floats)", "大小（浮点数个数）"), e.T("bytes", "字节"), e.T("after the step", "这一步之后")},
		Align:  []string{"left", "left", "right", "left"},
		Rows:   rows,
	}, nil
}
