package lessons

// The runs of lessons 1, 2, 3, 5, 8, 9 and 12. Prompts are in the English
// of Newton's Opticks (one of the default model's training texts), so that its
// predictions are meaningful; on other models they are ordinary English.
func init() {
	// A short greedy continuation: the working-memory, architecture,
	// logit-lens and FAQ lessons all look at it.
	registerRun(RunSpec{Name: "light", Prompt: "The Rays of Light are", Steps: 12, Temperature: 0, TopP: 1, Seed: 1})
	// Tokens: the same idea in English and in Chinese (the blog's own
	// wording), read only (no steps).
	registerRun(RunSpec{Name: "tokens-en", Prompt: "GPT keeps its working memory like a computer keeps RAM.", TopP: 1, Temperature: 1, Seed: 1})
	registerRun(RunSpec{Name: "tokens-zh", Prompt: "GPT的工作记忆就像计算机的内存。", TopP: 1, Temperature: 1, Seed: 1})
	// The chain rule: a prompt and a continuation scored token by token.
	registerRun(RunSpec{Name: "chain", Prompt: "The Light of the Sun", Continuation: " is refracted by the Prism.", TopP: 1, Temperature: 1, Seed: 1})
	// Sampling: temperature, top-k and top-p all on.
	registerRun(RunSpec{Name: "sample", Prompt: "The Rays of Light are", Steps: 16, Temperature: 0.8, TopK: 20, TopP: 0.9, Seed: 7})
}
