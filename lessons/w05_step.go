package lessons

import (
	"fmt"
	"strings"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
)

// Lesson 5, inside one decode step: the architecture of the model in use
// with this run's shapes, each stage linked to the lesson that shows it,
// the MLP, and where the parameters are.
func init() {
	cfg := func(name string, f func(c arch.Config, tr *trace.Trace) string) {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) { return f(tr.Model.Config, tr), nil })
	}
	cfg("n-inner", func(c arch.Config, _ *trace.Trace) string { return itoa(c.NInner) })
	cfg("inner-ratio", func(c arch.Config, _ *trace.Trace) string { return num(float64(c.NInner)/float64(c.NEmbd), 3) })
	cfg("three-embd", func(c arch.Config, _ *trace.Trace) string { return itoa(3 * c.NEmbd) })
	cfg("activation", func(c arch.Config, _ *trace.Trace) string { return c.Activation })
	cfg("mlp-params", func(c arch.Config, _ *trace.Trace) string { return thousands(int64(mlpParams(c))) })
	cfg("attn-params", func(c arch.Config, _ *trace.Trace) string { return thousands(int64(attnParams(c))) })
	cfg("block-params", func(c arch.Config, _ *trace.Trace) string { return thousands(int64(blockParams(c))) })
	cfg("blocks-params", func(c arch.Config, _ *trace.Trace) string { return thousands(int64(c.NLayer * blockParams(c))) })
	cfg("embed-params", func(c arch.Config, _ *trace.Trace) string { return thousands(int64(embedParams(c))) })
	cfg("mlp-share", func(c arch.Config, tr *trace.Trace) string {
		return pct(float64(c.NLayer*mlpParams(c)) / float64(c.NumParams()))
	})
	cfg("embed-share", func(c arch.Config, tr *trace.Trace) string {
		return pct(float64(embedParams(c)) / float64(c.NumParams()))
	})
	// Multiply-adds of one decode step with c cached positions, ×2 for
	// FLOPs: every weight matrix once (the tied unembedding included) and
	// q·k and p·v over the context.
	cfg("step-flops", func(c arch.Config, tr *trace.Trace) string {
		ctx, _ := lastKV(tr)
		return thousands(stepFLOPs(c, ctx))
	})
	cfg("step-context", func(c arch.Config, tr *trace.Trace) string { ctx, _ := lastKV(tr); return itoa(ctx) })
	runFact("inner-is-4x", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		c := tr.Model.Config
		return c.NInner == 4*c.NEmbd, nil
	})
	runFact("embeddings-dominate", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		c := tr.Model.Config
		return embedParams(c) > c.NLayer*blockParams(c), nil
	})
	runFact("gelu-tanh", func(e *Env, a *Args, tr *trace.Trace) (bool, error) {
		return tr.Model.Config.Activation == arch.ActGELUNew, nil
	})
	blocks["arch-map"] = archMap
	tables["params"] = paramsTable
}

// The parameter counts of one part of a GPT-2 (as arch.Config.NumParams
// counts them; the unembedding is tied to the token embedding).
func attnParams(c arch.Config) int {
	e := c.NEmbd
	return e*3*e + 3*e + e*e + e // c_attn and c_proj, weights and biases
}
func mlpParams(c arch.Config) int   { return 2*c.NEmbd*c.NInner + c.NInner + c.NEmbd }
func blockParams(c arch.Config) int { return 4*c.NEmbd + attnParams(c) + mlpParams(c) }
func embedParams(c arch.Config) int { return (c.VocabSize + c.NPositions) * c.NEmbd }

// stepFLOPs is the floating-point operations (2 per multiply-add) of one
// decode step over ctx positions: the weight matrices of every block, the
// attention scores and weighted sum over ctx keys, and the unembedding.
func stepFLOPs(c arch.Config, ctx int) int64 {
	e, L := int64(c.NEmbd), int64(c.NLayer)
	perLayer := 4*e*e + 2*e*int64(c.NInner) + 2*int64(ctx)*e
	return 2 * (L*perLayer + int64(c.VocabSize)*e)
}

