package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
)

// A checkpoint is one unit: the files of a step (config.json,
// model.safetensors, the tokenizer, optimizer.safetensors,
// train_state.json, loss.csv) and ManifestFile, which names each of them
// with its size and SHA-256 and is the last to arrive. It is written in
// three stages, so that a kill (SIGKILL, power loss) or a full disk at any
// moment leaves either the previous checkpoint or the new one, never a mix:
//
//  1. every file, then the manifest, is written and synced into the folder
//     stagingDir inside the checkpoint folder (a crash here leaves the
//     previous checkpoint untouched; the staging folder is deleted later);
//  2. stagingDir is renamed to commitDir: this rename is the commit point;
//  3. each file is renamed from commitDir into the checkpoint folder, the
//     manifest last, and commitDir is removed. A crash here is rolled
//     forward by the next Verify (or save), which finishes the renames.
//
// The checkpoint folder itself stays a Hugging Face GPT-2 folder
// (config.json, model.safetensors, vocab.json, merges.txt at its root).
const (
	ManifestFile = "checkpoint.json"

	stagingDir = ".checkpoint-staging"
	commitDir  = ".checkpoint-commit"

	manifestFormat = "gptviz-checkpoint/1"
	// maxManifestBytes bounds the read of checkpoint.json and of
	// train_state.json: a few hundred bytes each when written by Run.
	maxManifestBytes = 1 << 20
)

// ErrNoCheckpoint reports a folder that holds no checkpoint to resume (no
// checkpoint.json and no train_state.json); test with errors.Is.
var ErrNoCheckpoint = errors.New("train: no checkpoint")

// CheckpointError reports a checkpoint that cannot be resumed because one
// of its files is missing, damaged, or from another step than the rest.
type CheckpointError struct {
	File    string // path of the file at fault
	Problem string // what is wrong, in words
}

func (e *CheckpointError) Error() string { return fmt.Sprintf("checkpoint %s: %s", e.File, e.Problem) }

func checkpointErr(file, format string, args ...any) error {
	return &CheckpointError{File: file, Problem: fmt.Sprintf(format, args...)}
}

// Manifest is checkpoint.json: the step of a checkpoint and its files.
type Manifest struct {
	Format string           `json:"format"` // manifestFormat
	Step   int              `json:"step"`   // optimizer steps done at the checkpoint
	Files  []CheckpointFile `json:"files"`
}

// CheckpointFile is one file of a checkpoint, as the manifest lists it.
type CheckpointFile struct {
	Name   string `json:"name"`   // plain file name inside the checkpoint folder
	Bytes  int64  `json:"bytes"`  // size
	SHA256 string `json:"sha256"` // lower-case hex
}

// requiredFiles are the files a resumable checkpoint must list.
var requiredFiles = []string{arch.ConfigFile, arch.WeightsFile, OptimizerFile, StateFile, CurveFile}

// hook is called at each stage of writing a checkpoint (after each file,
// the manifest, the commit rename and each install rename) with the name of
// the stage; an error stops the save there as a failing disk would. Tests
// set one (RunOptions.hook) to fail or to "kill" at every stage.
type hook func(stage string) error

func (h hook) at(stage string) error {
	if h == nil {
		return nil
	}
	return h(stage)
}

// saveCheckpoint writes a checkpoint of the given step into dir as one
// unit: write puts the files into the staging folder it is given, then the
// manifest is added and the set committed (see ManifestFile). An earlier
// interrupted save is finished or dropped first. On an error before the
// commit the staging folder is removed and dir keeps its previous
// checkpoint; on an error after it the next Verify finishes the install.
func saveCheckpoint(dir string, step int, h hook, write func(stage string) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	if err := recoverCheckpoint(dir); err != nil {
		return err
	}
	stage := filepath.Join(dir, stagingDir)
	if err := os.Mkdir(stage, 0o755); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	if err := stageCheckpoint(stage, step, h, write); err != nil {
		os.RemoveAll(stage)
		return err
	}
	commit := filepath.Join(dir, commitDir)
	if err := os.Rename(stage, commit); err != nil {
		os.RemoveAll(stage)
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	syncDir(dir)
	if err := h.at("commit"); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	return installCheckpoint(dir, h)
}

// stageCheckpoint fills the staging folder: the files, then the manifest.
func stageCheckpoint(stage string, step int, h hook, write func(stage string) error) error {
	if err := write(stage); err != nil {
		return err
	}
	m := Manifest{Format: manifestFormat, Step: step}
	ents, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") { // an atomicfile temporary left by a failed write
			continue
		}
		f, err := hashFile(filepath.Join(stage, e.Name()))
		if err != nil {
			return fmt.Errorf("train: save checkpoint: %w", err)
		}
		m.Files = append(m.Files, f)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := atomicfile.WriteBytes(filepath.Join(stage, ManifestFile), append(b, '\n')); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	syncDir(stage)
	if err := h.at(ManifestFile); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	return nil
}

