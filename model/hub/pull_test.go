package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/hub/hubtest"
)

func TestPullFresh(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, progress := testOptions(t, srv)

	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))

	// The first file is asked for at the branch, the rest at its commit.
	var heads []string
	cacheHops := 0
	for _, r := range srv.Requests() {
		switch {
		case r.Server == "hub" && r.Method == "HEAD" && strings.Contains(r.Path, "/resolve/"):
			heads = append(heads, r.Path)
		case strings.HasPrefix(r.Path, "/api/resolve-cache/"):
			cacheHops++
		}
	}
	if cacheHops != 6 { // HEAD and GET of config.json, vocab.json, merges.txt
		t.Errorf("%d requests followed the hub's resolve-cache redirect, want 6", cacheHops)
	}
	want := []string{
		"/openai-community/gpt2/resolve/main/config.json",
		"/openai-community/gpt2/resolve/" + commitA + "/vocab.json",
		"/openai-community/gpt2/resolve/" + commitA + "/merges.txt",
		"/openai-community/gpt2/resolve/" + commitA + "/model.safetensors",
	}
	if fmt.Sprint(heads) != fmt.Sprint(want) {
		t.Errorf("HEAD requests:\n got %v\nwant %v", heads, want)
	}
	if n := srv.Count("cdn", "GET"); n != 1 {
		t.Errorf("%d GETs on the CDN, want 1 (the weights)", n)
	}
	if !strings.Contains(progress.String(), "downloaded model.safetensors: 300 kB") {
		t.Errorf("progress does not report the weights:\n%s", progress)
	}
	got, err := Resolve("gpt2", ResolveOptions{CacheDir: opts.CacheDir})
	if err != nil || got != dir {
		t.Errorf("Resolve after Pull = %s, %v; want %s", got, err, dir)
	}
}

func TestPullKnownNameFollowsHubRename(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)

	// As transformers' from_pretrained("gpt2") does, the files go under the
	// name typed, models--gpt2, while the hub redirects to openai-community/gpt2.
	dir, err := Pull(context.Background(), "gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "gpt2", commitA, dir, weightFiles(repo.Files))

	// The other id finds and reuses that copy: no downloads.
	srv.Reset()
	dir2, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil || dir2 != dir {
		t.Fatalf("Pull(openai-community/gpt2) = %s, %v; want %s", dir2, err, dir)
	}
	if n := srv.Count("", "GET"); n != 0 {
		t.Errorf("%d GETs for an already cached model, want 0", n)
	}
}

func TestPullResumesAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	weights := repo.Files["model.safetensors"]
	srv := hubtest.NewServer(t, repo)
	srv.Drop(weights, 1)
	opts, progress := testOptions(t, srv)

	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))

	var gets []hubtest.Request
	for _, r := range srv.Requests() {
		if r.Server == "cdn" && r.Method == "GET" {
			gets = append(gets, r)
		}
	}
	if len(gets) != 2 {
		t.Fatalf("%d CDN GETs, want 2 (cut, then resumed): %+v", len(gets), gets)
	}
	if gets[0].Range != "" {
		t.Errorf("first GET has Range %q, want none", gets[0].Range)
	}
	var start int
	if _, err := fmt.Sscanf(gets[1].Range, "bytes=%d-", &start); err != nil || start <= 0 || start > len(weights)/2 {
		t.Errorf("resumed GET has Range %q, want bytes=N- with 0 < N <= %d", gets[1].Range, len(weights)/2)
	}
	if want := `"` + hubtest.SHA256(weights) + `"`; gets[1].IfRange != want {
		t.Errorf("resumed GET has If-Range %q, want %q", gets[1].IfRange, want)
	}
	if !strings.Contains(progress.String(), "retrying") {
		t.Errorf("progress does not mention the retry:\n%s", progress)
	}
}

func TestPullRetriesServerErrors(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	srv.Fail(http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway)
	opts, progress := testOptions(t, srv)
	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))
	if n := strings.Count(progress.String(), "retrying"); n != 3 {
		t.Errorf("%d retries reported, want 3:\n%s", n, progress)
	}

	// A server that keeps failing is given up on, naming the status.
	srv.Fail(500, 500, 500)
	opts.CacheDir, opts.Retries = t.TempDir(), 2
	if _, err := Pull(context.Background(), "openai-community/gpt2", opts); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("err = %v, want giving up with HTTP 500", err)
	}
}