// lessonLink returns a markdown link to lesson n, titled in the page's
// language: a link in a lessons site (Nav set), plain text in a single
// page, and "lesson n" when no lesson has that number.
func (e *Env) lessonLink(n int) string {
	ls, _ := Lessons()
	for _, l := range ls {
		if l.Number != n {
			continue
		}
		title := mdEscape(fmt.Sprintf("%d. %s", l.Number, l.Title(e.Lang)))
		if e.opt.Nav == nil || e.opt.Nav.Index == "" {
			return title
		}
		ext := strings.TrimPrefix(e.opt.Nav.Index, "../index")
		return "[" + title + "](" + l.Name() + ext + ")"
	}
	return e.T(fmt.Sprintf("lesson %d", n), fmt.Sprintf("第 %d 课", n))
}

// archMap is ::arch-map [run=R]: the model as a column of stages, top to
// bottom, with the shapes of the run's last decode step (one new token,
// its context read from the KV cache), each stage's parameters and the
// lessons that show it.
func archMap(e *Env, a *Args) ([]output.Cell, error) {
	r, err := e.Run(a)
	if err != nil {
		return nil, err
	}
	tr := r.Trace
	c := tr.Model.Config
	ctx, _ := lastKV(tr)
	E, H, D, I := itoa(c.NEmbd), itoa(c.NHead), itoa(c.DHead()), itoa(c.NInner)
	th := func(n int) string { return thousands(int64(n)) }
	links := func(ns ...int) string {
		var s []string
		for _, n := range ns {
			s = append(s, e.lessonLink(n))
		}
		return strings.Join(s, " · ")
	}
	inLayer := e.T(fmt.Sprintf(" (block starts, × %d)", c.NLayer), fmt.Sprintf("（块开始，× %d）", c.NLayer))
	type row struct{ stage, shape, params, lessons string }
	rows := []row{
		{e.T("token id", "token id"), "1", "–", links(2)},
		{e.T("↓ token embedding W_E[id]", "↓ token 嵌入 W_E[id]"), "1 × " + E, th(c.VocabSize * c.NEmbd), links(2)},
		{e.T("＋ position embedding W_P[pos]", "＋ 位置嵌入 W_P[pos]"), "1 × " + E, th(c.NPositions * c.NEmbd), links(1, 10)},
		{e.T("↓ LayerNorm 1", "↓ LayerNorm 1") + inLayer, "1 × " + E, th(2 * c.NEmbd), ""},
		{e.T("↓ attention: q, k, v", "↓ 注意力：q、k、v"), "1 × 3·" + E + " = " + H + e.T(" heads", " 个头") + " × 3 × " + D, th(c.NEmbd*3*c.NEmbd + 3*c.NEmbd), links(6)},
		{e.T("↓ write k, v to the KV cache; read all cached", "↓ k、v 写入 KV 缓存，读出全部缓存"), H + " × " + itoa(ctx) + " × " + D + e.T(" (keys, values)", "（键、值）"), "–", links(7, 1)},
		{e.T("↓ softmax(q·k/√d_head) · v over the context", "↓ 在上下文上做 softmax(q·k/√d_head) · v"), H + " × 1 × " + itoa(ctx) + " → 1 × " + E, "–", links(6, 4)},
		{e.T("↓ output projection", "↓ 输出投影"), "1 × " + E, th(c.NEmbd*c.NEmbd + c.NEmbd), links(6)},
		{e.T("＋ add to the residual stream", "＋ 加回残差流"), "1 × " + E, "–", links(8)},
		{e.T("↓ LayerNorm 2", "↓ LayerNorm 2"), "1 × " + E, th(2 * c.NEmbd), ""},
		{e.T("↓ MLP: up, GELU, down", "↓ MLP：升维、GELU、降维"), "1 × " + E + " → 1 × " + I + " → 1 × " + E, th(mlpParams(c)), e.T("this lesson", "本课")},
		{e.T("＋ add to the residual stream (block ends)", "＋ 加回残差流（块结束）"), "1 × " + E, "–", links(8)},
		{e.T("↓ final LayerNorm", "↓ 最后的 LayerNorm"), "1 × " + E, th(2 * c.NEmbd), links(8)},
		{e.T("↓ unembedding W_Eᵀ (tied)", "↓ 反嵌入 W_Eᵀ（与嵌入共享）"), "1 × " + th(c.VocabSize) + e.T(" logits", " 个 logit"), "0", links(3)},
		{e.T("↓ softmax → P(next token)", "↓ softmax → P(下一个 token)"), "1 × " + th(c.VocabSize), "–", links(3, 9)},
		{e.T("→ sample, append, next step", "→ 采样、追加、下一步"), "1", "–", links(9, 12)},
		{e.T("all parameters, learned by next-token prediction", "全部参数，由预测下一个 token 训练得到"), "–", th(tr.Model.NumParams), links(11, 3)},
	}
	var b strings.Builder
	b.WriteString("| " + e.T("stage (top to bottom)", "阶段（自上而下）") + " | " + e.T("shape in this step", "这一步的形状") + " | " +
		e.T("parameters", "参数") + " | " + e.T("lesson", "课程") + " |\n|:--|:--|--:|:--|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(r.stage), mdEscape(r.shape), r.params, r.lessons)
	}
	b.WriteString("\n" + mdEscape(e.T(
		fmt.Sprintf("Shapes of the run's last decode step: one new token, %d positions in the KV cache (the new one included). The rows from \"block starts\" to \"block ends\" are one block; the model runs %d of them, one after another, and the parameters shown are one block's.", ctx, c.NLayer),
		fmt.Sprintf("形状取自这次运行的最后一个解码步：一个新 token，KV 缓存中有 %d 个位置（含新 token）。从“块开始”到“块结束”的各行组成一个块；模型依次运行 %d 个这样的块，表中参数是一个块的。", ctx, c.NLayer))))
	return []output.Cell{output.MarkdownCell(b.String())}, nil
}

