package lessons

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gptviz/gptviz/internal/i18n"
	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/trace"
	"github.com/gptviz/gptviz/output"
	"github.com/gptviz/gptviz/viz"
)

// The three registries of the lesson syntax (walk/README.md). Each lesson
// author adds entries in an init function of their own file; names are
// lower-case with '-'. A function reads its arguments from the *Args
// (an argument it does not read is reported as unknown) and returns an
// error, without file or line (the renderer adds them), when an argument
// is bad or the value does not apply to the run.
type (
	// BlockFunc renders a block directive (::NAME args, on its own line)
	// to cells.
	BlockFunc func(e *Env, a *Args) ([]output.Cell, error)
	// ValueFunc computes an inline value ({{NAME args}}) as plain text;
	// the renderer escapes it for markdown.
	ValueFunc func(e *Env, a *Args) (string, error)
	// FactFunc decides a fact (::if NAME args): whether the text below it
	// is shown.
	FactFunc func(e *Env, a *Args) (bool, error)
	// ChartFunc builds the chart of ::chart NAME from a run's trace and
	// says its default caption (used when the directive gives no title=).
	ChartFunc func(e *Env, a *Args, tr *trace.Trace) (c *viz.Chart, title string, err error)
	// TableFunc builds the table of ::table NAME from a run's trace.
	TableFunc func(e *Env, a *Args, tr *trace.Trace) (*output.Table, error)
)

var (
	blocks = map[string]BlockFunc{}
	values = map[string]ValueFunc{}
	facts  = map[string]FactFunc{}
	charts = map[string]ChartFunc{}
	tables = map[string]TableFunc{}
)

func init() {
	blocks["chart"] = chartBlock
	blocks["table"] = tableBlock
	blocks["cmd"] = cmdBlock
	blocks["tokens"] = tokensBlock

	for _, name := range []string{"prompt-probs", "next-token", "next-entropy", "kv-bytes", "kv-layers", "logit-lens", "residual-norm"} {
		charts[name] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
			c, err := chartIn(name, tr, e.vl())
			return c, texts.Get(i18n.ParseLang(e.Lang), "cap."+name), err
		}
	}
	// Charts of one head: layer= and head= (default 0, 0).
	for name, f := range map[string]struct {
		key   string
		build func(tr *trace.Trace, l, h int, o viz.Option) (*viz.Chart, error)
	}{
		"attention": {"cap.attn", func(tr *trace.Trace, l, h int, o viz.Option) (*viz.Chart, error) {
			return viz.AttentionHead(tr, l, h, o)
		}},
		"attention-new": {"cap.attn-new", func(tr *trace.Trace, l, h int, o viz.Option) (*viz.Chart, error) {
			return viz.NewTokenAttention(tr, l, h, o)
		}},
		"kv-cache": {"cap.kv", func(tr *trace.Trace, l, h int, o viz.Option) (*viz.Chart, error) { return viz.KVHeatmap(tr, l, h, o) }},
	} {
		charts[name] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
			l, h, err := layerHead(a, tr)
			if err != nil {
				return nil, "", err
			}
			c, err := f.build(tr, l, h, e.vl())
			return c, texts.Get(i18n.ParseLang(e.Lang), f.key, l, h), err
		}
	}
	charts["kv-time"] = func(e *Env, a *Args, tr *trace.Trace) (*viz.Chart, string, error) {
		c, err := viz.KVOverTime(tr, e.vl())
		if err != nil {
			return nil, "", err
		}
		w := tr.Steps[0].KVWrite
		return c, texts.Get(i18n.ParseLang(e.Lang), "cap.kv-time", w.Layer, w.Head), nil
	}
}