// TestPullGivesUpOnRepeatedDropsAtSameByte: a mirror that ignores Range
// (answers 200 with the whole file) and cuts the connection at the same
// byte every time used to be retried forever, because each try's bytes,
// counted from the restart at 0, looked like progress. Progress now means
// passing the furthest byte any try reached.
func TestPullGivesUpOnRepeatedDropsAtSameByte(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ignoreRange bool
		want        []string
	}{
		{"range ignored", true, []string{"ignores Range"}},
		{"range honoured", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := gpt2Repo()
			weights := repo.Files["model.safetensors"]
			srv := hubtest.NewServer(t, repo)
			srv.CutAt(weights, 120_000)
			if tt.ignoreRange {
				srv.IgnoreRange(weights)
			}
			opts, progress := testOptions(t, srv)
			opts.Retries = 3
			// A guard, not a timing check: the bug was an endless loop.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Pull(ctx, "openai-community/gpt2", opts)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("err = %v (context: %v), want giving up", err, ctx.Err())
			}
			want := append([]string{"openai-community/gpt2/model.safetensors", "giving up after 4 tries",
				"without getting past byte 120000 of 300000"}, tt.want...)
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// One try that got to byte 120000, then 3 retries that did not get further.
			if n := srv.Count("cdn", "GET"); n != 4 {
				t.Errorf("%d CDN GETs, want 4", n)
			}
			if n := strings.Count(progress.String(), "retrying"); n != 3 {
				t.Errorf("%d retries reported, want 3:\n%s", n, progress)
			}
			// The bytes got so far stay for a later pull to resume.
			if left := findFiles(t, opts.CacheDir, ".incomplete"); len(left) != 1 {
				t.Errorf("partial files %v, want the one of the weights", left)
			}
		})
	}
}

// TestPullGivesUpWhenAnnouncedSizeIsNeverSent: an X-Linked-Size larger than
// what the server ever sends used to be retried forever.
func TestPullGivesUpWhenAnnouncedSizeIsNeverSent(t *testing.T) {
	t.Parallel()
	for _, ignoreRange := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignoreRange=%v", ignoreRange), func(t *testing.T) {
			repo := gpt2Repo()
			weights := repo.Files["model.safetensors"]
			srv := hubtest.NewServer(t, repo)
			srv.AnnounceSize(weights, 400_000)
			if ignoreRange {
				srv.IgnoreRange(weights)
			}
			opts, _ := testOptions(t, srv)
			opts.Retries = 3
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := Pull(ctx, "openai-community/gpt2", opts)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("err = %v (context: %v), want giving up", err, ctx.Err())
			}
			for _, w := range []string{"model.safetensors", "giving up after 4 tries", "without getting past byte 300000 of 400000"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPullResumesAfterStall(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	weights := repo.Files["model.safetensors"]
	srv := hubtest.NewServer(t, repo)
	srv.Stall(weights, 1)
	opts, progress := testOptions(t, srv)
	opts.stallTimeout = 100 * time.Millisecond
	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))
	if !strings.Contains(progress.String(), "no data for 100ms") {
		t.Errorf("progress does not report the stall:\n%s", progress)
	}
	if n := srv.Count("cdn", "GET"); n != 2 {
		t.Errorf("%d CDN GETs, want 2 (stalled, resumed)", n)
	}
}

func TestPullResumesPartialFileFromEarlierRun(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	weights := repo.Files["model.safetensors"]
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	blobs := filepath.Join(opts.CacheDir, RepoFolder("openai-community/gpt2"), "blobs")
	os.MkdirAll(blobs, 0o755)
	partial := filepath.Join(blobs, hubtest.SHA256(weights)+".incomplete")
	if err := os.WriteFile(partial, weights[:100_000], 0o644); err != nil {
		t.Fatal(err)
	}

	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))
	for _, r := range srv.Requests() {
		if r.Server == "cdn" && r.Range != "bytes=100000-" {
			t.Errorf("CDN request %+v, want a single Range bytes=100000-", r)
		}
	}
}

func TestPullGarbagePartialFileIsDeleted(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	weights := repo.Files["model.safetensors"]
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	blobs := filepath.Join(opts.CacheDir, RepoFolder("openai-community/gpt2"), "blobs")
	os.MkdirAll(blobs, 0o755)
	partial := filepath.Join(blobs, hubtest.SHA256(weights)+".incomplete")
	os.WriteFile(partial, make([]byte, 100_000), 0o644) // not a prefix of the weights

	_, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("the corrupt partial file is still there (%v)", err)
	}
	// The next pull starts over and succeeds.
	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))
}

