package lessons

import "github.com/gptviz/gptviz/internal/i18n"

// compareTexts holds every sentence of a comparison page (Compare), by key,
// in English and Chinese. Setting specs and token strings never go into
// markdown; settings are named in markdown by their numbers only
// (cmpBuilder.setting).
var compareTexts = i18n.Table{
	"c.title": {"Sampling settings side by side: one prompt, the same seeds", "采样设置并排对比：同一个提示词，同样的随机种子"},

	"c.summary.h": {"## 1. What was compared", "## 1. 比较了什么"},
	"c.summary.md": {"A GPT gives, at every step, a probability for each possible next **token**; a **sampling setting** decides how one token is drawn from it. " +
		"This page runs %[1]d settings with %[2]d seeds each, %[3]d steps each: %[4]d runs of the same model on the same prompt.",
		"GPT 在每一步都会给每个可能的下一个 **token（词元）** 一个概率；**采样设置（sampling setting）** 决定如何从中抽出一个 token。" +
			"本页用 %[1]d 种设置、每种 %[2]d 个随机种子、每次 %[3]d 步运行：同一个模型、同一个提示词，一共 %[4]d 次运行。"},
	"c.f.caption":   {"The comparison", "本次比较"},
	"c.field":       {"setting", "项目"},
	"c.value":       {"value", "取值"},
	"c.f.model":     {"model", "模型"},
	"c.f.prompt":    {"prompt", "提示词"},
	"c.f.steps":     {"decode steps per run", "每次运行的解码步数"},
	"c.f.seeds":     {"seeds", "随机种子"},
	"c.f.shown":     {"seed shown step by step below", "下面逐步展示的种子"},
	"c.s.caption":   {"The settings (filters apply in this order: temperature → top-k → top-p)", "各种设置（过滤顺序：温度 → top-k → top-p）"},
	"c.temp":        {"temperature", "温度"},
	"c.greedy.cell": {"0 (greedy)", "0（贪心）"},
	"c.off":         {"off", "关闭"},
	"c.greedy":      {"**greedy**", "**贪心（greedy）**"},
	"c.rerun":       {"# rerun exactly this comparison (a byte-identical page)", "# 原样复现这次比较（逐字节相同的页面）"},
	"c.rebuilt":     {"# (command reconstructed from the saved comparison's settings)", "#（命令由保存的比较中的设置重建）"},
	"c.same.md": {"The prompt was read (prefilled) **once**, and every run continued from its own copy of that KV cache, so the runs differ **only** by their setting and seed. " +
		"Each run is exactly the run `gptviz report` makes with the same setting and seed.",
		"提示词只读入（预填充，prefill）了**一次**，每次运行都从这份 KV 缓存的一个副本继续，所以各次运行之间的差别**只**来自设置和种子。" +
			"每一次运行都和用同样设置、同样种子执行 `gptviz report` 得到的结果完全一样。"},

	"c.text.h": {"## 2. What each setting wrote", "## 2. 每种设置写出了什么"},
	"c.text.md": {"Per setting, the text it generated with seed %[1]d. Each token is shaded by its probability under the model at temperature 1: dark blue for a token the model expected, pale for a surprise. Hover over a token for its probabilities and the model's top alternatives at that step.",
		"每种设置用种子 %[1]d 生成的文本。每个 token 的底色表示模型在温度 1 下给它的概率：深蓝表示模型意料之中，浅色表示出乎意料。把鼠标停在 token 上，可以看到它的概率和模型在这一步最看好的几个候选。"},
	"c.text.caption": {"%[1]d. %[2]s · seed %[3]d", "%[1]d. %[2]s · 种子 %[3]d"},
	"c.text.prompt":  {"the prompt", "提示词"},
	"c.chip": {"step %[1]d · P at T = 1: %[2]s · P used by the sampler: %[3]s\ntop alternatives: %[4]s",
		"第 %[1]d 步 · T = 1 时的概率：%[2]s · 采样器使用的概率：%[3]s\n最看好的候选：%[4]s"},
	"c.greedy.same": {"Greedy decoding wrote the same text with all %[1]d seeds: it never draws, it always takes the most likely token.",
		"贪心解码在全部 %[1]d 个种子下写出了同样的文本：它从不抽签，总是取概率最大的 token。"},
	"c.seeds.differ": {"With %[1]s, the %[2]d seeds wrote %[3]d different texts.",
		"在 %[1]s 下，%[2]d 个种子写出了 %[3]d 种不同的文本。"},
	"c.t1": {"Temperature 1 does not mean \"no randomness\": it leaves the model's distribution as it is and samples from it.",
		"温度 1 并不等于“没有随机性”：它保持模型的分布不变，再从中抽样。"},
	"c.seeds.same": {"With %[1]s, all %[2]d seeds happened to write the same text here: at each step the model put almost all probability on one token.",
		"在 %[1]s 下，这里 %[2]d 个种子碰巧写出了同样的文本：每一步模型几乎把全部概率都放在了一个 token 上。"},
	"c.seed.fixed": {"A seed fixes the random draws: rerunning a setting with the same seed gives the same tokens, which is what makes this page reproducible — but each draw is still random, so another seed gives another text.",
		"种子固定了随机抽样的结果：同一设置、同一种子重跑，会得到同样的 token，所以这一页可以原样复现；但每一次抽样本身仍然是随机的，换一个种子就会得到另一段文本。"},

	"c.steps.h": {"## 3. One step, filter by filter", "## 3. 同一步，一个过滤器接一个过滤器"},
	"c.steps.md": {"At each step the sampler turns the model's logits into a distribution in a fixed order: **temperature** divides the logits (below 1 sharpens, above 1 flattens), **top-k** keeps the k most likely tokens, **top-p** keeps the fewest most likely tokens whose probability adds up to p; after each filter, what survives is **renormalised** to sum to 1. " +
		"The chart shows each setting's distribution after every stage at the same step; drag the slider to move all of them together.\n\n" +
		"$$P_T(w) = \\frac{\\exp(z_w / T)}{\\sum_v \\exp(z_v / T)}$$",
		"每一步，采样器都按固定的顺序把模型的 logits 变成一个分布：先用**温度（temperature）**去除 logits（小于 1 使分布更尖，大于 1 使分布更平），再用 **top-k** 只保留概率最大的 k 个 token，最后用 **top-p** 保留概率之和达到 p 的最少几个 token；每过一道过滤器，留下来的 token 都会**重新归一化（renormalise）**，使概率之和为 1。" +
			"下图并排显示各设置在同一步经过每个阶段后的分布；拖动滑块，所有设置一起移动。\n\n" +
			"$$P_T(w) = \\frac{\\exp(z_w / T)}{\\sum_v \\exp(z_v / T)}$$"},
	"c.filter.md": {"For example %[1]s at step %[2]d: after temperature, the token it drew had probability %[3]s; top-k kept %[4]d tokens holding %[5]s of the probability, top-p then kept %[6]d holding %[7]s; renormalised over those, the drawn token's probability became %[8]s.",
		"例如 %[1]s 的第 %[2]d 步：经过温度之后，最终抽中的 token 概率为 %[3]s；top-k 保留了 %[4]d 个 token，它们的概率之和为 %[5]s；top-p 接着保留了 %[6]d 个，概率之和为 %[7]s；在这些 token 上重新归一化之后，抽中 token 的概率变成了 %[8]s。"},
	"c.nosteps": {"The runs generated no tokens, so there is no step to show.", "这些运行没有生成 token，所以没有可以展示的步骤。"},
	"c.t0.ok": {"**Temperature → 0 is greedy:** dividing the logits by a tiny T puts all the probability on the largest one. Each run checked it on its first steps: a temperature of 10⁻⁶ picked the most likely token every time.",
		"**温度 → 0 就是贪心**：用一个极小的 T 去除 logits，全部概率都会集中到最大的那个上。每次运行都在前几步检验过：温度取 10⁻⁶ 时，每次选中的都是概率最大的 token。"},
	"c.t0.bad": {"**Temperature → 0 should be greedy**, but in this comparison a temperature of 10⁻⁶ did not always pick the most likely token (see the runs' checks).",
		"**温度 → 0 本应等于贪心**，但在这次比较中，温度取 10⁻⁶ 时并不总是选中概率最大的 token（见各次运行的校验）。"},
	"c.lowt.same": {"Here %[1]s wrote exactly what greedy wrote, all %[2]d steps.", "在这里，%[1]s 写出的内容与贪心完全相同，全部 %[2]d 步都一样。"},
	"c.lowt.part": {"Here %[1]s followed greedy for %[2]d steps and first chose another token at step %[3]d: a low temperature is close to greedy, not the same.",
		"在这里，%[1]s 前 %[2]d 步与贪心一致，第 %[3]d 步第一次选了别的 token：低温接近贪心，但并不等于贪心。"},
	"c.lowt.first": {"Here %[1]s chose another token than greedy already at step 1: a low temperature is close to greedy, not the same.",
		"在这里，%[1]s 第 1 步就选了与贪心不同的 token：低温接近贪心，但并不等于贪心。"},
	"c.topp.md": {"**Top-p adapts the number of candidates:** %[1]s kept only %[2]d tokens at step %[3]d, where the model was sure, but %[4]d at step %[5]d, where it was not. Top-k would keep the same number at every step.",
		"**top-p 会随分布的形状调整候选数量**：%[1]s 在第 %[3]d 步只保留了 %[2]d 个 token（模型很有把握），而在第 %[5]d 步保留了 %[4]d 个（模型拿不准）。top-k 则每一步都保留同样多个。"},
	"c.topp.md.one": {"**Top-p adapts the number of candidates:** %[1]s kept only %[2]d token at step %[3]d, where the model was sure, but %[4]d at step %[5]d, where it was not. Top-k would keep the same number at every step.",
		"**top-p 会随分布的形状调整候选数量**：%[1]s 在第 %[3]d 步只保留了 %[2]d 个 token（模型很有把握），而在第 %[5]d 步保留了 %[4]d 个（模型拿不准）。top-k 则每一步都保留同样多个。"},
	"c.topp.same": {"**Top-p adapts the number of candidates to the distribution's shape**; here %[1]s happened to keep %[2]d tokens at every step.",
		"**top-p 会随分布的形状调整候选数量**；不过在这里，%[1]s 碰巧每一步都保留了 %[2]d 个 token。"},
	"c.topp.same.one": {"**Top-p adapts the number of candidates to the distribution's shape**; here %[1]s happened to keep %[2]d token at every step.",
		"**top-p 会随分布的形状调整候选数量**；不过在这里，%[1]s 碰巧每一步都保留了 %[2]d 个 token。"},

	"c.lines.h": {"## 4. Over the steps", "## 4. 随步骤的变化"},
	"c.lines.md": {"The **entropy** of a distribution (in bits) says how spread out it is: 0 when one token has all the probability. Solid lines are the model's entropy at T = 1 at each step, dashed lines the entropy of what the sampler actually drew from; below, the probability the model gave each chosen token.",
		"分布的**熵（entropy）**（单位：比特）衡量它有多分散：一个 token 拿走全部概率时熵为 0。实线是每一步模型在 T = 1 下的熵，虚线是采样器实际抽样的分布的熵；下图是模型给每个被选中 token 的概率。"},

	"c.num.h": {"## 5. The texts in numbers", "## 5. 用数字看这些文本"},
	"c.num.md": {"**Mean log-probability** is how likely the model (at T = 1) finds the generated text, per token; its negative is the cross-entropy loss of training, measured on this text; **perplexity** is the exponential of that negative, the number of equally likely choices the model saw on average. " +
		"**Distinct-1** and **distinct-2** are the shares of different tokens and token pairs; the **repetition rate** is the share of 4-grams that repeat an earlier one.\n\n" +
		"$$\\bar{\\ell} = \\frac{1}{n}\\sum_{i=1}^{n} \\ln P(w_i \\mid w_{<i})$$\n\n$$\\text{PPL} = e^{-\\bar{\\ell}}$$",
		"**平均对数概率（mean log-probability）**衡量模型（在 T = 1 下）觉得生成的文本有多“像”，按每个 token 计；它的相反数就是训练时的交叉熵损失，只是在这段文本上计算；**困惑度（perplexity）**是它取负后的指数，相当于模型平均在多少个同样可能的选项之间犹豫。" +
			"**distinct-1** 与 **distinct-2** 是不同 token、不同相邻 token 对所占的比例；**重复率（repetition rate）**是与前文重复的 4-gram 所占的比例。\n\n" +
			"$$\\bar{\\ell} = \\frac{1}{n}\\sum_{i=1}^{n} \\ln P(w_i \\mid w_{<i})$$\n\n$$\\text{PPL} = e^{-\\bar{\\ell}}$$"},
	"c.num.caption":     {"Per setting: mean over the %d seeds [lowest, highest]; the perplexity is e^(−mean log-prob), its interval the seeds' own", "按设置：%d 个种子的平均 [最低, 最高]；困惑度是 e^(−平均对数概率)，区间是各种子自己的困惑度"},
	"c.num.caption.one": {"Per setting, seed %d", "按设置，种子 %d"},
	"c.num.lp":          {"mean log-prob (nats/token)", "平均对数概率（奈特/token）"},
	"c.num.ppl":         {"perplexity", "困惑度"},
	"c.num.rep":         {"repetition", "重复率"},
	"c.num.likely": {"The likeliest text under the model came from %[1]s (mean log-probability %[2]s, perplexity %[3]s).",
		"模型认为最“像”的文本来自 %[1]s（平均对数概率 %[2]s，困惑度 %[3]s）。"},
	"c.num.diverse":   {"The most varied came from %[1]s (distinct-2 %[2]s).", "用词最丰富的来自 %[1]s（distinct-2 为 %[2]s）。"},
	"c.num.noise.run": {"%[1]s with seed %[2]s", "%[1]s（种子 %[2]s）"},
	"c.num.noise": {"But the model finds the text of %[1]s less likely than a uniform guess over its %[2]s tokens would (perplexity above %[2]s): that perplexity counts no choices, and that text's variety is noise.",
		"不过，模型觉得 %[1]s 的文本比在它的 %[2]s 个 token 上均匀瞎猜还不可能（困惑度超过 %[2]s）：这样的困惑度不再是选项的个数，那段文本的丰富也只是噪声。"},
	"c.num.rep.md":   {"The most repetitive was %[1]s (repetition rate %[2]s).", "重复最多的是 %[1]s（重复率 %[2]s）。"},
	"c.num.rep.many": {"The most repetitive were %[1]s (repetition rate %[2]s).", "重复最多的是 %[1]s（重复率都是 %[2]s）。"},
	"c.and":          {"%[1]s and %[2]s", "%[1]s 和 %[2]s"},
	"c.sep":          {", ", "、"},
	"c.num.norep":    {"No text repeated a 4-gram.", "没有哪段文本重复过 4-gram。"},

	"c.div.h": {"## 6. Where two settings part", "## 6. 两种设置从哪里分开"},
	"c.div.md": {"With the same seed, two settings write the same tokens until their filters make a draw come out differently. The table gives, per seed, the first step at which each setting chose another token than %[1]s.",
		"用同一个种子时，两种设置会写出同样的 token，直到它们的过滤器让某一次抽样得到不同的结果。下表按种子列出每种设置第一次与 %[1]s 选出不同 token 的步骤。"},
	"c.pg.h": {"## 7. Try other settings yourself\n\nThe playground below holds the recorded steps of %s with the seed shown above. Move the sliders to apply other filters to the same distributions: the model is not rerun.",
		"## 7. 自己试试别的设置\n\n下面的演练场保存了 %s 在上面所示种子下记录的每一步。拖动滑块，就能对同样的分布施加别的过滤：模型不会重新运行。"},
	"c.div.seed":    {"seed %d", "种子 %d"},
	"c.div.never":   {"never", "从未"},
	"c.div.caption": {"First step that differs from %s", "第一次与 %s 不同的步骤"},
	"c.div.none":    {"With every seed, every setting wrote the same tokens as the first one.", "在每个种子下，每种设置写出的 token 都和第一种相同。"},
	"c.div.why": {"With seed %[5]d, %[1]s and %[2]s wrote the same %[3]d tokens, so at step %[4]d the model gave both the same distribution (grey in the chart); their filters reshaped it differently and the draws parted.",
		"在种子 %[5]d 下，%[1]s 和 %[2]s 写出了同样的 %[3]d 个 token，所以在第 %[4]d 步，模型给两者的分布完全相同（图中灰色）；是它们的过滤器把分布改成了不同的样子，抽样结果才分开。"},
	"c.div.why.first": {"With seed %[3]d, %[1]s and %[2]s parted at the very first step: the model gave both the same distribution after the prompt (grey in the chart), and their filters reshaped it differently.",
		"在种子 %[3]d 下，%[1]s 和 %[2]s 在第一步就分开了：读完提示词后，模型给两者的分布完全相同（图中灰色），是它们的过滤器把分布改成了不同的样子。"},
	"c.div.probs": {"The token %[1]s chose had probability %[3]s after its filters (%[5]s at T = 1); the one %[2]s chose had %[4]s (%[6]s at T = 1).",
		"%[1]s 选中的 token 在过滤之后的概率为 %[3]s（T = 1 时为 %[5]s）；%[2]s 选中的 token 为 %[4]s（T = 1 时为 %[6]s）。"},
}