// paramsTable is where the model's parameters are: embeddings, and per
// layer attention, MLP and LayerNorms; the total equals the model's
// parameter count.
func paramsTable(e *Env, a *Args, tr *trace.Trace) (*output.Table, error) {
	c := tr.Model.Config
	total := tr.Model.NumParams
	L := c.NLayer
	rows := []struct {
		name, formula string
		n             int
	}{
		{e.T("token embedding (also the unembedding)", "token 嵌入（也是反嵌入）"), "vocab × n_embd", c.VocabSize * c.NEmbd},
		{e.T("position embedding", "位置嵌入"), "n_positions × n_embd", c.NPositions * c.NEmbd},
		{e.T("attention, all layers", "注意力（全部层）"), "n_layer × (4·n_embd² + 4·n_embd)", L * attnParams(c)},
		{e.T("MLP, all layers", "MLP（全部层）"), "n_layer × (2·n_embd·n_inner + n_inner + n_embd)", L * mlpParams(c)},
		{e.T("LayerNorms", "LayerNorm"), "(2·n_layer + 1) × 2·n_embd", (2*L + 1) * 2 * c.NEmbd},
	}
	t := &output.Table{
		Caption: e.T("Where the parameters are", "参数都在哪里"),
		Header:  []string{e.T("part", "部分"), e.T("formula", "公式"), e.T("parameters", "参数个数"), e.T("share", "占比")},
		Align:   []string{"left", "left", "right", "right"},
	}
	sum := 0
	for _, r := range rows {
		sum += r.n
		t.Rows = append(t.Rows, []string{r.name, r.formula, thousands(int64(r.n)), pct(float64(r.n)/float64(total)) + "%"})
	}
	if sum != total {
		return nil, fmt.Errorf("the parts add up to %d parameters, the run's model has %d (an untied unembedding?)", sum, total)
	}
	t.Rows = append(t.Rows, []string{e.T("total", "合计"), "", thousands(int64(total)), "100%"})
	return t, nil
}