// chartIn builds the named chart of the no-argument kind in language o.
func chartIn(name string, tr *trace.Trace, o viz.Option) (*viz.Chart, error) {
	switch name {
	case "prompt-probs":
		return viz.PromptProbs(tr, o)
	case "next-token":
		return viz.NextToken(tr, o)
	case "next-entropy":
		return viz.GenerationLines(tr, o)
	case "kv-bytes":
		return viz.KVSize(tr, o)
	case "kv-layers":
		return viz.KVLayerSizes(tr, o)
	case "logit-lens":
		return viz.LogitLens(tr, o)
	case "residual-norm":
		return viz.ResidualNorm(tr, o)
	}
	return nil, fmt.Errorf("no chart %q", name)
}

// layerHead reads layer= and head= (default 0) and checks them against
// the run's model.
func layerHead(a *Args, tr *trace.Trace) (int, int, error) {
	cfg := tr.Model.Config
	l, err := a.Int("layer", 0)
	if err != nil {
		return 0, 0, err
	}
	h, err := a.Int("head", 0)
	if err != nil {
		return 0, 0, err
	}
	if l < 0 || l >= cfg.NLayer || h < 0 || h >= cfg.NHead {
		return 0, 0, fmt.Errorf("layer=%d head=%d: the model has layers 0..%d and heads 0..%d", l, h, cfg.NLayer-1, cfg.NHead-1)
	}
	return l, h, nil
}

// one returns the only positional argument, named what in errors.
func one(a *Args, what string) (string, error) {
	p := a.Positional()
	if len(p) != 1 {
		return "", fmt.Errorf("want one %s, got %d arguments", what, len(p))
	}
	return p[0], nil
}

