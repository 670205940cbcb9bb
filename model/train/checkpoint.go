package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/safetensors"
)

// The files of a checkpoint folder beside Hugging Face's GPT-2 layout
// (arch.ConfigFile, arch.WeightsFile, arch.VocabFile, arch.MergesFile):
// OptimizerFile and StateFile are only needed to resume training; CurveFile
// is the loss curve; ManifestFile makes the set one checkpoint.
const (
	OptimizerFile = "optimizer.safetensors"
	StateFile     = "train_state.json"
	CurveFile     = "loss.csv"
)

// hfConfig is config.json as transformers' GPT2Config writes it, with
// dropout off and a tied head.
type hfConfig struct {
	Architectures       []string `json:"architectures"`
	ModelType           string   `json:"model_type"`
	VocabSize           int      `json:"vocab_size"`
	NPositions          int      `json:"n_positions"`
	NCtx                int      `json:"n_ctx"`
	NEmbd               int      `json:"n_embd"`
	NLayer              int      `json:"n_layer"`
	NHead               int      `json:"n_head"`
	NInner              int      `json:"n_inner"`
	ActivationFunction  string   `json:"activation_function"`
	LayerNormEpsilon    float64  `json:"layer_norm_epsilon"`
	InitializerRange    float64  `json:"initializer_range"`
	ResidPdrop          float64  `json:"resid_pdrop"`
	EmbdPdrop           float64  `json:"embd_pdrop"`
	AttnPdrop           float64  `json:"attn_pdrop"`
	BOSTokenID          int      `json:"bos_token_id"`
	EOSTokenID          int      `json:"eos_token_id"`
	TieWordEmbeddings   bool     `json:"tie_word_embeddings"`
	ScaleAttnWeights    bool     `json:"scale_attn_weights"`
	TorchDtype          string   `json:"torch_dtype"`
	GeneratedBy         string   `json:"gptviz_generated_by"`
	GptvizTrainedSteps  int      `json:"gptviz_trained_steps"`
	GptvizTrainedTokens int64    `json:"gptviz_trained_tokens"`
}

// ConfigJSON returns config.json for c in transformers' GPT2Config format,
// noting the steps and tokens trained.
//
// dropout is recorded as resid_pdrop and embd_pdrop (training only;
// inference ignores it).
func ConfigJSON(c arch.Config, dtype safetensors.DType, steps int, tokens int64, dropout float64) []byte {
	td := "float32"
	if dtype == safetensors.F16 {
		td = "float16"
	}
	b, _ := json.MarshalIndent(hfConfig{
		Architectures: []string{"GPT2LMHeadModel"}, ModelType: "gpt2",
		VocabSize: c.VocabSize, NPositions: c.NPositions, NCtx: c.NPositions, NEmbd: c.NEmbd,
		NLayer: c.NLayer, NHead: c.NHead, NInner: c.NInner, ActivationFunction: c.Activation,
		LayerNormEpsilon: c.LayerNormEpsilon, InitializerRange: 0.02, ResidPdrop: dropout, EmbdPdrop: dropout,
		BOSTokenID: c.BOSTokenID, EOSTokenID: c.EOSTokenID, TieWordEmbeddings: true,
		ScaleAttnWeights: true, TorchDtype: td, GeneratedBy: "gptviz train",
		GptvizTrainedSteps: steps, GptvizTrainedTokens: tokens,
	}, "", "  ")
	return append(b, '\n')
}

// State is train_state.json: what Resume needs besides the weights and the
// optimizer moments, and what the run was asked to do (evaluation period,
// snapshot plan, corpus), so that a resumed run continues the same run.
// EvalEvery, Snapshots and Corpus are absent (zero, nil) in the state of a
// checkpoint written by an older gptviz; such a state still reads.
type State struct {
	Options  Options `json:"options"`
	Step     int     `json:"step"`
	Tokens   int64   `json:"tokens_seen"`
	ElapsedS float64 `json:"elapsed_s"` // training wall time so far, seconds
	// EvalEvery is RunOptions.EvalEvery as given: 0 means Steps/20.
	EvalEvery int `json:"eval_every"`
	// Snapshots are the planned snapshot steps (RunOptions.Snapshots),
	// ascending and distinct, each in [0, Options.Steps].
	Snapshots []int `json:"snapshots,omitempty"`
	// Corpus describes the text the token streams came from; nil when the
	// caller gave none or the checkpoint predates the record.
	Corpus *Corpus `json:"corpus,omitempty"`
	// Phases are the dropout and repeat fractions of each part of a run
	// resumed with other values (ResumeWith); empty while unchanged. The
	// last phase's values are Options'.
	Phases []Phase `json:"phases,omitempty"`
}

// Corpus identifies the text a run trains on, so that a resumed run can
// check that it reads the same text split the same way.
type Corpus struct {
	Name      string `json:"name"`       // as the caller named it (a path, or a built-in corpus's name)
	SHA256    string `json:"sha256"`     // lower-case hex SHA-256 of the bytes read
	SplitSeed uint64 `json:"split_seed"` // seed of the train/validation split
}

// SaveWeights writes config.json and model.safetensors (tensors named as in
// GPT-2, Conv1D [in, out], stored as dtype: F32, F16 or BF16) into dir,
// creating it. Files are written atomically.
func (t *Trainer) SaveWeights(dir string, dtype safetensors.DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: save: %w", err)
	}
	var ts []safetensors.Tensor
	for _, ti := range t.tensors {
		ts = append(ts, safetensors.Tensor{Name: ti.Name, DType: dtype, Shape: ti.Shape, Data: t.Params[ti.Off : ti.Off+ti.Size]})
	}
	if err := safetensors.Write(filepath.Join(dir, arch.WeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("train: save: %w", err)
	}
	return atomicfile.WriteBytes(filepath.Join(dir, arch.ConfigFile), ConfigJSON(t.Opts.Config, dtype, t.Step, int64(t.Step)*int64(t.TokensPerStep()), t.Opts.Dropout))
}

// writeOptimizer writes optimizer.safetensors into dir: the AdamW moments
// (F32, [n] each) with the step and AdamW's update count as metadata.
func (t *Trainer) writeOptimizer(dir string) error {
	meta := map[string]string{"step": strconv.Itoa(t.Step), "adam_t": strconv.Itoa(t.opt.t)}
	n := len(t.Params)
	if err := safetensors.Write(filepath.Join(dir, OptimizerFile), []safetensors.Tensor{
		{Name: "adamw.m", DType: safetensors.F32, Shape: []int{n}, Data: t.opt.m},
		{Name: "adamw.v", DType: safetensors.F32, Shape: []int{n}, Data: t.opt.v},
	}, meta); err != nil {
		return fmt.Errorf("train: save optimizer: %w", err)
	}
	return nil
}

// writeState writes train_state.json into dir, with the run's evaluation
// period, snapshot plan, corpus and phases from ro.
func (t *Trainer) writeState(dir string, elapsed float64, ro RunOptions) error {
	snaps := slices.Clone(ro.Snapshots)
	slices.Sort(snaps)
	b, _ := json.MarshalIndent(State{Options: t.Opts, Step: t.Step, Tokens: int64(t.Step) * int64(t.TokensPerStep()), ElapsedS: elapsed,
		EvalEvery: ro.EvalEvery, Snapshots: slices.Compact(snaps), Corpus: ro.Corpus, Phases: ro.Phases}, "", "  ")
	return atomicfile.WriteBytes(filepath.Join(dir, StateFile), append(b, '\n'))
}
