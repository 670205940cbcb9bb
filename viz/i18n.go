package viz

import "github.com/gptviz/gptviz/internal/i18n"

// Option changes how a chart is built; pass any number to a chart function.
type Option func(*settings)

type settings struct {
	lang i18n.Lang
	step int // FigureStep; 0: every step
}

// Lang sets the language of the text inside charts — subtitles, axis
// names, legends, step titles, notes: "zh" for Simplified Chinese, anything
// else for English (the default). Chart IDs never change with the language.
func Lang(lang string) Option {
	return func(s *settings) { s.lang = i18n.ParseLang(lang) }
}

// FigureStep makes the static figure of a chart with a step slider
// ([NextToken]) draw only step n (Step.Index of a step the
// chart shows) instead of every step, one panel each. The chart function
// returns an error wrapping ErrRange when the chart has no step n. n ≤ 0
// means every step (the default).
func FigureStep(n int) Option {
	return func(s *settings) { s.step = max(0, n) }
}

func settingsOf(opts []Option) settings {
	var s settings // zero: English
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// t returns phrase key in the chart language, formatted with args.
func (s settings) t(key string, args ...any) string {
	return phrases.Get(s.lang, key, args...) // TestPhrases finds unknown keys
}

// phrases are the words inside charts, {English, Chinese}. Verbs use
// explicit argument indexes where the languages order them differently.
var phrases = i18n.Table{
	// Shared.
	"probability": {"probability", "概率"},
	"bits":        {"bits", "比特"},
	"step":        {"step", "步"},
	"position":    {"position", "位置"},
	"layer":       {"layer", "层"},
	"slider":      {"drag the slider to change the step", "拖动滑块切换步骤"},
	"masked": {"grey: masked (a future token, which the causal mask hides, or a token that has left the context window)",
		"灰色：被遮住（因果掩码挡住的未来 token，或已离开上下文窗口的 token）"},
	"masked.short":  {"grey: masked", "灰色：被遮住"},
	"masked.legend": {"masked", "被遮住"},
	"notrec.legend": {"not recorded", "未记录"},
	"notrec": {"sand: not recorded (the trace keeps the attention of only the last %[1]d query rows of a long prompt; rows before them are not masked, just not stored)",
		"沙色：未记录（对很长的提示词，记录只保留最后 %[1]d 个查询行的注意力；之前的行并没有被遮住，只是没有保存）"},
	"stride": {"downsampled: each cell is the attention %[1]d queries (averaged) give %[1]d keys (summed)",
		"已降采样：每格表示 %[1]d 个查询（取平均）分给 %[1]d 个键（求和）的注意力"},
	"stride.note": {"%[1]s: the run has %[2]s positions and an interactive heatmap shows at most %[3]d per side, so positions are grouped in blocks of %[4]d: each cell is the attention a block of %[4]d queries gives a block of %[4]d keys (summed over the keys, averaged over the queries; rows still sum to 1).",
		"%[1]s：本次运行有 %[2]s 个位置，而交互式热力图每边最多显示 %[3]d 个，所以每 %[4]d 个位置合成一组：每格表示一组 %[4]d 个查询分给一组 %[4]d 个键的注意力（对键求和、对查询取平均，每行之和仍为 1）。"},
	"recorder.note": {"%[1]s: the recorder stored long attention rows as averages over blocks of %[2]d keys; each such average is spread evenly over its keys here.",
		"%[1]s：记录时把较长的注意力行按每 %[2]d 个键取平均保存；这里把每个平均值均匀分摊到对应的键上。"},

	// Prompt probabilities.
	"pp.title":     {"P(w_i | w_<i) for each prompt token", "每个提示词 token 的 P(w_i | w_<i)"},
	"pp.sub":       {"perplexity %[1]s over %[2]d scored tokens", "困惑度 %[1]s（共 %[2]d 个计分 token）"},
	"pp.sub.one":   {"perplexity %[1]s over %[2]d scored token", "困惑度 %[1]s（共 %[2]d 个计分 token）"},
	"pp.sub.first": {"; the first token has no context, so it has no probability", "；第一个 token 没有上下文，所以没有概率"},
	"pp.surprisal": {"surprisal (bits)", "信息量（比特）"},
	"pp.nocontext": {" (no context)", "（无上下文）"},
	"pp.static.y":  {"probability (bars) / surprisal ÷ max (line)", "概率（柱） / 信息量 ÷ 最大值（线）"},

	// Next token.
	"nt.title":      {"Next-token probabilities at each step", "每一步的下一个 token 概率"},
	"nt.sub.slider": {"drag the slider to change the step", "拖动滑块切换步骤"},
	"nt.sub.chosen": {"orange: the chosen token", "橙色：选中的 token"},
	"nt.sub.kept":   {"blue: could have been chosen", "蓝色：本可以被选中"},
	"nt.sub.grey":   {"grey: %s", "灰色：%s"},
	"nt.sub.used":   {"green: the probability the sampler used", "绿色：采样器实际使用的概率"},
	"nt.raw":        {"P (softmax, T = 1)", "概率（softmax，T = 1）"},
	"nt.used":       {"P used by the sampler", "采样器使用的概率"},
	"nt.chosen":     {"chosen token", "选中的 token"},
	"nt.removed":    {"removed by top-k / top-p", "被 top-k / top-p 去掉"},
	"nt.removed.k":  {"removed by top-k", "被 top-k 去掉"},
	"nt.removed.p":  {"removed by top-p", "被 top-p 去掉"},
	"nt.removed.g":  {"not the most likely token (greedy decoding keeps only that one)", "不是概率最大的 token（贪心解码只留下它）"},
	"nt.chosen.tag": {" (chosen)", "（选中）"},
	"nt.step":       {"step %[1]d: chose “%[2]s” (P = %[3]s, %[4]s)", "第 %[1]d 步：选中“%[2]s”（P = %[3]s，%[4]s）"},
	"nt.sampled":    {"sampled", "采样"},
	"nt.greedy":     {"greedy: the most likely token", "贪心：概率最大的 token"},
	"nt.entropy":    {"entropy %[1]s bits at T = 1, %[2]s bits after temperature and filters", "T = 1 时熵为 %[1]s 比特，经过温度和过滤器后为 %[2]s 比特"},
	"nt.entropy.g":  {"entropy %[1]s bits at T = 1 (greedy: no randomness left)", "T = 1 时熵为 %[1]s 比特（贪心：没有随机性）"},
	"nt.temp":       {"T = %s", "T = %s"},
	"nt.kept":       {"%[1]s kept %[2]d tokens (mass %[3]s)", "%[1]s 保留 %[2]d 个 token（概率和 %[3]s）"},
	"nt.off":        {"%[1]s off", "%[1]s 未启用"},
	"kv.prefill":    {"prefill", "预填充"},
	"nt.kept.bar":   {"could be chosen", "本可以被选中"},

	// Generation lines.
	"gl.title":    {"Entropy and the chosen token's probability over the steps", "各步的熵与被选中 token 的概率"},
	"gl.entropy":  {"entropy (bits)", "熵（比特）"},
	"gl.sampled":  {"entropy sampled from (bits)", "实际采样分布的熵（比特）"},
	"gl.chosen":   {"P(chosen token)", "P（选中的 token）"},
	"gl.static.y": {"bits (entropy) / probability", "比特（熵） / 概率"},

	// Attention.
	"at.title":       {"Attention, layer %[1]d, head %[2]d", "注意力：第 %[1]d 层，第 %[2]d 个头"},
	"at.sub":         {"rows: queries (the token reading) · columns: keys (the tokens read) · ", "行：查询（正在读取的 token） · 列：键（被读取的 token） · "},
	"at.key":         {"key (the token read)", "键（被读取的 token）"},
	"at.query":       {"query (the token reading)", "查询（正在读取的 token）"},
	"at.series":      {"query %s", "查询 %s"},
	"at.static":      {" (cells: blocks of %[1]d positions)", "（每格：%[1]d 个位置一组）"},
	"at.grid.static": {"Attention, layer %[1]d (model view)\n0 = white, 1 = dark blue, grey = masked", "注意力：第 %[1]d 层（全模型视图）\n0 = 白，1 = 深蓝，灰 = 被遮住"},
	"at.head":        {"head %d", "第 %d 个头"},
	"at.heads":       {"heads %[1]d–%[2]d", "第 %[1]d–%[2]d 个头"},
	"at.headlist":    {"heads %s", "第 %s 个头"},
	"at.grid":        {"Attention, layer %[1]d, %[2]s (model view)", "注意力：第 %[1]d 层，%[2]s（全模型视图）"},
	"at.grid.sub":    {"queries ↓, keys →; white→dark blue = 0→1; grey: masked", "查询 ↓，键 →；白→深蓝 = 0→1；灰色：被遮住"},
	"at.grid.notrec": {"\nsand: not recorded (only the last %[1]d query rows of the prompt are stored; not masked)",
		"\n沙色：未记录（提示词只保存了最后 %[1]d 个查询行；并非被遮住）"},
	"at.grid.static.notrec": {", sand = not recorded", "，沙色 = 未记录"},
	"at.grid.cell":          {"each cell: %[1]d queries (averaged) → %[1]d keys (summed)", "每格：%[1]d 个查询（平均）→ %[1]d 个键（求和）"},
	"at.grid.note": {"%[1]s: each small heatmap shows at most %[2]d×%[2]d cells; with %[3]s positions, positions are grouped in blocks of %[4]d (attention summed over the keys of a block, averaged over its queries).",
		"%[1]s：每张小热力图最多 %[2]d×%[2]d 格；本次有 %[3]s 个位置，所以每 %[4]d 个位置合成一组（对组内的键求和、对组内的查询取平均）。"},
	"at.lh":        {"layer %[1]d, head %[2]d", "第 %[1]d 层，第 %[2]d 个头"},
	"at.mean":      {"mean of layer %d's heads", "第 %d 层所有头的平均"},
	"nw.title":     {"How each new token reads working memory, layer %[1]d, head %[2]d", "每个新 token 如何读取工作记忆：第 %[1]d 层，第 %[2]d 个头"},
	"nw.step":      {"step %[1]d: %[2]s reads positions %[3]d–%[4]d", "第 %[1]d 步：%[2]s 读取位置 %[3]d–%[4]d"},
	"nw.row":       {"step %[1]d: %[2]s", "第 %[1]d 步：%[2]s"},
	"nw.attention": {"attention", "注意力"},
	"nw.note":      {"New-token attention, %[1]s: long rows were stored as averages over blocks of %[2]d keys.", "新 token 的注意力，%[1]s：较长的行按每 %[2]d 个键取平均保存。"},
	"nw.static.y":  {"decode step (new token)", "解码步（新 token）"},

	// KV cache.
	"kv.formula":    {KVFormula, "字节数 = 2（键和值）× n_layer × 位置数 × n_embd × 4（每个 float32 的字节数）"},
	"kv.last":       {"after the last step: %s", "最后一步之后：%s"},
	"kv.recorded":   {" (the trace records %s bytes)", "（记录中为 %s 字节）"},
	"kv.bytes":      {"KV cache (bytes)", "KV 缓存（字节）"},
	"kv.cached":     {"cached positions", "缓存的位置数"},
	"kv.bytesax":    {"bytes", "字节"},
	"kv.posax":      {"positions", "位置数"},
	"kv.full":       {"one token leaves at every step and the window is recomputed (%[1]d tokens evicted during generation)", "此后每步离开一个 token，并重算整个窗口（生成期间共逐出 %[1]d 个 token）"},
	"kv.full.block": {"the oldest %[1]d tokens leave at once and the window's %[2]d positions are recomputed;\nthen the cache grows again by one position a step (%[3]d tokens evicted during generation)", "最旧的 %[1]d 个 token 一次性离开，窗口中的 %[2]d 个位置重算；\n之后缓存每步增长一个位置（生成期间共逐出 %[3]d 个 token）"},
	"kv.dropped":    {"the prompt did not fit: its oldest %d tokens were dropped before the prefill (step 0)", "提示词放不下：最旧的 %d 个 token 在预填充（第 0 步）之前就被丢掉了"},
	"kv.full.short": {"window full", "窗口已满"},
	"kv.full.at":    {"step %[1]d, marked \"window full\": %[2]s", "第 %[1]d 步（标记“窗口已满”）：%[2]s"},
	"kv.title":      {"KV cache size after each step", "每一步之后的 KV 缓存大小"},
	"kv.numbers":    {"2 × %[1]d × %[2]d × %[3]d × 4 = %[4]s bytes (%[5]s)", "2 × %[1]d × %[2]d × %[3]d × 4 = %[4]s 字节（%[5]s）"},
	"kv.numbers.b":  {"2 × %[1]d × %[2]d × %[3]d × 4 = %[4]s bytes", "2 × %[1]d × %[2]d × %[3]d × 4 = %[4]s 字节"},
	"kh.title":      {"KV cache, layer %[1]d, head %[2]d: keys and values of each cached position", "KV 缓存：第 %[1]d 层，第 %[2]d 个头，每个缓存位置的键和值"},
	"kh.sub":        {"rows: cached positions · columns: the %[1]d dimensions of one head (d_head) · blue < 0 < red; ranges from the data: keys ±%[2]s, values ±%[3]s", "行：缓存的位置 · 列：一个头的 %[1]d 个维度（d_head） · 蓝 < 0 < 红；范围取自数据：键 ±%[2]s，值 ±%[3]s"},
	"kh.rows":       {"downsampled: each row averages %d positions", "已降采样：每行是 %d 个位置的平均"},
	"kh.note":       {"%[1]s: %[2]s cached positions are more than %[3]d, so each row is the average of %[4]d positions.", "%[1]s：缓存了 %[2]s 个位置，多于 %[3]d 个，所以每行是 %[4]d 个位置的平均值。"},
	"kh.keys":       {"keys (K)", "键（K）"},
	"kh.values":     {"values (V)", "值（V）"},
	"kh.pos":        {"cached position", "缓存的位置"},
	"kh.key":        {"key, layer %[1]d, head %[2]d", "键，第 %[1]d 层，第 %[2]d 个头"},
	"kh.value":      {"value, layer %[1]d, head %[2]d", "值，第 %[1]d 层，第 %[2]d 个头"},
	"kh.dim":        {"dim %d", "维 %d"},
	// KV cache over time and per layer.
	"kt.title": {"The KV cache over time, layer %[1]d, head %[2]d: keys and values after each step", "KV 缓存随时间的变化：第 %[1]d 层，第 %[2]d 个头，每一步之后的键和值"},
	"kt.sub": {"drag the slider to change the step · rows: positions · columns: the %[1]d dimensions of one head (d_head) · blue < 0 < red; keys ±%[2]s, values ±%[3]s · the narrow column left of the keys: each row's status (legend at the top)",
		"拖动滑块切换步骤 · 行：位置 · 列：一个头的 %[1]d 个维度（d_head） · 蓝 < 0 < 红；键 ±%[2]s，值 ±%[3]s · 键左边的窄列：每一行的状态（图例在顶部）"},
	"kt.evicted":        {"evicted", "已被挤出"},
	"kt.written":        {"written this step", "这一步写入"},
	"kt.rewritten":      {"rewritten (recompute)", "重写（重算）"},
	"kt.kept":           {"kept from an earlier step", "之前的步骤留下的"},
	"kt.status":         {"row status", "行的状态"},
	"kt.step":           {"step %[1]d (%[2]s): the cache holds positions %[3]d–%[4]d", "第 %[1]d 步（%[2]s）：缓存中是位置 %[3]d–%[4]d"},
	"kt.step.recompute": {"%[1]d evicted, %[2]d rows recomputed", "挤出 %[1]d 个，重算 %[2]d 行"},
	"kt.step.cropped":   {"the prompt's first %d tokens did not fit", "提示词的前 %d 个 token 放不下"},
	"kind.prefill":      {"prefill", "预填充"},
	"kind.decode":       {"decode", "解码"},
	"kind.recompute":    {"recompute", "重算"},
	"kt.note.steps":     {"KV cache over time: the slider shows %[1]d of the %[2]d steps, evenly spaced (the first and the last included).", "KV 缓存随时间的变化：滑块显示 %[2]d 步中均匀分布的 %[1]d 步（包括第一步和最后一步）。"},
	"kt.note.rows":      {"KV cache over time: each row is the average of %d positions, to keep the page small.", "KV 缓存随时间的变化：为了让页面小一些，每行是 %d 个位置的平均值。"},
	"kt.static.title":   {"Key norm of layer %d (all heads) per cached position, after each step\ngrey: not in the cache (evicted or not yet written)", "第 %d 层（所有头）每个缓存位置的键范数，每一步之后\n灰色：不在缓存中（已被挤出或尚未写入）"},
	"kl.title":          {"Cached positions per layer after each step", "每一步之后每层缓存的位置数"},
	"kl.sub":            {"rows: layers · columns: steps (0 = prefill) · colour: cached positions, 0–%d", "行：层 · 列：步（0 = 预填充） · 颜色：缓存的位置数，0–%d"},
	"kl.same":           {"every layer holds the same number of positions at every step", "每一步每一层缓存的位置数都相同"},
	"kl.cols":           {"downsampled: each column averages %d steps", "已降采样：每列是 %d 步的平均"},
	"kl.note":           {"KV cache size per layer: each column is the average of %d steps.", "每层 KV 缓存大小：每列是 %d 步的平均值。"},

	// Logit lens and residual stream.
	"ll.title":  {"Logit lens: the top next token after each layer", "Logit lens：每层之后排第一的下一个 token"},
	"ll.sub":    {"rows: the residual stream after each layer, read out early · columns: positions · cell: the top token and its probability", "行：每一层之后的残差流，提前读出 · 列：位置 · 格：排第一的 token 及其概率"},
	"ll.sample": {"sampled: one position in every %d", "抽样：每 %d 个位置取一个"},
	"ll.note":   {"Logit lens: one position in every %[1]d is shown, to keep at most %[2]d columns.", "Logit lens：只显示每 %[1]d 个位置中的一个，使列数不超过 %[2]d。"},
	"ll.axis":   {"layer", "层"},
	"ll.block":  {"layer %d", "第 %d 层"},
	"ll.after":  {"after layer %d", "第 %d 层之后"},
	"ll.static": {" (colour: its probability)", "（颜色：其概率）"},
	"rn.title":  {"Residual stream: its size (L2 norm) at each layer and position", "残差流：各层、各位置的大小（L2 范数）"},
	"rn.embed":  {"embeddings", "词嵌入"},
	"rn.sub":    {"‖x‖₂ of the residual stream, the vector each layer reads from and adds to · colour range %[1]s to %[2]s from the data", "残差流的 ‖x‖₂（每一层都从这个向量读取、再往里添加） · 颜色范围 %[1]s 到 %[2]s，取自数据"},
	"rn.sat":    {" (colours saturate above %[1]s; the largest norm is %[2]s)", "（超过 %[1]s 的颜色不再加深；最大范数为 %[2]s）"},
	"rn.cols":   {"downsampled: each column averages %d positions", "已降采样：每列是 %d 个位置的平均"},
	"rn.note":   {"Residual stream: %[1]d recorded positions are more than %[2]d, so each column is the average of %[3]d positions.", "残差流：记录了 %[1]d 个位置，多于 %[2]d 个，所以每列是 %[3]d 个位置的平均值。"},
	// The sampling playground (SamplingPlayground); {0}, {1} … are filled
	// in by the page's script.
	"pg.title":       {"Sampling playground: reshape the recorded next-token distributions", "采样实验台（sampling playground）：重新塑造记录下来的下一个 token 分布"},
	"pg.missing":     {"%[1]d of the decode steps recorded no logits (a trace from an older gptviz): the playground leaves them out.", "有 %[1]d 个解码步骤没有记录 logits（旧版 gptviz 写的记录），不在实验台中。"},
	"pg.step":        {"Step", "步骤"},
	"pg.temperature": {"Temperature", "温度（temperature）"},
	"pg.topk":        {"Top-k", "top-k"},
	"pg.topp":        {"Top-p", "top-p"},
	"pg.greedy":      {"greedy", "贪心"},
	"pg.off":         {"off", "关闭"},
	"pg.reset":       {"The run's settings", "恢复本次运行的设置"},
	"pg.token":       {"token", "token（词元）"},
	"pg.rank":        {"rank", "排名"},
	"pg.raw":         {"the model's P (T = 1)", "模型给出的 P（T = 1）"},
	"pg.aftert":      {"after temperature {0}", "温度 {0} 之后"},
	"pg.afterk":      {"after top-k {0}", "top-k {0} 之后"},
	"pg.afterp":      {"after top-p {0}: sampled from", "top-p {0} 之后：实际采样的分布"},
	"pg.removedk":    {"removed by top-k", "被 top-k 去掉"},
	"pg.removedp":    {"removed by top-p", "被 top-p 去掉"},
	"pg.removedg":    {"greedy keeps only the top token", "贪心只保留第一名"},
	"pg.sampled":     {"sampled by the run", "本次运行采样到的"},
	"pg.others":      {"the other {0} recorded tokens", "其余 {0} 个记录下来的 token"},
	"pg.tail":        {"the {0} tokens not recorded", "{0} 个没有记录的 token"},
	"pg.recorded":    {"{0} of {1} tokens recorded", "记录了 {1} 个 token 中的 {0} 个"},
	"pg.held":        {"holding {0} of the probability", "占概率的 {0}"},
	"pg.ignored":     {"ignored", "忽略"},
	"pg.survive":     {"{0} of {1} survive", "{1} 个中留下 {0} 个"},
	"pg.entropy":     {"entropy {0} bits", "熵 {0} 比特"},
	"pg.mass":        {"mass kept {0}", "保留的概率质量 {0}"},
	"pg.pipeline":    {"temperature → top-k → top-p, then what survives is renormalised to sum to 1", "温度 → top-k → top-p，最后把留下的部分重新归一化，使总和为 1"},
	"pg.exact":       {"Exact: for these settings the page computes what gptviz's sampler computes on this step.", "精确：在这些设置下，页面算出的结果与 gptviz 的采样器在这一步算出的一致。"},
	"pg.approx": {"Approximate: only the top {0} of the {1} tokens' logits were recorded (at T = 1 they hold {2} of the probability). The other {3} tokens are ignored, so these numbers are those of a sampler that only knows the recorded tokens; set top-k to at most {0} (or temperature to 0) for the exact ones.",
		"近似：只记录了 {1} 个 token 中最高的 {0} 个 logits（在 T = 1 时它们占概率的 {2}）。其余 {3} 个 token 被忽略，所以这里的数字是只认识这些记录下来的 token 的采样器给出的；把 top-k 设为不超过 {0}（或把温度设为 0）就能得到精确结果。"},
	"pg.full":     {"The whole vocabulary ({0} tokens) was recorded: every setting is exact.", "记录了整个词表（{0} 个 token）：任何设置都是精确的。"},
	"pg.context":  {"Context before this step", "这一步之前的上下文"},
	"pg.notrerun": {"The tokens are the recorded run's: moving a slider reshapes the distribution the model gave at this step, it does not rerun the model (with other settings, later steps would have seen other tokens).", "这些 token 来自记录下来的那次运行：拖动滑块只是重新塑造模型在这一步给出的分布，并不会重新运行模型（换了设置，后面的步骤本会看到不同的 token）。"},
	"pg.outside":  {"the run sampled {0}, outside the recorded top {1}", "本次运行采样到的是 {0}，不在记录下来的前 {1} 名之内"},
}
