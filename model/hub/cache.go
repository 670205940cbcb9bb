package hub

import (
	"github.com/gptviz/gptviz/model/arch"

	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
// cache. Its message tells the user to run "gptviz pull NAME".
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
// ErrBadName; a model missing from the cache wraps ErrNotCached with a
// message naming what is missing and telling the user to run "gptviz pull
// NAME". A local folder that is unusable (missing, a symlink loop, not a
// folder, or a needed file that is missing, not a regular file or a
// dangling link) also wraps ErrNotCached, with a message about the folder
// only.
func Resolve(name string, opts ResolveOptions) (string, error) {
	fi, problem, missing := statPath(name)
	if fi != nil && fi.IsDir() {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("model folder %s: %w", name, err)
		}
		if err := checkSnapshot(abs, false); err != nil {
			return "", &notCachedError{fmt.Sprintf("model folder %s: %v", abs, err)}
		}
		return abs, nil
	}
	if looksLikePath(name) {
		switch {
		case fi != nil:
			problem = "is not a folder (" + kindOf(fi.Mode()) + ")"
		case missing:
			problem = "does not exist"
		}
		return "", &notCachedError{fmt.Sprintf("model folder %s %s", name, problem)}
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
	dir, _, err := findCached(cache, repos, rev)
	if err != nil {
		return "", fmt.Errorf("%w; run %q to download it", err, pullCommand(name, rev))
	}
	return dir, nil
}

// pullCommand is the command line that downloads name at rev.
func pullCommand(name, rev string) string {
	if rev == DefaultRevision {
		return "gptviz pull " + name
	}
	return "gptviz pull " + name + " --revision " + rev
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

// findCached returns the first usable snapshot of rev among repos in cache,
// and the repo id it was found under. The error wraps ErrNotCached and says
// what is missing where.
func findCached(cache string, repos []string, rev string) (dir, repo string, err error) {
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
	folders := make([]string, len(repos))
	for i, r := range repos {
		folders[i] = RepoFolder(r)
	}
	msg := fmt.Sprintf("%v: %s (revision %s) is not in %s (looked for %s)", ErrNotCached, repos[0], rev, cache, strings.Join(folders, ", "))
	if len(problems) > 0 {
		msg += ": " + strings.Join(problems, "; ")
	}
	return "", "", &notCachedError{msg}
}

type notCachedError struct{ msg string }

func (e *notCachedError) Error() string { return e.msg }
func (e *notCachedError) Unwrap() error { return ErrNotCached }

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
		b, err := readSmallFile(filepath.Join(root, "refs", filepath.FromSlash(rev)), maxRefBytes)
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
		data, err := readSmallFile(filepath.Join(dir, arch.IndexFile), arch.MaxIndexBytes)
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

// statPath stats path, following symlinks. fi is nil when that fails; then
// missing reports that nothing is there, or problem says what is wrong
// instead ("is a symlink loop", "is a dangling symlink (to …)", "cannot be
// read (…)").
func statPath(path string) (fi fs.FileInfo, problem string, missing bool) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return fi, "", false
	case isSymlinkLoop(err):
		return nil, "is a symlink loop", false
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return nil, fmt.Sprintf("is a dangling symlink (to %s)", target), false
		}
		return nil, "", true
	}
	return nil, fmt.Sprintf("cannot be read (%v)", err), false
}

// fileProblem says why path is not a usable regular file ("" if it is), or
// reports it missing. It never opens path, so a named pipe cannot block it.
func fileProblem(path string) (problem string, missing bool) {
	fi, problem, missing := statPath(path)
	if fi != nil && !fi.Mode().IsRegular() {
		problem = "is not a regular file (" + kindOf(fi.Mode()) + ")"
	}
	return problem, missing
}

// kindOf names a file type for messages.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

func isFile(path string) bool {
	fi, err := os.Stat(path) // follows symlinks into blobs/
	return err == nil && fi.Mode().IsRegular()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Limits on the small files of the cache that are read whole, in bytes.
const (
	maxRefBytes    = 1 << 10  // refs/<revision>: a 40-digit commit hash
	maxConfigBytes = 16 << 20 // config.json (GPT-2's is under 1 KB)
	maxTokenBytes  = 64 << 10 // the token file
)

// readSmallFile reads the regular file at path (after following symlinks),
// at most limit bytes: a named pipe or device there is refused without
// opening it (opening a pipe would block), a larger file is an error naming
// the limit. A missing file wraps fs.ErrNotExist.
func readSmallFile(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, kindOf(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d expected", path, fi.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while it was read", path, limit)
	}
	return b, nil
}