// chartBlock is ::chart NAME [run=R] [title="…"] [chart arguments].
func chartBlock(e *Env, a *Args) ([]output.Cell, error) {
	name, err := one(a, "chart name")
	if err != nil {
		return nil, err
	}
	f, ok := charts[name]
	if !ok {
		return nil, fmt.Errorf("unknown chart %q (known: %s)", name, strings.Join(sortedKeys(charts), ", "))
	}
	r, err := e.Run(a)
	if err != nil {
		return nil, err
	}
	c, title, err := f(e, a, r.Trace)
	if errors.Is(err, viz.ErrNoData) {
		return nil, fmt.Errorf("chart %s: the run has no data for it: %w", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	return e.Chart(c, nil, a.String("title", title))
}

// tableBlock is ::table NAME [run=R] [caption="…"] [table arguments].
func tableBlock(e *Env, a *Args) ([]output.Cell, error) {
	name, err := one(a, "table name")
	if err != nil {
		return nil, err
	}
	f, ok := tables[name]
	if !ok {
		return nil, fmt.Errorf("unknown table %q (known: %s)", name, strings.Join(sortedKeys(tables), ", "))
	}
	r, err := e.Run(a)
	if err != nil {
		return nil, err
	}
	t, err := f(e, a, r.Trace)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	t.Caption = a.String("caption", t.Caption)
	return []output.Cell{output.TableCell(t)}, nil
}

// cmdBlock is ::cmd RUN: the exact gptviz command that reproduces the run,
// as a shell code cell.
func cmdBlock(e *Env, a *Args) ([]output.Cell, error) {
	name, err := one(a, "run name")
	if err != nil {
		return nil, err
	}
	a.Named["run"] = name
	r, err := e.Run(a)
	delete(a.Named, "run")
	if err != nil {
		return nil, err
	}
	if r.Command == "" {
		return nil, fmt.Errorf("run %q has no command line", name)
	}
	head := fmt.Sprintf(e.T("# this lesson's run %q: its full report\n", "# 本课的运行 %q：完整报告\n"), name)
	return []output.Cell{output.CodeCell("shell", head+r.Command)}, nil
}

// tokensBlock is ::tokens [run=R]: the run's prompt tokens as chips, their
// ids and byte counts on hover.
func tokensBlock(e *Env, a *Args) ([]output.Cell, error) {
	r, err := e.Run(a)
	if err != nil {
		return nil, err
	}
	tr := r.Trace
	chips := &output.Chips{Caption: e.T(fmt.Sprintf("The prompt as %d tokens (hover: id and bytes)", tr.PromptLen),
		fmt.Sprintf("提示词切成的 %d 个 token（悬停可见 id 与字节数）", tr.PromptLen))}
	for i, t := range tr.Tokens[:tr.PromptLen] {
		label := t.Display
		if label == "" {
			label = t.Text
		}
		chips.Items = append(chips.Items, output.Chip{Label: label, Group: i%2 + 1,
			Title: e.T(fmt.Sprintf("id %d · %d bytes", t.ID, len(t.Text)), fmt.Sprintf("id %d · %d 字节", t.ID, len(t.Text)))})
	}
	return []output.Cell{output.ChipsCell(chips)}, nil
}

// lastKV returns the cached positions (of layer 0) and bytes after the
// run's last step.
func lastKV(tr *trace.Trace) (positions int, bytes int64) {
	st := tr.Steps[len(tr.Steps)-1]
	if len(st.KV.Positions) > 0 {
		positions = st.KV.Positions[0]
	}
	return positions, st.KV.Bytes
}

// size writes n bytes in binary units ("12 KiB").
func size(n int64) string { return inputfile.Size(n) }

// runValue registers a value of one run computed by f.
func runValue(name string, f func(e *Env, a *Args, tr *trace.Trace) (string, error)) {
	values[name] = func(e *Env, a *Args) (string, error) {
		r, err := e.Run(a)
		if err != nil {
			return "", err
		}
		return f(e, a, r.Trace)
	}
}

// runFact registers a fact of one run decided by f.
func runFact(name string, f func(e *Env, a *Args, tr *trace.Trace) (bool, error)) {
	facts[name] = func(e *Env, a *Args) (bool, error) {
		r, err := e.Run(a)
		if err != nil {
			return false, err
		}
		return f(e, a, r.Trace)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func init() {
	// The model in use.
	for name, f := range map[string]func(tr *trace.Trace) string{
		"model":         func(tr *trace.Trace) string { return tr.Model.Name },
		"n-layer":       func(tr *trace.Trace) string { return itoa(tr.Model.Config.NLayer) },
		"n-head":        func(tr *trace.Trace) string { return itoa(tr.Model.Config.NHead) },
		"n-embd":        func(tr *trace.Trace) string { return itoa(tr.Model.Config.NEmbd) },
		"d-head":        func(tr *trace.Trace) string { return itoa(tr.Model.Config.DHead()) },
		"n-positions":   func(tr *trace.Trace) string { return itoa(tr.Model.Config.NPositions) },
		"vocab":         func(tr *trace.Trace) string { return thousands(int64(tr.Model.Config.VocabSize)) },
		"params":        func(tr *trace.Trace) string { return thousands(int64(tr.Model.NumParams)) },
		"prompt-tokens": func(tr *trace.Trace) string { return itoa(tr.PromptLen) },
		"generated":     func(tr *trace.Trace) string { return itoa(len(tr.Tokens) - tr.PromptLen) },
		"steps":         func(tr *trace.Trace) string { return itoa(len(tr.Steps) - 1) },
		// KV cache: bytes per token (all layers), at full window, at the
		// run's end.
		"kv-token-bytes":  func(tr *trace.Trace) string { return thousands(tr.Model.Config.KVBytes(1)) },
		"kv-window-bytes": func(tr *trace.Trace) string { return size(tr.Model.Config.KVBytes(tr.Model.Config.NPositions)) },
		"kv-end-bytes":    func(tr *trace.Trace) string { _, b := lastKV(tr); return size(b) },
		"kv-end-positions": func(tr *trace.Trace) string {
			p, _ := lastKV(tr)
			return itoa(p)
		},
	} {
		runValue(name, func(e *Env, a *Args, tr *trace.Trace) (string, error) { return f(tr), nil })
	}
	runFact("evicted", func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return len(tr.Evictions) > 0, nil })
	runFact("greedy", func(e *Env, a *Args, tr *trace.Trace) (bool, error) { return tr.Settings.Temperature == 0, nil })
}
