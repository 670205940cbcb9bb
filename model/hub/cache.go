package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
)

// Env is where Resolve and Pull read the environment: variables such as
// HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, HF_ENDPOINT, HF_TOKEN and
// HF_HUB_OFFLINE, and the user's home folder. The zero Env reads the real
// process environment (os.Getenv, os.UserHomeDir); tests supply their own.
type Env struct {
	Getenv  func(key string) string // nil: os.Getenv
	HomeDir func() (string, error)  // nil: os.UserHomeDir
}

// MapEnv returns an Env that reads variables from vars and has home as the
// home folder (an empty home makes HomeDir fail).
func MapEnv(vars map[string]string, home string) Env {
	return Env{
		Getenv: func(k string) string { return vars[k] },
		HomeDir: func() (string, error) {
			if home == "" {
				return "", errors.New("no home folder")
			}
			return home, nil
		},
	}
}

func (e Env) get(key string) string {
	if e.Getenv == nil {
		return os.Getenv(key)
	}
	return e.Getenv(key)
}

func (e Env) home() (string, error) {
	if e.HomeDir == nil {
		return os.UserHomeDir()
	}
	return e.HomeDir()
}

// expandHome replaces a leading "~" with the home folder, as Python's
// os.path.expanduser does for huggingface_hub's variables.
func (e Env) expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p, nil
	}
	home, err := e.home()
	if err != nil {
		return "", fmt.Errorf("expand %q: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// hfHome is $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface (huggingface_hub constants.py).
func (e Env) hfHome() (string, error) {
	if v := e.get("HF_HOME"); v != "" {
		return e.expandHome(v)
	}
	if v := e.get("XDG_CACHE_HOME"); v != "" {
		x, err := e.expandHome(v)
		if err != nil {
			return "", err
		}
		return filepath.Join(x, "huggingface"), nil
	}
	home, err := e.home()
	if err != nil {
		return "", fmt.Errorf("find the Hugging Face cache: set HF_HUB_CACHE or HF_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface"), nil
}

// CacheDir returns the Hugging Face hub cache folder, in the order
// huggingface_hub uses: $HF_HUB_CACHE, the older $HUGGINGFACE_HUB_CACHE,
// $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub. A
// leading "~" in a variable is expanded. The folder need not exist. It fails
// only when it needs the home folder and that is unknown.
func CacheDir(env Env) (string, error) {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := env.get(k); v != "" {
			return env.expandHome(v)
		}
	}
	h, err := env.hfHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "hub"), nil
}

// ErrNotCached reports that a model is not (completely) in the Hugging Face
// cache (a *NotCachedError), or that a local model folder is unusable.
var ErrNotCached = errors.New("model not in the Hugging Face cache")

// ResolveOptions tunes Resolve. The zero value resolves revision "main" in
// the cache the real environment names.
type ResolveOptions struct {
	Revision string // branch, tag or commit hash; "" means DefaultRevision
	CacheDir string // cache folder; "" means CacheDir(Env)
	Env      Env    // environment used when CacheDir is ""
}

// Resolve finds the folder of a GPT-2 checkpoint, without any network
// access, in this order:
//
//  1. name is an existing folder (relative or absolute): that folder,
//     made absolute, if it holds config.json and the weights (model.safetensors,
//     or model.safetensors.index.json and its shards); the tokenizer files are
//     optional there.
//  2. name is a model name (see RepoIDs): the snapshot of opts.Revision in the
//     Hugging Face cache under each of its repo ids in turn. A branch or tag
//     is read from refs/<revision> (a commit hash names its snapshot folder
//     directly); the snapshot is snapshots/<commit>/, whose files may be
//     symlinks into blobs/. It must hold config.json, vocab.json, merges.txt
//     and the weights, every link resolving to a file.
//
// The returned folder holds the checkpoint's files under their usual names.
// Errors: a name that is neither a folder nor a valid repo id wraps
// ErrBadName; a model missing from the cache is a *NotCachedError (which
// wraps ErrNotCached) naming what is missing where; Pull downloads it. A
// local folder that is unusable (missing, a symlink loop, not a folder, or
// a needed file that is missing, not a regular file or a dangling link)
// also wraps ErrNotCached, with a message about the folder only. Files are
// only stat'ed, except refs/<revision> and model.safetensors.index.json,
// which are read through internal/inputfile (regular files only, at most
// maxRefBytes and arch.MaxIndexBytes).
func Resolve(name string, opts ResolveOptions) (string, error) {
	fi, err := os.Stat(name) // a folder is wanted here, which inputfile.Stat refuses
	if err == nil && fi.IsDir() {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("model folder %s: %w", name, err)
		}
		if err := checkSnapshot(abs, false); err != nil {
			return "", &folderError{fmt.Sprintf("model folder %s: %v", abs, err)}
		}
		return abs, nil
	}
	if looksLikePath(name) {
		problem, missing := statProblem(name, err)
		switch {
		case err == nil:
			problem = "is not a folder (" + inputfile.Kind(fi.Mode()) + ")"
		case missing:
			problem = "does not exist"
		}
		return "", &folderError{fmt.Sprintf("model folder %s %s", name, problem)}
	}
	repos, err := RepoIDs(name)
	if err != nil {
		return "", err
	}
	rev := opts.Revision
	if rev == "" {
		rev = DefaultRevision
	}
	if err := ValidateRevision(rev); err != nil {
		return "", err
	}
	cache := opts.CacheDir
	if cache == "" {
		if cache, err = CacheDir(opts.Env); err != nil {
			return "", err
		}
	}
	dir, _, err := findCached(cache, name, repos, rev)
	if err != nil {
		return "", err
	}
	return dir, nil
}