// installCheckpoint moves a committed checkpoint from commitDir into dir:
// the files its manifest lists (those not moved yet), then the manifest,
// then removes commitDir.
func installCheckpoint(dir string, h hook) error {
	commit := filepath.Join(dir, commitDir)
	mpath := filepath.Join(commit, ManifestFile)
	m, err := readManifest(mpath)
	if err != nil {
		return fmt.Errorf("train: install checkpoint: %w", err)
	}
	for _, f := range m.Files {
		src := filepath.Join(commit, f.Name)
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue // moved before an interruption
		}
		if err := os.Rename(src, filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("train: install checkpoint: %w", err)
		}
		if err := h.at("install " + f.Name); err != nil {
			return fmt.Errorf("train: install checkpoint: %w", err)
		}
	}
	if err := os.Rename(mpath, filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("train: install checkpoint: %w", err)
	}
	syncDir(dir)
	if err := h.at("install " + ManifestFile); err != nil {
		return fmt.Errorf("train: install checkpoint: %w", err)
	}
	if err := os.RemoveAll(commit); err != nil {
		return fmt.Errorf("train: install checkpoint: %w", err)
	}
	return nil
}

// recoverCheckpoint brings dir back to one complete checkpoint after an
// interrupted save: a committed set is installed (rolled forward), a staged
// one dropped, and temporary files of interrupted writes (atomicfile's
// ".NAME.tmp-*", snapshot folders being written) removed.
func recoverCheckpoint(dir string) error {
	commit := filepath.Join(dir, commitDir)
	switch _, err := os.Lstat(filepath.Join(commit, ManifestFile)); {
	case err == nil:
		if err := installCheckpoint(dir, nil); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		// No commit, or one whose manifest was already installed: its
		// folder is empty or gone.
		if err := os.RemoveAll(commit); err != nil {
			return fmt.Errorf("train: recover checkpoint: %w", err)
		}
	default:
		return fmt.Errorf("train: recover checkpoint: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, stagingDir)); err != nil {
		return fmt.Errorf("train: recover checkpoint: %w", err)
	}
	removeTemporaries(dir)
	recoverSnapshots(filepath.Join(dir, snapshotsDir))
	return nil
}

// removeTemporaries deletes atomicfile's temporary files (".NAME.tmp-*")
// left in dir by a killed write.
func removeTemporaries(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// Verify checks that dir holds one complete checkpoint and returns its
// manifest. An interrupted save is finished or dropped first (see
// ManifestFile), so Verify may change dir. It returns ErrNoCheckpoint when
// dir holds no checkpoint at all, and a *CheckpointError naming the file
// for a folder without a manifest (written by an older gptviz), a damaged
// manifest, or a listed file that is missing or whose size or SHA-256
// differs from the manifest: a mixed or damaged checkpoint.
func Verify(dir string) (*Manifest, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w in %s: not a folder", ErrNoCheckpoint, dir)
	}
	if err := recoverCheckpoint(dir); err != nil {
		return nil, err
	}
	mpath := filepath.Join(dir, ManifestFile)
	m, err := readManifest(mpath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, StateFile)); serr == nil {
			return nil, checkpointErr(mpath, "missing: the checkpoint was written by an older gptviz and cannot be verified as one step")
		}
		return nil, fmt.Errorf("%w in %s (no %s)", ErrNoCheckpoint, dir, ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		path := filepath.Join(dir, f.Name)
		got, err := hashFile(path)
		if err != nil {
			return nil, checkpointErr(path, "listed in %s (step %d) but unreadable: %v", ManifestFile, m.Step, err)
		}
		if got.Bytes != f.Bytes || got.SHA256 != f.SHA256 {
			return nil, checkpointErr(path, "does not match %s (step %d): %d bytes with SHA-256 %.12s…, recorded %d bytes with %.12s…; the checkpoint is mixed or damaged",
				ManifestFile, m.Step, got.Bytes, got.SHA256, f.Bytes, f.SHA256)
		}
	}
	return m, nil
}