func TestPullChecksumMismatch(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	srv.Corrupt(repo.Files["model.safetensors"])
	opts, _ := testOptions(t, srv)

	_, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
	for _, want := range []string{"model.safetensors", "SHA-256", hubtest.SHA256(repo.Files["model.safetensors"])} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	root := filepath.Join(opts.CacheDir, RepoFolder("openai-community/gpt2"))
	if _, err := os.Stat(filepath.Join(root, "snapshots")); !os.IsNotExist(err) {
		t.Errorf("a snapshot folder exists after a failed pull (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(root, "refs", "main")); !os.IsNotExist(err) {
		t.Errorf("refs/main exists after a failed pull (%v)", err)
	}
	if left := findFiles(t, opts.CacheDir, ".incomplete"); len(left) > 0 {
		t.Errorf("partial files left: %v", left)
	}
	if _, err := Resolve("openai-community/gpt2", ResolveOptions{CacheDir: opts.CacheDir}); !errors.Is(err, ErrNotCached) {
		t.Errorf("Resolve after a failed pull: %v, want ErrNotCached", err)
	}
}

func TestPullRegularFileChecksumMismatch(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	srv.Corrupt(repo.Files["vocab.json"])
	opts, _ := testOptions(t, srv)
	_, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
	for _, want := range []string{"vocab.json", "git SHA-1", hubtest.GitBlobSHA1(repo.Files["vocab.json"])} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestPullOfflineDetectsDamagedCache: with a truncated blob in the cache,
// pull --offline used to succeed, and the model's load failed later with a
// message naming only the commit. Pull's cached paths (offline, a cached
// commit, the hub unreachable) now check every blob against the hash it is
// named by, and an online pull repairs it.
func TestPullOfflineDetectsDamagedCache(t *testing.T) {
	t.Parallel()
	files := gpt2Files()
	tests := []struct {
		name, file string
		damage     func(b []byte) []byte
	}{
		{"truncated weights", "model.safetensors", func(b []byte) []byte { return b[:len(b)/2] }},
		{"flipped byte in weights", "model.safetensors", func(b []byte) []byte { b[1000] ^= 1; return b }},
		{"truncated vocab", "vocab.json", func(b []byte) []byte { return b[:len(b)-1] }},
		{"empty config", "config.json", func(b []byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hubtest.NewServer(t, hubtest.Repo{ID: "good/m", Commit: commitA, Files: files})
			opts, progress := testOptions(t, srv)
			dir, err := Pull(context.Background(), "good/m", opts)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := filepath.EvalSymlinks(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blob, tt.damage(bytes.Clone(files[tt.file])), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Resolve("good/m", ResolveOptions{CacheDir: opts.CacheDir}); err != nil {
				t.Fatalf("Resolve (which does not hash): %v", err)
			}

			srv.Reset()
			offline := opts
			offline.Offline = true
			_, err = Pull(context.Background(), "good/m", offline)
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("offline Pull of a damaged cache: err = %v, want ErrIntegrity", err)
			}
			var de *DamagedError
			if !errors.As(err, &de) || de.Name != "good/m" || de.Repo != "good/m" || de.Revision != DefaultRevision || de.Snapshot != dir ||
				len(de.Files) != 1 || !strings.HasPrefix(de.Files[0], tt.file+": ") {
				t.Fatalf("err = %#v, want a *DamagedError about good/m's %s", err, tt.file)
			}
			for _, w := range []string{"good/m", tt.file, "damaged"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "gptviz") {
				t.Errorf("error %q speaks the CLI's language", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("offline pull sent %d requests", n)
			}

			// The hub unreachable: the damaged copy is not used instead.
			unreachable := opts
			unreachable.Endpoint = refusedURL(t)
			if _, err := Pull(context.Background(), "good/m", unreachable); !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "cannot reach") {
				t.Errorf("Pull with the hub unreachable: err = %v, want ErrIntegrity and cannot reach", err)
			}

			// Online, the damaged blob is downloaded again (also at a
			// cached commit, which otherwise needs no request).
			atCommit := opts
			atCommit.Revision = commitA
			if got, err := Pull(context.Background(), "good/m", atCommit); err != nil || got != dir {
				t.Fatalf("online Pull = %s, %v; want the repaired %s", got, err, dir)
			}
			if !strings.Contains(progress.String(), "downloading it again") {
				t.Errorf("progress does not say the damaged file is downloaded again:\n%s", progress)
			}
			if got, err := os.ReadFile(filepath.Join(dir, tt.file)); err != nil || !bytes.Equal(got, files[tt.file]) {
				t.Errorf("%s not repaired (%d bytes, %v)", tt.file, len(got), err)
			}
			if _, err := Pull(context.Background(), "good/m", offline); err != nil {
				t.Errorf("offline Pull after the repair: %v", err)
			}
		})
	}
}

func TestPullSecondPullDownloadsNothing(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}

	srv.Reset()
	dir2, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil || dir2 != dir {
		t.Fatalf("second Pull = %s, %v; want %s", dir2, err, dir)
	}
	if n := srv.Count("", "GET"); n != 0 {
		t.Errorf("second pull sent %d GETs, want 0", n)
	}
	heads := 0
	for _, r := range srv.Requests() {
		if r.Method == "HEAD" && strings.Contains(r.Path, "/resolve/") {
			heads++
		}
	}
	if heads != 4 {
		t.Errorf("second pull sent %d HEADs to resolve URLs, want 4 (one per file, to see whether main moved)", heads)
	}

	// A commit hash never changes: no request at all.
	srv.Reset()
	opts.Revision = commitA
	if dir3, err := Pull(context.Background(), "openai-community/gpt2", opts); err != nil || dir3 != dir {
		t.Fatalf("Pull at the commit = %s, %v; want %s", dir3, err, dir)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("pull of a cached commit sent %d requests, want 0", n)
	}
}

func TestPullNewCommitReusesUnchangedBlobs(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	if _, err := Pull(context.Background(), "openai-community/gpt2", opts); err != nil {
		t.Fatal(err)
	}
	// main moves to a commit that changes only merges.txt.
	files := gpt2Files()
	files["merges.txt"] = []byte("#version: 0.2\nĠ a\n")
	srv.AddRepo(hubtest.Repo{ID: "openai-community/gpt2", Commit: commitB, Files: files})
	srv.Reset()

	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitB, dir, weightFiles(files))
	var gets []string
	for _, r := range srv.Requests() {
		if r.Method == "GET" {
			gets = append(gets, r.Path)
		}
	}
	if want := "[/openai-community/gpt2/resolve/" + commitB + "/merges.txt]"; fmt.Sprint(gets) != want {
		t.Errorf("GETs %v, want %s", gets, want)
	}
	// The old snapshot stays usable at its commit.
	if _, err := Resolve("openai-community/gpt2", ResolveOptions{CacheDir: opts.CacheDir, Revision: commitA}); err != nil {
		t.Errorf("old snapshot: %v", err)
	}
}