// looksLikePath reports whether name can only be meant as a file path, never
// as a repo id.
func looksLikePath(name string) bool {
	switch {
	case filepath.IsAbs(name), strings.HasPrefix(name, "."), strings.HasPrefix(name, "~"),
		strings.HasPrefix(name, "/"), strings.HasSuffix(name, "/"), strings.Count(name, "/") > 1:
		return true
	case filepath.Separator != '/' && strings.ContainsRune(name, filepath.Separator):
		return true
	}
	return false
}

// findCached returns the first usable snapshot of rev among repos (the repo
// ids of name) in cache, and the repo id it was found under. The error is a
// *NotCachedError saying what is missing where.
func findCached(cache, name string, repos []string, rev string) (dir, repo string, err error) {
	var problems []string
	for _, r := range repos {
		d, err := snapshotDir(cache, r, rev)
		if err == nil {
			if err = checkSnapshot(d, true); err != nil {
				err = fmt.Errorf("snapshot %s: %w", d, err)
			}
		}
		if err == nil {
			return d, r, nil
		}
		if !errors.Is(err, errNoRepoFolder) {
			problems = append(problems, err.Error())
		}
	}
	return "", "", &NotCachedError{Name: name, Repos: repos, Revision: rev, Cache: cache, Problems: problems}
}

// folderError is an unusable local model folder: it wraps ErrNotCached,
// with a message about the folder only.
type folderError struct{ msg string }

func (e *folderError) Error() string { return e.msg }
func (e *folderError) Unwrap() error { return ErrNotCached }

// errNoRepoFolder reports that the cache has no models--… folder for a repo.
var errNoRepoFolder = errors.New("no repo folder")

// snapshotDir returns snapshots/<commit> of repo at rev, reading refs/<rev>
// unless rev is a commit hash. It does not check the snapshot's files.
func snapshotDir(cache, repo, rev string) (string, error) {
	root := filepath.Join(cache, RepoFolder(repo))
	if _, err := os.Stat(root); err != nil {
		return "", errNoRepoFolder
	}
	commit := rev
	if !IsCommitHash(rev) {
		b, err := inputfile.ReadFile(filepath.Join(root, "refs", filepath.FromSlash(rev)), maxRefBytes)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s has no refs/%s (revision never downloaded): %w", RepoFolder(repo), rev, fs.ErrNotExist)
		}
		if err != nil {
			return "", fmt.Errorf("%s: refs/%s: %w", RepoFolder(repo), rev, err)
		}
		commit = strings.TrimSpace(string(b))
		if !IsCommitHash(commit) {
			return "", fmt.Errorf("%s: refs/%s holds %q, not a commit hash", RepoFolder(repo), rev, truncate(commit, 60))
		}
	}
	dir := filepath.Join(root, "snapshots", commit)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s has no snapshots/%s: %w", RepoFolder(repo), commit, fs.ErrNotExist)
	}
	return dir, nil
}