// readManifest reads and checks checkpoint.json: known format, step ≥ 0,
// plain distinct file names, sizes and hashes well formed, and every
// required file listed. Errors are *CheckpointError naming path, or wrap
// fs.ErrNotExist.
func readManifest(path string) (*Manifest, error) {
	b, err := readBounded(path, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, checkpointErr(path, "%v", err)
	}
	if dec.More() {
		return nil, checkpointErr(path, "data after the JSON object")
	}
	if m.Format != manifestFormat {
		return nil, checkpointErr(path, "format %q, want %q", m.Format, manifestFormat)
	}
	if m.Step < 0 {
		return nil, checkpointErr(path, "step %d is negative", m.Step)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		switch {
		case !arch.ValidFileName(f.Name) || f.Name == ManifestFile:
			return nil, checkpointErr(path, "file name %q is not a plain file name of a checkpoint", f.Name)
		case seen[f.Name]:
			return nil, checkpointErr(path, "file %q listed twice", f.Name)
		case f.Bytes < 0:
			return nil, checkpointErr(path, "file %q: size %d is negative", f.Name, f.Bytes)
		case !isSHA256Hex(f.SHA256):
			return nil, checkpointErr(path, "file %q: sha256 %q is not 64 lower-case hex digits", f.Name, f.SHA256)
		}
		seen[f.Name] = true
	}
	for _, r := range requiredFiles {
		if !seen[r] {
			return nil, checkpointErr(path, "does not list %s", r)
		}
	}
	return &m, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// hashFile returns the name, size and SHA-256 of the regular file at path
// (inputfile.Open: a named pipe is refused, not waited on).
func hashFile(path string) (CheckpointFile, error) {
	fh, _, err := inputfile.Open(path, -1)
	if err != nil {
		return CheckpointFile{}, notRegular(path, err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return CheckpointFile{}, err
	}
	return CheckpointFile{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// readBounded reads the regular file at path, refusing one over limit
// bytes (inputfile.ReadFile); errors name path and wrap the file system's
// (fs.ErrNotExist for a missing file); a refused file is a
// *CheckpointError.
func readBounded(path string, limit int64) ([]byte, error) {
	b, err := inputfile.ReadFile(path, limit)
	return b, notRegular(path, err)
}

// notRegular turns inputfile's refusal of path (not a regular file, too
// large, a link loop) into a *CheckpointError; other errors pass unchanged.
func notRegular(path string, err error) error {
	var ie *inputfile.Error
	if errors.As(err, &ie) {
		return checkpointErr(path, "%s", strings.TrimPrefix(ie.Error(), ie.Path+" "))
	}
	return err
}

// syncDir makes renames in dir durable where the system allows it; the
// files are complete either way, so a failure is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// snapshotsDir is the folder of a checkpoint folder holding the snapshots.
const snapshotsDir = "snapshots"

// saveSnapshot writes a snapshot folder (name "step-NNNNNN" inside
// dir/snapshots) as one unit: write fills a temporary folder
// ".step-NNNNNN.tmp" that is then renamed into place, replacing an earlier
// snapshot of the same step (moved to ".step-NNNNNN.old" meanwhile).
func saveSnapshot(dir, name string, write func(tmp string) error) error {
	snaps := filepath.Join(dir, snapshotsDir)
	if err := os.MkdirAll(snaps, 0o755); err != nil {
		return fmt.Errorf("train: save snapshot: %w", err)
	}
	final, tmp, old := filepath.Join(snaps, name), filepath.Join(snaps, "."+name+".tmp"), filepath.Join(snaps, "."+name+".old")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("train: save snapshot: %w", err)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	syncDir(tmp)
	if _, err := os.Lstat(final); err == nil {
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("train: save snapshot: %w", err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("train: save snapshot: %w", err)
	}
	syncDir(snaps)
	os.RemoveAll(old)
	return nil
}

// recoverSnapshots finishes or drops snapshot writes interrupted in snaps:
// a ".NAME.old" whose replacement never arrived is put back, the rest of the
// temporary folders removed.
func recoverSnapshots(snaps string) {
	ents, _ := os.ReadDir(snaps)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for _, n := range names {
		if !strings.HasPrefix(n, ".") {
			continue
		}
		if base, ok := strings.CutSuffix(n[1:], ".old"); ok && !slices.Contains(names, base) {
			if os.Rename(filepath.Join(snaps, n), filepath.Join(snaps, base)) == nil {
				continue
			}
		}
		if strings.HasSuffix(n, ".old") || strings.HasSuffix(n, ".tmp") {
			os.RemoveAll(filepath.Join(snaps, n))
		}
	}
}
