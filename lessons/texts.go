package lessons

import "github.com/gptviz/gptviz/internal/i18n"

// texts holds every sentence a report shows, by key, in English and
// Chinese (verbs may use explicit indexes, %[2]s, so that each language can
// order the arguments as it needs). Model and user text
// (the prompt, token strings) never goes into markdown: it is shown in
// tables, chips and code cells, which are plain text.
var texts = i18n.Table{
	"title": {"What a GPT keeps in working memory: one run, step by step",
		"GPT 的工作记忆：一次运行的逐步拆解"},

	// 1. Run summary
	"summary.h": {"## 1. Run summary", "## 1. 运行概要"},
	"summary.md": {`A GPT reads text as a sequence of **tokens** and produces one new token at a time. ` +
		`Everything it "remembers" while doing so lives in its **working memory**: the tokens in its ` +
		`context window and, inside the model, the keys and values it has computed for them (the KV cache). ` +
		`This report follows one run of the model through that memory. The table says exactly what ran; ` +
		`the command below it reproduces the run — same model, same prompt, same seed, same tokens.`,
		`GPT 把文本看成一串 **token（词元）**，每次只生成一个新 token。在这个过程中，它“记住”的一切都放在` +
			`**工作记忆**里：上下文窗口中的 token，以及模型内部为这些 token 算出来的键（key）和值（value），也就是 KV 缓存。` +
			`这份报告跟着模型的一次运行，看它如何读写这份工作记忆。下表列出了这次运行的全部设置；` +
			`表格下面的命令可以原样复现这次运行：同一个模型、同一个提示词、同一个随机种子，得到同样的 token。`},
	"summary.caption": {"The run", "本次运行"},
	"summary.rerun":   {"# rerun exactly this report", "# 原样复现这份报告"},
	"summary.rebuilt": {"# (command reconstructed from the recorded settings)", "#（命令由记录下来的设置重建）"},
	"field":           {"setting", "项目"},
	"value":           {"value", "取值"},
	"f.model":         {"model", "模型"},
	"f.about":         {"about the model", "模型简介"},
	"about.gpt2": {"OpenAI's GPT-2 small (124M parameters, 2019), trained on WebText, about 8 million web pages.",
		"OpenAI 的 GPT-2 小模型（1.24 亿参数，2019 年），在 WebText（约 800 万个网页）上训练。"},
	"about.gptviz-default": {"gptviz's own small GPT-2, trained by gptviz on seven public-domain texts (Newton's Opticks, the King James Bible, The Devil's Dictionary, the Jargon File, Tom Sawyer, Sherlock Holmes, Tang and Song poems): it continues a prompt in the style of the text it resembles, Chinese poems in Chinese; its tokens are mostly whole words and single Chinese characters, and words it rarely saw are split into pieces. Its training recipe has a known flaw: after text that looks random it predicts almost uniformly (its model card measures it). For real GPT-2: gptviz pull gpt2, then --model gpt2.",
		"gptviz 自带的小型 GPT-2，由 gptviz 在七部公有领域文本上训练而成（牛顿的《光学》、英王钦定本《圣经》、《魔鬼辞典》、Jargon File 黑客词典、《汤姆·索亚历险记》、《福尔摩斯探案集》、唐诗宋词）：提示词像哪部文本，它就用那部文本的风格续写，中文诗句用中文续写；它的 token 大多是整个英文单词和单个汉字，少见的词会被切成几段。它的训练方法有一个已知缺陷：遇到看起来像随机 token 的文本后，它给出的分布几乎是均匀的（模型说明书里有测量）。想看真正的 GPT-2：先运行 gptviz pull gpt2，再加上 --model gpt2。"},
	"f.nlayer":        {"layers (n_layer)", "层数（n_layer）"},
	"f.nhead":         {"attention heads per layer (n_head)", "每层注意力头数（n_head）"},
	"f.nembd":         {"width of the residual stream (n_embd)", "残差流宽度（n_embd）"},
	"f.dhead":         {"width of one head (d_head)", "单个注意力头的宽度（d_head）"},
	"f.npos":          {"context window (n_positions)", "上下文窗口（n_positions）"},
	"f.vocab":         {"vocabulary (vocab_size)", "词表大小（vocab_size）"},
	"f.params":        {"parameters", "参数量"},
	"f.prompt":        {"prompt", "提示词"},
	"f.generated":     {"generated text", "生成的文本"},
	"f.steps":         {"decode steps", "解码步数"},
	"f.temp":          {"temperature", "温度（temperature）"},
	"f.topk":          {"top-k", "top-k"},
	"f.topp":          {"top-p", "top-p"},
	"f.seed":          {"seed", "随机种子"},
	"f.overflow":      {"when the context window is full (--overflow)", "上下文窗口满了以后（--overflow）"},
	"overflow.block":  {"block: evict the oldest quarter, recompute once, keep decoding from the KV cache", "block：挤出最早的四分之一，重算一次，之后继续读 KV 缓存"},
	"overflow.slide":  {"slide: evict one token per step and recompute the whole window every step", "slide：每一步挤出一个 token，并每一步重算整个窗口"},
	"f.version":       {"gptviz version", "gptviz 版本"},
	"f.timings":       {"time: load / prefill / decode", "耗时：加载 / 预填充 / 解码"},
	"f.speed":         {"decode speed", "解码速度"},
	"greedy":          {"0 (greedy: always the most likely token)", "0（贪心：总是选概率最大的 token）"},
	"off":             {"off", "关闭"},
	"tokps":           {"%s tokens/s", "%s token/秒"},
	"timings.omitted": {"left out, so that the same run writes the same files (reproducible mode)", "未记录，以便同样的运行写出完全相同的文件（可复现模式）"},
	"notes.h":         {"**What was left out or summarised.** The recorder noted, each with its reason:", "**省略或汇总了什么。** 记录时留下了这些说明，各附原因："},

	"tracenote.prompt-rows": {"The prompt has %[1]d tokens; attention, logit lens and residual norms were recorded for its last %[2]d positions.",
		"提示词有 %[1]d 个 token；注意力、logit lens 和残差范数只记录了最后 %[2]d 个位置。"},
	"tracenote.lens-rows": {"A step recorded %[1]d query rows; the logit lens was read out for its last %[2]d, since each reading costs one pass through the output head per layer.",
		"有一步记录了 %[1]d 个查询行；logit lens 只读出了最后 %[2]d 行，因为每读出一行，每一层都要过一遍输出头。"},
	"tracenote.empty-prompt": {"The prompt was empty: the run starts from `<|endoftext|>`, the token that separates documents in training, so the model writes as at the start of a new text.",
		"提示词是空的：运行从 `<|endoftext|>` 开始。训练时这个 token 用来分隔文档，所以模型会像在一篇新文本的开头那样往下写。"},
	"tracenote.attention-stride": {"Attention rows longer than %[1]d keys are stored as averages over blocks of %[2]d keys.",
		"超过 %[1]d 个键的注意力行，按每 %[2]d 个键一组取平均后保存。"},
	"tracenote.kv-rows": {"Steps that write more than %[1]d rows into the KV cache record the keys and values of layer %[2]d, head %[3]d for their last %[1]d rows; the key and value norms of every row and layer are recorded.",
		"写入 KV 缓存超过 %[1]d 行的步骤，只记录第 %[2]d 层、第 %[3]d 个头最后 %[1]d 行的键和值；每一行、每一层的键和值的范数都有记录。"},
	"tracenote.kv-layers": {"The KV cache contents were recorded for layers %[1]s only, to keep the report small.",
		"为了让报告小一些，只记录了第 %[1]s 层的 KV 缓存内容。"},
	"tracenote.timings-omitted": {"Wall-clock timings were left out, so that the same run writes byte-identical files.",
		"没有记录耗时，这样同样的运行会写出逐字节相同的文件。"},
	"tracenote.evicted": {"%[1]s left the context window of %[2]s; each step after that recomputed the window from scratch.",
		"有 %[1]s 被挤出了 %[2]s的上下文窗口；此后每一步都从头重新计算整个窗口。"},

	"tracenote.evicted-block": {"%[1]d tokens left the context window of %[2]d positions, %[4]d at a time (%[3]s); each time the rest of the window was recomputed once (%[5]d positions in all), and the steps in between read the KV cache.",
		"有 %[1]d 个 token 被挤出了 %[2]d 个位置的上下文窗口，每批 %[4]d 个（%[3]s）；每挤出一批，窗口里剩下的部分就重新计算一次（共 %[5]d 个位置），其间的各步直接读取 KV 缓存。"},
	"tracenote.prompt-windows": {"The prompt has %[1]d tokens, more than the context window of %[2]d positions. It was scored whole in %[3]d sliding windows advancing by %[4]d tokens, so every token from position %[5]d on saw at least %[5]d tokens of context; its first %[6]d tokens left working memory before the first step.",
		"提示有 %[1]d 个 token，超过了 %[2]d 个位置的上下文窗口。它被分成 %[3]d 个滑动窗口（每次前移 %[4]d 个 token）完整计分，所以从第 %[5]d 个位置起，每个 token 都至少看到了 %[5]d 个 token 的上下文；它的前 %[6]d 个 token 在第一步之前就离开了工作记忆。"},

	"n.check.one":   {"%d check", "%d 项校验"},
	"n.check.other": {"%d checks", "%d 项校验"},
	"n.step.one":    {"%d step", "%d 步"},
	"n.step.other":  {"%d steps", "%d 步"},
	"n.block.one":   {"%d block", "共 %d 批"},
	"n.block.other": {"%d blocks", "共 %d 批"},

	// Counted nouns (see builder.n): the ".one" form for 1, ".other" else.
	"n.token.one":      {"%d token", "%d 个 token"},
	"n.token.other":    {"%d tokens", "%d 个 token"},
	"n.position.one":   {"%d position", "%d 个位置"},
	"n.position.other": {"%d positions", "%d 个位置"},
	"n.scored.one":     {"%d scored token", "%d 个计分 token"},
	"n.scored.other":   {"%d scored tokens", "%d 个计分 token"},

	// 2. Tokens
	"tokens.h": {"## 2. Tokens entering working memory", "## 2. 进入工作记忆的 token"},
	"tokens.md": {`The prompt is cut into **%[1]s** by the model's byte-level BPE tokenizer (GPT-2's algorithm, %[5]s tokens in its vocabulary); generation added ` +
		`**%[2]d** more. Each chip is one token as the model sees it: ␣ marks a leading space, ↵ a newline, ` +
		`and hex digits stand for bytes that are only part of a UTF-8 character. On the HTML page, hover over a chip to see its ` +
		`token id, the number the model actually reads. The context window holds at most **%[3]s**; ` +
		`this run used **%[4]d**.`,
		`提示词被模型的字节级 BPE 分词器（GPT-2 的算法，词表共 %[5]s 个 token）切成了 **%[1]s**，生成过程又追加了 **%[2]d 个**。每个小方块就是模型眼中的一个 token：` +
			`␣ 表示开头的空格，↵ 表示换行，十六进制数字表示只占一个 UTF-8 字符一部分的字节。在 HTML 页面上把鼠标停在方块上，可以看到它的 token id——` +
			`模型真正读到的就是这个编号。上下文窗口最多容纳 **%[3]s**，这次运行用了 **%[4]d 个**。`},
	"tokens.full": {`The window filled up: **%[1]s** left working memory (grey chips) and the model could no longer ` +
		`see them. At the end it was reading the most recent %[2]s.`,
		`窗口被占满了：有 **%[1]s** 被挤出了工作记忆（灰色方块），模型再也看不到它们；运行结束时，它读取的是最近的 %[2]s。`},
	"tokens.caption": {"%[1]s in working memory of %[2]s · blue: prompt · green: generated · grey: evicted",
		"工作记忆中有 %[1]s，窗口共 %[2]s · 蓝色：提示词 · 绿色：生成的 · 灰色：已被挤出"},
	"tokens.chip":    {"id %[1]d · position %[2]d · %[3]s", "id %[1]d · 位置 %[2]d · %[3]s"},
	"tokens.evicted": {"left the window at step %d", "在第 %d 步离开窗口"},
	"tokens.prompt":  {"prompt", "提示词"},
	"tokens.gen":     {"generated", "生成"},

	// 3. P(w_i | w_<i)
	"probs.h": {"## 3. How expected was each prompt token? P(w_i | w_<i)", "## 3. 每个提示词 token 有多“意料之中”？P(w_i | w_<i)"},
	"probs.md": {`A language model is a machine for one number: **P(w_i | w_<i)**, the probability of token w_i given ` +
		`all the tokens before it. Here the prompt was fed in as it is (*teacher forcing*) and, at every position, ` +
		`we read off how much probability the model had given to the token that really came next. ` +
		`**Surprisal** is the same number in bits, −log₂ P: 1 bit is a coin flip, 10 bits is a one-in-a-thousand guess. ` +
		`The first token has nothing before it, so it has no probability here ("no context").`,
		`语言模型本质上只算一个数：**P(w_i | w_<i)**，即在前面所有 token 都已知的条件下，第 i 个 token 出现的概率。` +
			`这里把提示词原样喂给模型（*teacher forcing*，教师强制），在每个位置读出：模型给“真正出现的下一个 token”分配了多少概率。` +
			`**信息量（surprisal）** 是同一个数换成比特来表示，即 −log₂ P：1 比特相当于抛一次硬币，10 比特相当于千里挑一。` +
			`第一个 token 前面什么都没有，所以这里没有它的概率（标为“无上下文”）。`},
	"probs.ppl": {`**Perplexity** summarises the whole prompt: 2 to the power of the mean surprisal, here **%[1]s** over %[2]s.`,
		`**困惑度（perplexity）** 用一个数概括整段提示词：2 的（平均信息量）次方，这里是 **%[1]s**（共 %[2]s）。`},
	"probs.ppl.choices": {`It reads as "the model was, on average, as unsure as if it chose among %[1]s equally likely tokens" (of the %[2]s in its vocabulary).`,
		`可以理解为：“模型平均而言，就像在 %[1]s 个同样可能的 token 中做选择一样拿不准”（它的词表共有 %[2]s 个 token）。`},
	"probs.ppl.worse": {`That is more than the %[1]s tokens in its vocabulary, so it is no count of choices: guessing uniformly over the whole vocabulary would cost %[2]s bits per token (perplexity %[1]s), and the model paid %[3]s. It did worse than a blind guess: it put its probability on other tokens than the ones that came.`,
		`这个数比词表里的 %[1]s 个 token 还多，所以不能理解成“在多少个 token 中做选择”：在整个词表上均匀瞎猜，每个 token 的信息量是 %[2]s 比特（困惑度 %[1]s），而模型平均付出了 %[3]s 比特。它比瞎猜还差：它把概率押在了别的 token 上，而不是实际出现的那些。`},
	"probs.surprise": {`The most surprising prompt token is at position **%[1]d**: surprisal **%[2]s bits** (P = %[3]s), against a mean of %[4]s bits; the table shows it with the model's own guesses.`,
		`最出人意料的提示词 token 在位置 **%[1]d**：信息量 **%[2]s 比特**（P = %[3]s），而平均只有 %[4]s 比特；下表列出了它和模型自己的猜测。`},
	"ood.h": {`**This prompt is unlike the text the model learnt from.**`, `**这段提示词和模型训练时读过的文本很不一样。**`},
	"ood.bytes": {`%[1]d of its %[2]s (%[3]s%%) are raw bytes, pieces of characters for which the tokenizer has no token of their own: characters that were rare or absent in the model's training text.`,
		`它的 %[2]s 中有 %[1]d 个（%[3]s%%）是原始字节，也就是字符的碎片：分词器没有为这些字符准备专门的 token，说明它们在模型的训练文本里很少见，甚至从未出现。`},
	"ood.surprisal": {`The model's mean surprisal on it, %[1]s bits per token, is above the %[2]s bits of a uniform guess over its %[3]s-token vocabulary; the median token got P ≈ %[4]s.`,
		`模型在它上面的平均信息量是每个 token %[1]s 比特，比在 %[3]s 个 token 的词表上均匀瞎猜的 %[2]s 比特还高；居中的那个 token 只得到了 P ≈ %[4]s。`},
	"ood.so": {`Read the probabilities below as the model meeting something new, not as a judgement of the text; a model trained on such text (for Chinese, one whose vocabulary has Chinese characters) would find it far more predictable.`,
		`所以下面的概率说明的是模型遇到了陌生的东西，而不是这段文字本身好不好；换一个在这类文本上训练过的模型（对中文来说，词表里要有汉字），它会觉得这段话容易预测得多。`},
	"probs.top":       {"The %[1]d most surprising of %[2]d prompt tokens, with the model's top alternatives", "%[2]d 个提示词 token 中最出人意料的 %[1]d 个，以及模型认为最可能的几个候选"},
	"probs.all":       {"All %d prompt tokens, in order (click to open)", "按顺序列出全部 %d 个提示词 token（点击展开）"},
	"probs.none":      {"No token could be scored: the prompt has a single token.", "没有可以计分的 token：提示词只有一个 token。"},
	"probs.caption":   {"The model's top alternatives at each prompt position", "每个提示词位置上，模型认为最可能的几个候选"},
	"col.position":    {"position", "位置"},
	"col.token":       {"token", "token"},
	"col.prob":        {"P(w_i | w_<i)", "P(w_i | w_<i)"},
	"col.surprisal":   {"surprisal (bits)", "信息量（比特）"},
	"col.context":     {"context (tokens seen)", "上下文（看到的 token 数）"},
	"col.top":         {"the model's top 5 guesses", "模型的前 5 个猜测"},
	"probs.nocontext": {"no context", "无上下文"},

	// 4. Generation
	"cont.h": {"### A given continuation, scored (teacher forcing)", "### 给定续写的得分（teacher forcing，教师强制）"},
	"cont.md": {"The run also read the prompt followed by the given text %[1]q, feeding in its tokens instead of sampling (teacher forcing), and scored each with the model's P(w_i | w_<i). Together: **log2 P(continuation | prompt) = %[2]s bits** over %[3]s, that is **%[4]s bits per token**.",
		"这次运行还读了提示词加上给定文本 %[1]q：把这段文本的 token 直接喂给模型，而不是采样（teacher forcing，教师强制），并用模型的 P(w_i | w_<i) 给每个 token 打分。合起来：**log2 P(续写 | 提示词) = %[2]s 比特**，共 %[3]s，即**每个 token %[4]s 比特**。"},
	"cont.gen": {"For comparison, the %[1]s the model generated itself had a mean surprisal of %[2]s bits per token under the same model (at T = 1), against %[3]s for the given continuation: the lower, the more the model expected it.",
		"作为对照，模型自己生成的 %[1]s 在同一个模型下（T = 1）平均信息量为每个 token %[2]s 比特，给定续写则是 %[3]s 比特：越低，说明模型越料到它。"},
	"cont.caption": {"Each token of the given continuation (positions in prompt + continuation)", "给定续写的每个 token（位置按“提示词 + 续写”计）"},
	"gen.h":        {"## 4. Step-by-step generation", "## 4. 逐步生成"},
	"gen.md": {`To write, the model runs once per new token. Each **decode step** turns the last position's output into ` +
		`a probability for every token in the vocabulary, then a **sampler** picks one: ` +
		`**temperature** sharpens (below 1) or flattens (above 1) the distribution, **top-k** keeps only the k most likely tokens, ` +
		`**top-p** (nucleus) keeps the smallest set whose probabilities add up to p; temperature 0 means *greedy*, always the top token. ` +
		`**Entropy** (bits) measures how spread out the choice was. On the HTML page, drag the slider to walk through the steps; a notebook's figure shows them side by side.`,
		`要写出文字，模型每生成一个新 token 就运行一次。每个**解码步**把最后一个位置的输出变成词表里每个 token 的概率，再由**采样器**挑出一个：` +
			`**温度（temperature）** 小于 1 会让分布更尖锐、大于 1 会让它更平坦；**top-k** 只保留最可能的 k 个 token；` +
			`**top-p**（核采样）保留累计概率刚好达到 p 的最小集合；温度为 0 就是*贪心*解码，总选第一名。` +
			`**熵**（比特）衡量这次选择有多分散。在 HTML 页面上拖动滑块，可以一步一步地看；笔记本里的图把各步并排列出。`},
	"gen.none":  {"This run generated no tokens (0 decode steps), so there is nothing to step through.", "这次运行没有生成 token（解码步数为 0），所以没有可以逐步查看的内容。"},
	"gen.lines": {`Over the whole run: when entropy is high the model was unsure; when the chosen token's probability is low, the sampler took a less likely path.`, `纵观整次运行：熵高说明模型拿不准；被选中 token 的概率低，说明采样器走了一条不太常见的路。`},
	"gen.flat.from": {`**From step %[1]d on, the next-token distribution was almost flat**: at those %[2]d of the %[3]d decode steps its entropy was %[4]s–%[5]s bits, and a uniform guess over the model's %[6]s tokens is log₂ %[6]s = %[7]s bits. The model had no preference there: at least as unsure as a uniform choice among %[8]s tokens (2 to the power of the entropy), and the run never left that state.`,
		`**从第 %[1]d 步起，下一个 token 的分布几乎是平的**：%[3]d 个解码步中的这 %[2]d 步，熵为 %[4]s–%[5]s 比特，而在模型的 %[6]s 个 token 上均匀瞎猜是 log₂ %[6]s = %[7]s 比特。模型在这些步里没有偏好：至少和在 %[8]s 个 token 中均匀地选一个一样拿不准（2 的熵次方），而且这次运行再也没有离开这种状态。`},
	"gen.flat.at": {`**At %[2]d of the %[3]d decode steps (%[1]s) the next-token distribution was almost flat**: entropy %[4]s–%[5]s bits, where a uniform guess over the model's %[6]s tokens is log₂ %[6]s = %[7]s bits. The model had no preference there: at least as unsure as a uniform choice among %[8]s tokens (2 to the power of the entropy).`,
		`**在 %[3]d 个解码步中有 %[2]d 步（%[1]s），下一个 token 的分布几乎是平的**：熵为 %[4]s–%[5]s 比特，而在模型的 %[6]s 个 token 上均匀瞎猜是 log₂ %[6]s = %[7]s 比特。模型在这些步里没有偏好：至少和在 %[8]s 个 token 中均匀地选一个一样拿不准（2 的熵次方）。`},
	"gen.flat.steps": {"steps %s", "第 %s 步"},
	"gen.flat.tail": {`This run sampled from the whole distribution (temperature %[1]s, no top-k or top-p), and before that it drew a token from the tail (step %[2]d: P = %[3]s); ` + "`--temperature 0.7 --top-k 40`" + ` keeps the sampler to the likelier tokens.`,
		`这次运行从整个分布里采样（温度 %[1]s，没有 top-k 或 top-p），在那之前它从分布的尾部抽到了一个 token（第 %[2]d 步：P = %[3]s）；` + "`--temperature 0.7 --top-k 40`" + ` 会让采样只在较可能的 token 里进行。`},
	"gen.caption":  {"What the sampler chose at each step", "采样器在每一步的选择"},
	"col.step":     {"step", "步"},
	"col.chosen":   {"chosen token", "选中的 token"},
	"col.pchosen":  {"P (T = 1)", "概率（T = 1）"},
	"col.psampled": {"P sampled from", "采样所用概率"},
	"col.entropy":  {"entropy (bits)", "熵（比特）"},
	"col.how":      {"how", "方式"},
	"how.greedy":   {"greedy", "贪心"},
	"how.sampled":  {"sampled", "采样"},

	// 5. Attention
	"attn.h": {"## 5. Attention: how each position reads working memory", "## 5. 注意力：每个位置如何读取工作记忆"},
	"attn.md": {`Inside every layer, each position writes a **query** ("what am I looking for?") and every token in working memory ` +
		`offers a **key** ("what do I contain?") and a **value** ("what I pass on"). The softmax of query·key gives the ` +
		`**attention probabilities**: one row per query, summing to 1 over the keys. A token may only look back: the ` +
		`**causal mask** hides the future, drawn grey below, never as zero.`,
		`在每一层里，每个位置都会写出一个**查询（query）**（“我在找什么？”），工作记忆中的每个 token 则提供一个**键（key）**（“我有什么？”）` +
			`和一个**值（value）**（“我能传递什么”）。对 query·key 做 softmax，就得到**注意力概率**：每个查询一行，对所有键求和为 1。` +
			`token 只能往回看：**因果掩码**把未来遮住了，下图用灰色表示，而不是画成 0。`},
	"attn.heads": {"Each layer has %d **heads** that read in different ways.", "每一层有 %d 个**注意力头**，各自用不同的方式读取。"},
	"attn.focus": {`A closer look at **layer %[1]d, head %[2]d**: rows are the tokens doing the reading, columns the tokens being read. On the HTML page, hover over a cell to see both tokens and the probability.`,
		`放大看**第 %[1]d 层、第 %[2]d 个头**：每一行是正在读取的 token，每一列是被读取的 token。在 HTML 页面上把鼠标停在格子上，可以看到这两个 token 和对应的概率。`},
	"attn.grid": {`The **model view**: every selected layer and head as a small heatmap. The sentences below it come from this run's numbers: each head's share of attention on one kind of key, averaged over the rows that see at least 5 keys (shorter rows give any key a large share by chance).`,
		`**全模型视图**：每个被选中的层和头都画成一张小热力图。下面的几句话都由本次运行的数字算出：每个头分给某一类键的注意力份额，只对至少能看到 5 个键的行取平均（更短的行里，任何一个键都会碰巧分到很大的份额）。`},
	"role.h.previous-token": {`**Previous-token heads** (at least %[2]s%% of their attention on the token just before): %[1]s.`,
		`**前一个 token 头**（至少 %[2]s%% 的注意力放在紧挨着的前一个 token 上）：%[1]s。`},
	"role.h.first-token": {`**First-token heads**, or attention sinks (at least %[2]s%% of their attention parked on the oldest token in the window): %[1]s.`,
		`**首 token 头**，也叫注意力汇聚点（attention sink）：至少 %[2]s%% 的注意力“停放”在窗口中最早的 token 上：%[1]s。`},
	"role.h.self": {`**Self heads** (at least %[2]s%% of their attention on the reading token itself): %[1]s.`,
		`**自身头**（至少 %[2]s%% 的注意力放在正在读取的 token 自己身上）：%[1]s。`},
	"role.h.induction": {`**Induction heads**: where this run repeats a stretch of text, they put at least %[2]s%% of their attention on the token that followed the earlier copy, predicting that the repeat goes on: %[1]s.`,
		`**归纳头（induction head）**：在本次运行中重复出现的文字里，它们至少把 %[2]s%% 的注意力放在前一次出现时紧跟其后的 token 上，也就是预测重复会继续：%[1]s。`},
	"roles.none": {`No head in this run puts %[1]s%% or more of its attention on the previous token, on the first token or on itself (rows of at least %[2]d keys). The closest is layer %[3]d, head %[4]d, with %[5]s%% on %[6]s, against %[7]s%% if it spread its attention evenly: expect spread-out rows rather than sharp lines.`,
		`本次运行中，没有哪个头把 %[1]s%% 或更多的注意力放在前一个 token、第一个 token 或自己身上（只计至少有 %[2]d 个键的行）。最接近的是第 %[3]d 层第 %[4]d 个头：%[5]s%% 放在%[6]s上，而平均分配时只有 %[7]s%%。所以图中多是分散的行，而不是清晰的亮线。`},
	"role.name.previous-token": {"the previous token", "前一个 token "},
	"role.name.first-token":    {"the first token in the window", "窗口中第一个 token "},
	"role.name.self":           {"its own token", "自己"},
	"head.score":               {"layer %[1]d, head %[2]d (%[3]s%%)", "第 %[1]d 层第 %[2]d 个头（%[3]s%%）"},
	"list.sep":                 {", ", "、"},
	"list.more":                {" and %d more", "，另有 %d 个"},
	"attn.dist": {`**How far back do heads read?** Averaged over heads, %[1]s%% of the attention goes beyond the previous %[2]d tokens. Layer %[3]d, head %[4]d reads farthest: %[5]s tokens back on average, and in some row at least %[7]s%% of its attention went to tokens %[6]d or more positions back.`,
		`**注意力头往回看多远？** 对所有头取平均，有 %[1]s%% 的注意力落在前 %[2]d 个 token 之外。看得最远的是第 %[3]d 层第 %[4]d 个头：平均往回 %[5]s 个 token，而且在某一行里，它至少把 %[7]s%% 的注意力分给了 %[6]d 个或更多位置之前的 token。`},
	"attn.dist.sink": {`Much of that distance is one place, though: this head puts %s%% of its attention on the oldest token in the window (a first-token head), so it mostly parks attention there rather than reading far-away content.`,
		`不过这段距离大多来自同一个位置：这个头把 %s%% 的注意力放在窗口里最早的 token 上（首 token 头），所以它主要是把注意力停放在那里，而不是在读远处的内容。`},
	"attn.dist.table": {"The table has every head.", "下表列出了每个头。"},
	"heads.caption":   {"What each head reads (shares averaged over the rows of at least %d keys)", "每个头读什么（只对至少有 %d 个键的行取平均）"},
	"col.head":        {"head", "头"},
	"col.prev":        {"previous token", "前一个 token"},
	"col.first":       {"first token", "第一个 token"},
	"col.self":        {"itself", "自己"},
	"col.induction":   {"induction", "归纳"},
	"col.beyond":      {"beyond the last %d", "前 %d 个之外"},
	"col.meandist":    {"mean distance (tokens)", "平均距离（token）"},
	"col.farthest":    {"reads as far back as (tokens)", "最远往回读到（token）"},
	"attn.new.recompute": {`(In this run %[1]s recomputed the whole window after an eviction and computed every row again; the chart shows the new token's row of those too.)`,
		`（本次运行中有 %[1]s在挤出 token 之后重算了整个窗口，把每一行都重新计算了一遍；图中显示的同样是其中新 token 的那一行。）`},
	"attn.new": {`A decode step that reads the KV cache computes only one new query row: the new token reads everything in working memory. Here is that row for layer %[1]d, head %[2]d at every step (the HTML page's chart steps through them with a slider, beside the mean of all heads in that layer).`,
		`读取 KV 缓存的解码步只计算一行新的查询：新 token 读取工作记忆里的全部内容。下面是第 %[1]d 层、第 %[2]d 个头在每一步的这一行（HTML 页面上的图用滑块逐步展示，并与该层所有头的平均值对比）。`},
	"attn.none": {"Attention was not recorded in this trace.", "这份记录里没有注意力数据。"},

	// 6. KV cache
	"kv.h": {"## 6. The KV cache: working memory itself", "## 6. KV 缓存：工作记忆本身"},
	"kv.md": {`A token's key and value depend only on the token, its position and the tokens before it, so the model computes them once and keeps them: the **KV cache**. ` +
		`A decode step then only computes the new token's query, key and value and reads the rest from the cache. ` +
		`The cache takes **bytes = 2 × n_layer × positions × n_embd × 4** ` +
		`(keys and values, every layer, every cached position, n_embd float32 numbers of 4 bytes each). ` +
		`At the end of this run: %[1]s. Each of the %[2]d layers holds %[3]d positions.`,
		`一个 token 的键和值只取决于这个 token、它的位置以及它前面的 token，所以模型只算一次就存起来，这就是 **KV 缓存**。之后每个解码步只需计算新 token 的查询、键和值，其余的从缓存中读取。` +
			`缓存的大小是：**字节数 = 2 × n_layer × 位置数 × n_embd × 4**` +
			`（键和值各一份，每一层、每个缓存位置各存 n_embd 个 float32 数，每个 4 字节）。` +
			`本次运行结束时：%[1]s。%[2]d 层中每一层都存有 %[3]d 个位置。`},
	"kv.kept": {`In this run no token left the window, so no key or value in the cache ever changed: the cache grew by one position per decode step.`,
		`本次运行中没有 token 离开窗口，所以缓存里的键和值从未改变：每个解码步，缓存只增加一个位置。`},
	"kv.rewritten": {`In this run the window filled up, so cached keys and values **did** change: %[1]s recomputed the whole window (the first at step %[2]d) and wrote every cached key and value again, because each remaining token moved to an earlier position.`,
		`本次运行中窗口被占满了，所以缓存里的键和值**确实**变了：共有 %[1]s重算了整个窗口（第一次在第 %[2]d 步），重新写入了所有缓存的键和值，因为留下来的每个 token 都挪到了更靠前的位置。`},
	"kv.dropped": {`The prompt was longer than the window: its first %[1]s never reached the cache. After that, no key or value in the cache changed.`,
		`提示词比窗口还长：它最前面的 %[1]s从未进入缓存。此后缓存里的键和值再没有改变。`},
	"kv.check.fail": {`**Check: cached decoding = full recompute — failed.** Running the whole sequence again from scratch gives logits up to max |Δlogit| = **%[1]s** away from the step-by-step decoding with the cache, more than float32 rounding explains (≤ %[2]s): the cache changed the result.`,
		`**校验：用缓存解码 = 从头完整重算——未通过。** 把整段序列从头重新计算一遍，得到的 logits 与借助缓存逐步解码的结果最多相差 max |Δlogit| = **%[1]s**，超出了 float32 舍入误差能解释的范围（≤ %[2]s）：缓存改变了结果。`},
	"kv.check": {`**Check: cached decoding = full recompute.** Running the whole sequence again from scratch gives the same logits as the step-by-step decoding with the cache, up to max |Δlogit| = **%s** (float32 rounding).`,
		`**校验：用缓存解码 = 从头完整重算。** 把整段序列从头重新计算一遍，得到的 logits 与借助缓存逐步解码的结果一致，最大差值 max |Δlogit| = **%s**（float32 舍入误差）。`},
	"kv.nocheck": {"The cached-vs-recompute check was not measured in this run (no decode steps).", "本次运行没有测量“缓存 vs 重算”校验（没有解码步）。"},
	"kv.evict": {`When the window of %[2]d positions is full, the oldest tokens are **evicted**: they leave the cache and the model can no longer attend to them. This run evicted %[1]s.`,
		`当 %[2]d 个位置的窗口被占满时，最早的 token 会被**挤出**：它们离开缓存，模型再也无法关注到它们。本次运行共挤出了 %[1]s。`},
	"kv.heat": {`What the cache holds for **layer %[1]d, head %[2]d**: one row per cached position, one column per dimension of the head (d_head). Red is positive, blue negative. These numbers *are* the working memory that later tokens query.`,
		`**第 %[1]d 层、第 %[2]d 个头**的缓存内容：每个缓存位置一行，注意力头的每个维度（d_head）一列。红色为正，蓝色为负。这些数字*就是*后面的 token 要查询的工作记忆。`},
	"kv.notrec":  {"The cache contents of this layer were not recorded; the trace has layers %s.", "这份记录没有保存该层的缓存内容；记录中有的层是 %s。"},
	"kv.caption": {"Evicted tokens", "被挤出的 token"},
	"kv.layers":  {"How many positions each of the %d layers caches after every step (step 0 is the prefill).", "每一步之后 %d 层中每一层缓存的位置数（第 0 步是预填充）。"},
	"kv.layers.same": {"Here every layer holds the same number at every step: each layer keeps one key and one value per token in the window.",
		"这里每一步每一层的数目都相同：每一层都为窗口中的每个 token 保存一个键和一个值。"},
	"kv.time.md": {`The cache **over time**, for layer %[1]d, head %[2]d: on the HTML page, drag the slider to see what the cache held after each step, keys on the left, values on the right (a notebook's figure shows instead the norm of every cached key, step by step). The narrow column left of the keys marks what that step wrote: at the prefill every prompt row in the window; on a decode step only the new token's row, while the rows already there stay exactly as they were.`,
		`**随时间变化**的缓存（第 %[1]d 层，第 %[2]d 个头）：在 HTML 页面上拖动滑块查看每一步之后缓存里的内容，左边是键，右边是值（笔记本里的图则逐步显示每个已缓存键的范数）。键左边的窄列标出这一步写入的行：预填充时写入窗口中提示词的每一行；解码步只写入新 token 的那一行，已有的行保持原样。`},
	"kv.time.end":        {"At the end the cache holds %[1]s, positions %[2]d–%[3]d.", "运行结束时缓存中有 %[1]s，即位置 %[2]d–%[3]d。"},
	"kv.time.evicted":    {"%[1]d tokens (positions %[2]d–%[3]d) left it: grey in that column.", "有 %[1]d 个 token（位置 %[2]d–%[3]d）离开了缓存：即那一列中的灰色。"},
	"kv.time.evicted1":   {"One token (position %d) left it: grey in that column.", "有 1 个 token（位置 %d）离开了缓存：即那一列中的灰色。"},
	"kv.time.recompute1": {"At step %d the window was recomputed: every cached row was written again.", "第 %d 步重算了整个窗口：每个缓存的行都被重新写入。"},
	"kv.time.recompute":  {"%[1]d steps recomputed the window, from step %[2]d to step %[3]d: at each, every cached row was written again.", "共有 %[1]d 步重算了整个窗口（从第 %[2]d 步到第 %[3]d 步）：每一次都会重新写入所有缓存的行。"},
	"kv.time.why": {"After an eviction every token left in the window sits at an earlier position, so its position embedding, and with it its key and value, change: the old rows no longer fit.",
		"每次挤出之后，窗口中剩下的每个 token 都挪到了更靠前的位置，它的位置嵌入随之改变，键和值也跟着改变：旧的行不再适用。"},
	"kv.time.none": {"This trace does not record what each step wrote into the cache (it was recorded by an older gptviz), so the cache cannot be shown step by step.",
		"这份记录没有保存每一步写入缓存的内容（由较早版本的 gptviz 记录），所以无法逐步展示缓存。"},

	// 7. Logit lens
	"lens.h": {"## 7. Logit lens: intermediate results", "## 7. Logit lens：中间结果"},
	"lens.md": {`The **residual stream** is the running vector each layer reads from and adds to. The **logit lens** reads it out *early*: after each layer, ` +
		`apply the final layer norm and the output head as if the model stopped there, and look at the top token. ` +
		`Watch how the guess sharpens (darker) and changes as the layers add information.`,
		`**残差流**是一条贯穿各层的向量，每一层都从中读取、再往里添加。**Logit lens** 就是*提前*把它读出来：在每一层之后，` +
			`假装模型到此为止，套上最后的层归一化和输出头，看排第一的 token 是什么。观察随着层数增加，猜测如何变得更确定（颜色更深）、又如何改变。`},
	"lens.settle": {`**Where the guess settles.** At the last position (%[1]d) the top token stops changing at layer %[2]d (the layers are numbered 0–%[3]d); over the %[4]s recorded, at least half had settled by layer %[5]d: %[6]d at layer 0 already, %[7]d only at the last layer.`,
		`**猜测在哪一层定下来。** 在最后一个位置（%[1]d），从第 %[2]d 层起排第一的 token 就不再变化（各层编号 0–%[3]d）；在记录下来的 %[4]s中，至少一半在第 %[5]d 层或更早就已定下：有 %[6]d 个在第 0 层就已定下，有 %[7]d 个直到最后一层才定下。`},
	"lens.cost": {"**What the lens costs.** Each reading passes one row of the residual stream through `ln_f` and the whole output head (%[1]s × %[2]d multiply-adds). This run read the lens out at %[3]s, after each of %[4]d layers (%[5]s readings); that took %[6]s ms of the %[7]s ms those steps took (%[8]s%%).",
		"**Logit lens 的代价。** 每读出一次，就要把残差流的一行送过 `ln_f` 和整个输出头（%[1]s × %[2]d 次乘加）。这次运行在 %[3]s上读出 logit lens，每个位置读 %[4]d 层（共 %[5]s 次读出），用时 %[6]s 毫秒，占这些步骤 %[7]s 毫秒的 %[8]s%%。"},
	"lens.cut": {" To bound that cost, the prefill's %[1]d positions were read out at the last %[2]d only.",
		"为了控制代价，预填充的 %[1]d 个位置只读出了最后 %[2]d 个。"},
	"lens.caption": {"Top token after each layer, last %s", "每层之后排第一的 token（最后 %s）"},
	"value.off":    {"%s (off)", "%s（关闭）"},
	"col.layer":    {"layer", "层"},

	// 8. Residual stream
	"resid.h": {"## 8. Residual stream", "## 8. 残差流"},
	"resid.md": {`The size (L2 norm) of the residual stream after the embeddings and after each layer. It usually grows with depth as layers add their contributions.`,
		`残差流在词嵌入之后、以及每一层之后的大小（L2 范数）。它通常随层数加深而变大，因为每一层都往里加东西。`},
	"resid.sink": {`Here the first position's stream is outsized: after layer %[1]d its norm is %[2]s, %[3]s× the median of the other positions (%[4]s). GPT-2 shows the same quirk, and its heads that park attention on the first token read it.`,
		`这里第一个位置的残差流格外大：在第 %[1]d 层之后，它的范数是 %[2]s，是其他位置中位数（%[4]s）的 %[3]s 倍。GPT-2 也有这个特点，那些把注意力“停放”在第一个 token 上的头读的就是它。`},

	// 9. Sanity checks
	"checks.h": {"## 9. Sanity checks", "## 9. 合理性校验"},
	"checks.md": {`Measured on this very run: are attention rows probability distributions, is the future truly hidden, does the cache change nothing but speed, and is temperature → 0 greedy decoding?`,
		`这些校验都是在本次运行上实测的：注意力的每一行是不是概率分布？未来是不是真的被遮住了？缓存是不是只改变速度而不改变结果？温度趋于 0 是不是就是贪心解码？`},
	"checks.ok": {`Every check that was measured passed. They test these properties of the computation, not every chart.`,
		`所有测量了的校验都通过了。它们检验的是计算的这些性质，而不是每一张图。`},
	"checks.failed": {`**%s failed** (✗ below): the pictures above may not show what the model computed.`,
		`**有 %s未通过**（下表中的 ✗）：上面的图可能没有如实反映模型的计算。`},
	"col.check":      {"check", "校验项"},
	"col.measured":   {"measured", "实测值"},
	"col.expected":   {"expected", "期望"},
	"col.result":     {"result", "结果"},
	"check.row-sums": {"attention rows sum to 1: max |Σ_k p − 1|", "注意力每行之和为 1：max |Σ_k p − 1|"},
	"check.causal":   {"causal mask: largest attention on a future token", "因果掩码：分给未来 token 的最大注意力"},
	"check.cache":    {"cached decoding = full recompute: max |Δlogit|", "缓存解码 = 完整重算：max |Δlogit|"},
	"check.greedy":   {"temperature → 0 picks the most likely token", "温度 → 0 时选中概率最大的 token"},
	"pass":           {"✓ pass", "✓ 通过"},
	"fail":           {"✗ fail", "✗ 未通过"},
	"notmeasured":    {"not measured", "未测量"},
	"yes":            {"yes", "是"},
	"no":             {"no", "否"},

	// Comments in the code cells.
	"c.scores":    {"tr.Scores: P(w_i | w_<i) of each prompt token under teacher forcing (recorded by model.Run)", "tr.Scores：教师强制下每个提示词 token 的 P(w_i | w_<i)（由 model.Run 记录）"},
	"c.slider":    {"one slider position per decode step", "每个解码步对应滑块上的一个位置"},
	"c.lines":     {"entropy and P(chosen) over the steps", "各步的熵与被选中 token 的概率"},
	"c.layerhead": {"layer %[1]d, head %[2]d", "第 %[1]d 层，第 %[2]d 个头"},
	"c.perlayer":  {"one chart per layer", "每层一张图"},
	"c.kvsize":    {"bytes after every step", "每一步之后的字节数"},
	"c.kvlayers":  {"cached positions of every layer after every step", "每一步之后每一层缓存的位置数"},
	"c.kvtime":    {"the focus head's cache after each step, with a slider", "焦点头在每一步之后的缓存，带滑块"},
	"c.kvcache":   {"keys and values of layer %[1]d, head %[2]d", "第 %[1]d 层、第 %[2]d 个头的键和值"},
	"c.lens":      {"tr.Steps[i].LogitLens[layer][query]: the top token read out early", "tr.Steps[i].LogitLens[layer][query]：提前读出的第一名 token"},
	"c.resid":     {"tr.Steps[i].ResidualNorm[layer][query]: L2 norms", "tr.Steps[i].ResidualNorm[layer][query]：L2 范数"},
	"c.checks":    {"measured by model.Run on this very run", "由 model.Run 在本次运行中实测"},

	// Chart captions (the title above each chart).
	"cap.prompt-probs":  {"P(w_i | w_<i) and surprisal for each prompt token", "每个提示词 token 的 P(w_i | w_<i) 与信息量"},
	"cap.next-token":    {"Next-token probabilities at each step", "每一步的下一个 token 概率"},
	"cap.next-entropy":  {"Entropy and the chosen token's probability over the steps", "各步的熵与被选中 token 的概率"},
	"cap.attn":          {"Attention, layer %[1]d, head %[2]d", "注意力：第 %[1]d 层，第 %[2]d 个头"},
	"cap.attn-grid":     {"Attention, layer %[1]d, %[2]s (model view)", "注意力：第 %[1]d 层，%[2]s（全模型视图）"},
	"cap.attn-new":      {"How each new token reads working memory, layer %[1]d, head %[2]d", "每个新 token 如何读取工作记忆：第 %[1]d 层，第 %[2]d 个头"},
	"cap.kv-bytes":      {"KV cache size after each step", "每一步之后的 KV 缓存大小"},
	"cap.kv-layers":     {"Cached positions per layer after each step", "每一步之后每层缓存的位置数"},
	"cap.kv-time":       {"The KV cache over time, layer %[1]d, head %[2]d", "KV 缓存随时间的变化：第 %[1]d 层，第 %[2]d 个头"},
	"cap.kv":            {"KV cache contents, layer %[1]d, head %[2]d: keys and values", "KV 缓存内容：第 %[1]d 层，第 %[2]d 个头的键与值"},
	"cap.logit-lens":    {"Logit lens: the top token after each layer", "Logit lens：每层之后排第一的 token"},
	"cap.residual-norm": {"Residual stream norm at each layer and position", "各层、各位置的残差流范数"},
	"heads.all":         {"heads %[1]d–%[2]d", "第 %[1]d–%[2]d 个头"},
	"heads.some":        {"heads %s", "第 %s 个头"},
	"heads.one":         {"head %d", "第 %d 个头"},
}