// checkSnapshot checks that dir holds a loadable checkpoint: config.json and
// the weights, and, when tokenizer is set, vocab.json and merges.txt. Each
// must be a regular file after following symlinks. The error names every
// unusable file and says why (missing, a directory, a symlink loop…), but
// not dir: callers say whether dir is a snapshot or the user's folder.
func checkSnapshot(dir string, tokenizer bool) error {
	_, err := snapshotFiles(dir, tokenizer)
	return err
}

// snapshotFiles checks dir as checkSnapshot does and returns the names of
// the checkpoint's files in it: config.json, vocab.json and merges.txt when
// tokenizer is set, and model.safetensors or the index and its shards.
func snapshotFiles(dir string, tokenizer bool) ([]string, error) {
	need := []string{arch.ConfigFile}
	if tokenizer {
		need = append(need, arch.VocabFile, arch.MergesFile)
	}
	var problems []string
	check := func(f string) bool {
		problem, missing := fileProblem(filepath.Join(dir, f))
		if missing {
			problem = "is missing"
		}
		if problem != "" {
			problems = append(problems, f+" "+problem)
		}
		return problem == ""
	}
	for _, f := range need {
		check(f)
	}
	_, wMissing := fileProblem(filepath.Join(dir, arch.WeightsFile))
	iProblem, iMissing := fileProblem(filepath.Join(dir, arch.IndexFile))
	switch {
	case !wMissing:
		if check(arch.WeightsFile) {
			need = append(need, arch.WeightsFile)
		}
	case iMissing:
		problems = append(problems, arch.WeightsFile+" (or "+arch.IndexFile+") is missing")
	case iProblem != "":
		check(arch.IndexFile)
	default:
		data, err := inputfile.ReadFile(filepath.Join(dir, arch.IndexFile), arch.MaxIndexBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arch.IndexFile, err)
		}
		idx, err := arch.ParseIndex(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arch.IndexFile, err)
		}
		need = append(need, arch.IndexFile)
		for _, s := range idx.Shards {
			check(s)
			need = append(need, s)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return need, nil
}

// statProblem says in the hub's words what the error err of statting path
// (os.Stat or inputfile.Stat) means: problem says what is wrong ("is a
// symlink loop", "is not a regular file (a named pipe)", "is a dangling
// symlink (to …)", "cannot be read (…)"), or missing reports that nothing
// is there. Both are zero when err is nil.
func statProblem(path string, err error) (problem string, missing bool) {
	var ie *inputfile.Error
	switch {
	case err == nil:
		return "", false
	case errors.As(err, &ie) && ie.Kind == inputfile.ErrNotRegular:
		return "is not a regular file (" + ie.Detail + ")", false
	case errors.Is(err, inputfile.ErrSymlinkLoop), isSymlinkLoop(err):
		return "is a symlink loop", false
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Sprintf("is a dangling symlink (to %s)", target), false
		}
		return "", true
	}
	return fmt.Sprintf("cannot be read (%v)", err), false
}

// fileProblem says why path is not a usable regular file ("" if it is), or
// reports it missing. It never opens path, so a named pipe cannot block it.
func fileProblem(path string) (problem string, missing bool) {
	_, err := inputfile.Stat(path)
	return statProblem(path, err)
}

// isFile reports whether path is a regular file, following symlinks (into
// blobs/).
func isFile(path string) bool {
	_, err := inputfile.Stat(path)
	return err == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Limits on the small files of the cache that are read whole, in bytes
// (config.json and the weights index use arch.MaxConfigBytes and
// arch.MaxIndexBytes). Larger files are refused (*inputfile.Error wrapping
// inputfile.ErrTooLarge).
const (
	maxRefBytes   = 1 << 10  // refs/<revision>: a 40-digit commit hash
	maxTokenBytes = 64 << 10 // the token file (HF_TOKEN_PATH, $HF_HOME/token)
)