func TestPullSharded(t *testing.T) {
	t.Parallel()
	files := gpt2Files()
	delete(files, "model.safetensors")
	files["model-00001-of-00002.safetensors"] = randomBytes(2, 50_000)
	files["model-00002-of-00002.safetensors"] = randomBytes(3, 40_000)
	files["model.safetensors.index.json"] = []byte(`{"metadata": {"total_size": 90000}, "weight_map": {
		"wte.weight": "model-00001-of-00002.safetensors",
		"wpe.weight": "model-00001-of-00002.safetensors",
		"ln_f.weight": "model-00002-of-00002.safetensors"}}`)
	srv := hubtest.NewServer(t, hubtest.Repo{ID: "someone/gpt2-sharded", Commit: commitA, Files: files})
	opts, _ := testOptions(t, srv)

	dir, err := Pull(context.Background(), "someone/gpt2-sharded", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "someone/gpt2-sharded", commitA, dir, weightFiles(files))
	if got, err := Resolve("someone/gpt2-sharded", ResolveOptions{CacheDir: opts.CacheDir}); err != nil || got != dir {
		t.Errorf("Resolve = %s, %v; want %s", got, err, dir)
	}
}

func TestPullRejectsIndexWithPathTraversal(t *testing.T) {
	t.Parallel()
	files := gpt2Files()
	delete(files, "model.safetensors")
	files["model.safetensors.index.json"] = []byte(`{"weight_map": {"wte.weight": "../../../evil.safetensors"}}`)
	srv := hubtest.NewServer(t, hubtest.Repo{ID: "someone/evil", Commit: commitA, Files: files})
	opts, _ := testOptions(t, srv)
	_, err := Pull(context.Background(), "someone/evil", opts)
	if err == nil || !strings.Contains(err.Error(), "evil.safetensors") {
		t.Fatalf("err = %v, want a rejected shard name", err)
	}
	if n := srv.Count("cdn", ""); n != 0 {
		t.Errorf("%d CDN requests, want 0", n)
	}
}

func TestPullRejectsNonGPT2Config(t *testing.T) {
	t.Parallel()
	files := gpt2Files()
	files["config.json"] = []byte(`{"model_type": "bert", "hidden_size": 768, "num_attention_heads": 12}`)
	srv := hubtest.NewServer(t, hubtest.Repo{ID: "google-bert/bert-base-uncased", Commit: commitA, Files: files})
	opts, _ := testOptions(t, srv)

	_, err := Pull(context.Background(), "google-bert/bert-base-uncased", opts)
	if !errors.Is(err, ErrNotGPT2) || !errors.Is(err, arch.ErrConfig) || !strings.Contains(err.Error(), "google-bert/bert-base-uncased/config.json") {
		t.Fatalf("err = %v, want ErrNotGPT2 naming the config", err)
	}
	if n := srv.Count("", "GET") - 1; n != 0 { // the one GET is config.json
		t.Errorf("%d files downloaded after the config was rejected, want 0", n)
	}
	if _, err := os.Stat(filepath.Join(opts.CacheDir, RepoFolder("google-bert/bert-base-uncased"), "snapshots")); !os.IsNotExist(err) {
		t.Errorf("snapshot folder exists (%v)", err)
	}
}

