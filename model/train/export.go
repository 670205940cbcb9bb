package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/bpe"
	"github.com/gptviz/gptviz/model/safetensors"
)

// exportCopied are the files Export copies unchanged when present, with the
// most bytes it reads of each.
var exportCopied = []struct {
	name  string
	limit int64
}{
	{arch.VocabFile, bpe.MaxVocabBytes},
	{arch.MergesFile, bpe.MaxMergesBytes},
	{CurveFile, MaxCurveBytes},
	{StateFile, MaxStateBytes},
}

// Export copies the model of checkpoint folder src into dst with its
// weights stored as dtype (e.g. F16 to halve the size of a shipped model):
// model.safetensors is rewritten, config.json gets the matching torch_dtype,
// and vocab.json, merges.txt, loss.csv and train_state.json (the run's
// options) are copied when present. The optimizer moments are not copied.
// Files are written atomically; errors name the file. Every file of src is
// read through internal/inputfile: a named pipe, a device or a folder there
// is refused (inputfile.ErrNotRegular) without blocking, and a file over its
// limit (safetensors.MaxFileBytes, arch.MaxConfigBytes, bpe.MaxVocabBytes,
// bpe.MaxMergesBytes, MaxCurveBytes, MaxStateBytes) with
// inputfile.ErrTooLarge.
func Export(src, dst string, dtype safetensors.DType) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	ts, meta, err := safetensors.ReadAll(filepath.Join(src, arch.WeightsFile))
	if err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	for i := range ts {
		ts[i].DType = dtype
	}
	if err := safetensors.Write(filepath.Join(dst, arch.WeightsFile), ts, meta); err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	cfgPath := filepath.Join(src, arch.ConfigFile)
	b, err := inputfile.ReadFile(cfgPath, arch.MaxConfigBytes)
	if err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("train: export: %s: %w", cfgPath, err)
	}
	cfg["torch_dtype"] = map[safetensors.DType]string{safetensors.F32: "float32", safetensors.F16: "float16", safetensors.BF16: "bfloat16"}[dtype]
	out, _ := json.MarshalIndent(cfg, "", "  ")
	if err := atomicfile.WriteBytes(filepath.Join(dst, arch.ConfigFile), append(out, '\n')); err != nil {
		return err
	}
	for _, f := range exportCopied {
		b, err := inputfile.ReadFile(filepath.Join(src, f.name), f.limit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("train: export: %w", err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dst, f.name), b); err != nil {
			return err
		}
	}
	return nil
}
