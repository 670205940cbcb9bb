package train

// Limits on the checkpoint files that are read whole, in bytes. A file over
// its limit is refused (*inputfile.Error wrapping inputfile.ErrTooLarge)
// before it is read; config.json, vocab.json and merges.txt use
// arch.MaxConfigBytes, bpe.MaxVocabBytes and bpe.MaxMergesBytes.
const (
	// MaxStateBytes bounds train_state.json (StateFile): the run's options
	// and step, under 1 KiB as Run writes it.
	MaxStateBytes = 1 << 20
	// MaxCurveBytes bounds loss.csv (CurveFile): one row of at most about
	// 130 bytes per step, so 256 MiB holds about two million steps.
	MaxCurveBytes = 256 << 20
)