func TestPullNotFound(t *testing.T) {
	t.Parallel()
	files := gpt2Files()
	delete(files, "vocab.json")
	srv := hubtest.NewServer(t, hubtest.Repo{ID: "someone/no-vocab", Commit: commitA, Files: files})
	tests := []struct {
		name, model, rev string
		want             []string
	}{
		{"missing file", "someone/no-vocab", "", []string{"someone/no-vocab", "vocab.json", "revision main", "404"}},
		{"missing repo", "someone/nothing-here", "", []string{"someone/nothing-here", "not found", "HF_TOKEN"}},
		{"missing revision", "someone/no-vocab", "v9", []string{"revision v9", "someone/no-vocab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, _ := testOptions(t, srv)
			opts.Revision = tt.rev
			_, err := Pull(context.Background(), tt.model, opts)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPullNeedsToken(t *testing.T) {
	t.Parallel()
	const secret = "hf_secretTOKENvalue123"
	const wrong = "hf_wrongTOKENvalue456"
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	srv.Token = secret

	tests := []struct {
		name, token string
		want        []string
	}{
		{"no token", "", []string{"HF_TOKEN", "token is needed", "401"}},
		{"wrong token", wrong, []string{"HF_TOKEN", "rejected or lacks access", "403"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, progress := testOptions(t, srv)
			opts.Token = tt.token
			_, err := Pull(context.Background(), "openai-community/gpt2", opts)
			if !errors.Is(err, ErrAccess) {
				t.Fatalf("err = %v, want ErrAccess", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, tok := range []string{secret, wrong} {
				if strings.Contains(err.Error(), tok) || strings.Contains(progress.String(), tok) {
					t.Errorf("the token appears in the error or the progress output")
				}
			}
		})
	}
}

func TestPullTokenStaysOnEndpointHost(t *testing.T) {
	t.Parallel()
	const secret = "hf_secretTOKENvalue123"
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	srv.Token = secret
	opts, progress := testOptions(t, srv)
	// The token comes from the environment, as most users set it.
	opts.Env = MapEnv(map[string]string{"HF_TOKEN": secret}, "")

	dir, err := Pull(context.Background(), "openai-community/gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkPulled(t, opts.CacheDir, "openai-community/gpt2", commitA, dir, weightFiles(repo.Files))
	cdn := 0
	for _, r := range srv.Requests() {
		switch {
		case r.Server == "hub" && r.Auth != "Bearer "+secret:
			t.Errorf("hub request %s %s without the token", r.Method, r.Path)
		case r.Server == "cdn" && r.Auth != "":
			t.Errorf("the token was sent to the CDN host: %s %s", r.Method, r.Path)
		case r.Server == "cdn":
			cdn++
		}
	}
	if cdn == 0 {
		t.Error("no request reached the CDN; the test proves nothing")
	}
	if strings.Contains(progress.String(), secret) {
		t.Error("the token appears in the progress output")
	}
}

func TestPullTokenFile(t *testing.T) {
	t.Parallel()
	const secret = "hf_fromTheTokenFile789"
	srv := hubtest.NewServer(t, gpt2Repo())
	srv.Token = secret
	opts, _ := testOptions(t, srv)
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "token"), []byte(secret+"\n"), 0o600)
	opts.Env = MapEnv(map[string]string{"HF_HOME": home}, "")
	if _, err := Pull(context.Background(), "openai-community/gpt2", opts); err != nil {
		t.Fatalf("pull with $HF_HOME/token: %v", err)
	}
}

func TestPullEndpointFromEnv(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	opts, _ := testOptions(t, srv)
	opts.Endpoint = ""
	opts.Env = MapEnv(map[string]string{"HF_ENDPOINT": srv.URL + "/"}, "")
	if _, err := Pull(context.Background(), "gpt2", opts); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("hub", ""); n == 0 {
		t.Error("HF_ENDPOINT was not used")
	}
}

func TestPullOffline(t *testing.T) {
	t.Parallel()
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	// The error used to name the CLI's flag ("(--offline or
	// HF_HUB_OFFLINE=1)"); it is an *OfflineError whose fields say which
	// setting turned offline mode on, and whose message names the variable.
	tests := []struct {
		name   string
		apply  func(*PullOptions)
		option bool
		env    string
	}{
		{"HF_HUB_OFFLINE=1", func(o *PullOptions) { o.Env = MapEnv(map[string]string{"HF_HUB_OFFLINE": "1"}, "") }, false, "HF_HUB_OFFLINE"},
		{"HF_HUB_OFFLINE=true", func(o *PullOptions) { o.Env = MapEnv(map[string]string{"HF_HUB_OFFLINE": "true"}, "") }, false, "HF_HUB_OFFLINE"},
		{"Offline option", func(o *PullOptions) { o.Offline = true }, true, ""},
		{"both", func(o *PullOptions) {
			o.Offline, o.Env = true, MapEnv(map[string]string{"HF_HUB_OFFLINE": "yes"}, "")
		}, true, "HF_HUB_OFFLINE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, _ := testOptions(t, srv)
			tt.apply(&opts)
			srv.Reset()
			_, err := Pull(context.Background(), "gpt2", opts)
			if !errors.Is(err, ErrOffline) || !errors.Is(err, ErrNotCached) {
				t.Fatalf("err = %v, want ErrOffline and ErrNotCached", err)
			}
			var oe *OfflineError
			var nc *NotCachedError
			if !errors.As(err, &oe) || !errors.As(err, &nc) {
				t.Fatalf("err = %#v, want an *OfflineError holding a *NotCachedError", err)
			}
			if oe.Name != "gpt2" || oe.Option != tt.option || oe.Env != tt.env || nc.Name != "gpt2" || nc.Revision != DefaultRevision {
				t.Errorf("OfflineError = %+v (NotCachedError %+v), want option %v, env %q", oe, nc, tt.option, tt.env)
			}
			msg := err.Error()
			if !strings.Contains(msg, "offline mode is on") || !strings.Contains(msg, "models--gpt2") {
				t.Errorf("error %q does not say offline mode is on and what is missing", msg)
			}
			if tt.env != "" && !strings.Contains(msg, "set by "+tt.env) {
				t.Errorf("error %q does not name %s", msg, tt.env)
			}
			if strings.Contains(msg, "gptviz") || strings.Contains(msg, " --") {
				t.Errorf("error %q speaks the CLI's language", msg)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Fatalf("offline pull sent %d requests", n)
			}

			// Once cached, offline pulls return the snapshot without the network.
			online := opts
			online.Offline, online.Env = false, MapEnv(nil, "")
			dir, err := Pull(context.Background(), "gpt2", online)
			if err != nil {
				t.Fatal(err)
			}
			srv.Reset()
			got, err := Pull(context.Background(), "gpt2", opts)
			if err != nil || got != dir {
				t.Errorf("offline Pull of a cached model = %s, %v; want %s", got, err, dir)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("offline pull sent %d requests", n)
			}
		})
	}
}

func TestPullBadInput(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	tests := []struct {
		name, model, rev, endpoint string
	}{
		{"path as name", "../gpt2", "", ""},
		{"absolute path", "/etc/passwd", "", ""},
		{"revision with ..", "gpt2", "../../etc", ""},
		{"revision with space", "gpt2", "main branch", ""},
		{"ftp endpoint", "gpt2", "", "ftp://example.com"},
		{"endpoint without host", "gpt2", "", "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, _ := testOptions(t, srv)
			opts.Revision = tt.rev
			if tt.endpoint != "" {
				opts.Endpoint = tt.endpoint
			}
			srv.Reset()
			if _, err := Pull(context.Background(), tt.model, opts); !errors.Is(err, ErrBadName) {
				t.Errorf("err = %v, want ErrBadName", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests sent for bad input", n)
			}
		})
	}
}

// TestPullEndpointNotAURL: a malformed endpoint used to read "invalid name:
// endpoint …"; the message now names the setting it came from.
func TestPullEndpointNotAURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, endpoint, env string
		source              EndpointSource
		want                string
	}{
		{"option", "not a url", "", EndpointOption, `endpoint "not a url": not an http(s) URL such as https://huggingface.co`},
		{"ftp option", "ftp://example.com", "", EndpointOption, `endpoint "ftp://example.com": not an http(s) URL`},
		{"HF_ENDPOINT", "", "hf-mirror.com", EndpointEnv, `HF_ENDPOINT "hf-mirror.com": not an http(s) URL`},
		// Found by FuzzParseEndpoint: an empty query was accepted, and every
		// file URL then put the repo path in the query ("https://h/?/gpt2/resolve/…").
		{"empty query", "https://hf-mirror.com/?", "", EndpointOption, `endpoint "https://hf-mirror.com/?": not an http(s) URL`},
		// Found by FuzzParseEndpoint: an empty fragment ("http://0/#") was
		// accepted as "http://0/", which parses again as "http://0".
		{"empty fragment", "https://hf-mirror.com/#", "", EndpointOption, `endpoint "https://hf-mirror.com/#": not an http(s) URL`},
		// Found by FuzzParseEndpoint in CI: a space makes url.Parse drop the
		// raw path, so %2F decoded to a trailing '/' that a second parse trims.
		{"path escape lost", "http://0/0 0000%2F", "", EndpointOption, `endpoint "http://0/0 0000%2F": its path prints back as http://0/0%200000/, a different endpoint`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := PullOptions{Endpoint: tt.endpoint, CacheDir: t.TempDir(),
				Env: MapEnv(map[string]string{"HF_ENDPOINT": tt.env}, "")}
			_, err := Pull(context.Background(), "gpt2", opts)
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("err = %v, want ErrBadName", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to start with %q", err, tt.want)
			}
			var ee *EndpointError
			if !errors.As(err, &ee) || ee.Source != tt.source || ee.Endpoint != tt.endpoint+tt.env {
				t.Errorf("err = %#v, want an *EndpointError from %v", err, tt.source)
			}
		})
	}
}

// TestBadNameAlwaysWrapsErrBadName: "report --download --model ../x"
// exited 1 where a malformed name is a usage error (exit 2); the CLI maps
// ErrBadName to exit 2, so every rejection of user input by Pull and
// Resolve must wrap it, whatever the mode (offline, with a token, whose
// redaction must keep the chain).
func TestBadNameAlwaysWrapsErrBadName(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	names := []string{"../x", "a/b/c", "with space", "x--y", "-x", "", "org/" + strings.Repeat("n", 100)}
	modes := map[string]func(*PullOptions){
		"online":     func(*PullOptions) {},
		"offline":    func(o *PullOptions) { o.Offline = true },
		"with token": func(o *PullOptions) { o.Token = "hf_abc" },
		// The "with space" message contains this token: it is redacted.
		"token in the name": func(o *PullOptions) { o.Token = "space" },
	}
	for mode, apply := range modes {
		for _, name := range names {
			opts, _ := testOptions(t, srv)
			apply(&opts)
			if _, err := Pull(context.Background(), name, opts); !errors.Is(err, ErrBadName) {
				t.Errorf("%s: Pull(%q): err = %v, want ErrBadName", mode, name, err)
			}
		}
		opts, _ := testOptions(t, srv)
		apply(&opts)
		opts.Revision = "../../etc"
		if _, err := Pull(context.Background(), "gpt2", opts); !errors.Is(err, ErrBadName) {
			t.Errorf("%s: Pull with revision ../../etc: err = %v, want ErrBadName", mode, err)
		}
	}
	for _, name := range []string{"with space", "x--y", "-x", ""} { // not paths: Resolve validates them as repo ids
		if _, err := Resolve(name, ResolveOptions{CacheDir: t.TempDir()}); !errors.Is(err, ErrBadName) {
			t.Errorf("Resolve(%q): err = %v, want ErrBadName", name, err)
		}
	}
	if _, err := Resolve("gpt2", ResolveOptions{CacheDir: t.TempDir(), Revision: "a b"}); !errors.Is(err, ErrBadName) {
		t.Errorf("Resolve with revision \"a b\": err = %v, want ErrBadName", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

// refusedURL returns the URL of a local port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestPullFailsFastWhenEndpointRefuses: a refused connection to the
// endpoint used to be retried for about 31 s (1+2+4+8+16) before the pull
// gave up, and the hint named only HF_ENDPOINT even when the endpoint came
// from --endpoint. It is now tried once and the hint names its source.
func TestPullFailsFastWhenEndpointRefuses(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	refused := refusedURL(t)
	tests := []struct {
		name   string
		apply  func(*PullOptions)
		source EndpointSource
		want   string
	}{
		{"option", func(o *PullOptions) { o.Endpoint = refused }, EndpointOption, "check the network connection and the endpoint (" + refused + ")"},
		{"HF_ENDPOINT", func(o *PullOptions) {
			o.Endpoint, o.Env = "", MapEnv(map[string]string{"HF_ENDPOINT": refused}, "")
		}, EndpointEnv, "check the network connection and HF_ENDPOINT (" + refused + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, progress := testOptions(t, srv)
			opts.retryWait = time.Second // a retry would show in the dial count, not as a slow test
			dials := 0
			d := &net.Dialer{}
			opts.Client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials++
				return d.DialContext(ctx, network, addr)
			}}}
			tt.apply(&opts)
			_, err := Pull(context.Background(), "gpt2", opts)
			if err == nil {
				t.Fatal("Pull from a refused endpoint succeeded")
			}
			for _, w := range []string{"gpt2/config.json", "cannot reach " + refused + ": connection refused", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			ue, ok := err.(*UnreachableError) // not wrapped: the CLI rewords it from its fields
			if !ok || ue.Endpoint != refused || ue.Source != tt.source || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("err = %#v, want an *UnreachableError from %v ending with the hint", err, tt.source)
			}
			if dials != 1 {
				t.Errorf("%d connection attempts, want 1", dials)
			}
			if strings.Contains(progress.String(), "retrying") {
				t.Errorf("a refused connection was retried:\n%s", progress)
			}
		})
	}
}

func TestPullFallsBackToCacheWhenHubUnreachable(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	opts, progress := testOptions(t, srv)
	dir, err := Pull(context.Background(), "gpt2", opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Endpoint = "http://127.0.0.1:1" // nothing listens there
	opts.Retries = 1
	got, err := Pull(context.Background(), "gpt2", opts)
	if err != nil || got != dir {
		t.Fatalf("Pull with the hub unreachable = %s, %v; want the cached %s", got, err, dir)
	}
	if !strings.Contains(progress.String(), "cannot reach http://127.0.0.1:1") {
		t.Errorf("progress does not say the hub was unreachable:\n%s", progress)
	}
	// Another revision is not cached: the error says what to check.
	opts.Revision = "v2"
	if _, err := Pull(context.Background(), "gpt2", opts); err == nil || !strings.Contains(err.Error(), "check the network") {
		t.Errorf("err = %v, want advice to check the network", err)
	}
}

func TestPullCanceled(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, gpt2Repo())
	opts, _ := testOptions(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Pull(ctx, "gpt2", opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestIsHub(t *testing.T) {
	t.Parallel()
	p := &puller{}
	p.endpoint, _ = parseEndpoint("http://127.0.0.1:8080", EndpointOption)
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/gpt2/resolve/main/config.json", true},
		{"http://127.0.0.1:9090/cdn/x", false},
		{"https://127.0.0.1:8080/x", false},
		{"https://huggingface.co/gpt2/resolve/main/config.json", true},
		{"https://HF.co/x", true},
		{"https://huggingface.co:443/x", true},
		{"http://huggingface.co/x", false},
		{"https://huggingface.co:8443/x", false},
		{"https://cdn-lfs.hf.co/repos/x", false},
		{"https://cas-bridge.xethub.hf.co/x", false},
		{"https://huggingface.co.evil.example/x", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		if got := p.isHub(u); got != tt.want {
			t.Errorf("isHub(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	base := fmt.Errorf("wrapped: %w", ErrAccess)
	err := redact(fmt.Errorf("token abc123 leaked: %w", base), "abc123")
	if strings.Contains(err.Error(), "abc123") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("redact: %q", err)
	}
	if !errors.Is(err, ErrAccess) {
		t.Error("redact lost the error chain")
	}
	if redact(base, "") != base || redact(nil, "x") != nil {
		t.Error("redact changed an error without the secret")
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPullWaitsForLock(t *testing.T) {
	defer func(d time.Duration) { lockPoll = d }(lockPoll)
	lockPoll = 5 * time.Millisecond
	repo := gpt2Repo()
	srv := hubtest.NewServer(t, repo)
	opts, _ := testOptions(t, srv)
	var progress syncBuffer
	opts.Progress = &progress

	// Another process (huggingface_hub, or a second gptviz) is downloading
	// the weights: it holds the blob's lock file.
	lockPath := filepath.Join(opts.CacheDir, ".locks", RepoFolder("openai-community/gpt2"), hubtest.SHA256(repo.Files["model.safetensors"])+".lock")
	os.MkdirAll(filepath.Dir(lockPath), 0o755)
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := tryLock(f); !ok || err != nil {
		t.Fatalf("tryLock = %v, %v", ok, err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := Pull(context.Background(), "openai-community/gpt2", opts)
		done <- err
	}()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(progress.String(), "waiting for another download") {
		select {
		case err := <-done:
			t.Fatalf("Pull finished (%v) while the lock was held", err)
		case <-deadline:
			t.Fatal("Pull never said it was waiting for the lock")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if n := srv.Count("cdn", "GET"); n != 0 {
		t.Errorf("the weights were downloaded while locked (%d CDN GETs)", n)
	}
	unlockFile(f)
	if err := <-done; err != nil {
		t.Fatalf("Pull after the lock was released: %v", err)
	}
}
