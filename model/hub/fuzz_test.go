package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gptviz/gptviz/model/arch"
	"github.com/gptviz/gptviz/model/hub/hubtest"
)

const fuzzToken = "hf_fuzzSecretToken"

// fuzzPuller is a puller as newPuller makes it, without files or network.
func fuzzPuller(t testing.TB) *puller {
	ep, err := parseEndpoint("https://hub.example", EndpointDefault)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("cache", RepoFolder("openai-community/gpt2"))
	return &puller{name: "gpt2", repo: "openai-community/gpt2", rev: "main", cache: "cache", root: root, endpoint: ep, token: fuzzToken}
}

// FuzzResponseHeaders feeds the hub's answer headers (X-Repo-Commit,
// X-Linked-Etag, ETag, X-Linked-Size, Content-Length, X-Error-Code,
// X-Error-Message) and status to parseMeta and statusError. parseMeta
// accepts only what names a blob safely inside blobs/ (a valid commit, a
// file-name ETag, a size ≥ -1, a SHA-256 only for a 64-hex LFS ETag);
// statusError classifies every status the way Pull's retries rely on, keeps
// the hub's message short, and no message shows the token.
func FuzzResponseHeaders(f *testing.F) {
	lfs := strings.Repeat("ab", 32)
	f.Add(200, commitA, lfs, `"`+commitB+`"`, "300000", int64(-1), "", "")
	f.Add(302, commitA, "", `W/"`+commitB+`"`, "", int64(12), "", "")
	f.Add(200, "", "", "", "", int64(0), "", "")
	f.Add(200, commitA, "../../etc/passwd", "", "-1", int64(-1), "", "")
	f.Add(404, commitA, "", "", "", int64(-1), "RepoNotFound", "Repository Not Found "+fuzzToken)
	f.Add(503, "", "", "", "", int64(-1), "", "busy")
	f.Add(403, "", "", "", "", int64(-1), "GatedRepo", strings.Repeat("x", 500))
	f.Fuzz(func(t *testing.T, status int, commit, linkedEtag, etag, linkedSize string, contentLength int64, code, msg string) {
		p := fuzzPuller(t)
		h := http.Header{}
		for k, v := range map[string]string{"X-Repo-Commit": commit, "X-Linked-Etag": linkedEtag, "ETag": etag,
			"X-Linked-Size": linkedSize, "X-Error-Code": code, "X-Error-Message": msg} {
			if v != "" {
				h.Set(k, v)
			}
		}
		resp := &http.Response{StatusCode: status, Header: h, ContentLength: contentLength}

		m := fileMeta{file: arch.WeightsFile, size: -1}
		if err := p.parseMeta(resp, &m); err == nil {
			if !IsCommitHash(m.commit) {
				t.Errorf("accepted commit %q", m.commit)
			}
			if !arch.ValidFileName(m.etag) || filepath.Dir(p.blobPath(m.etag)) != filepath.Join(p.root, "blobs") {
				t.Errorf("accepted ETag %q: blob path %s", m.etag, p.blobPath(m.etag))
			}
			if m.size < -1 {
				t.Errorf("size %d", m.size)
			}
			if n, err := strconv.ParseInt(linkedSize, 10, 64); linkedSize != "" && (err != nil || n != m.size) {
				t.Errorf("X-Linked-Size %q gave size %d", linkedSize, m.size)
			}
			if m.sha256 != "" && (m.sha256 != m.etag || !isHex(m.sha256, 64) || linkedEtag == "") {
				t.Errorf("SHA-256 %q for ETag %q", m.sha256, m.etag)
			}
		} else if strings.Contains(err.Error(), fuzzToken) {
			t.Errorf("message shows the token: %v", err)
		}

		if status < 400 {
			return
		}
		err := redact(p.statusError(resp, arch.WeightsFile), p.token)
		if err == nil {
			t.Fatal("no error for an error status")
		}
		var te *transientError
		notFound := code == "RepoNotFound" || code == "RevisionNotFound" || code == "EntryNotFound" || status == 404
		wantTransient := !notFound && status != 401 && status != 403 && (status == 429 || status >= 500)
		if errors.As(err, &te) != wantTransient {
			t.Errorf("status %d, code %q: transient = %v, want %v (%v)", status, code, !wantTransient, wantTransient, err)
		}
		if errors.Is(err, ErrNotFound) != notFound {
			t.Errorf("status %d, code %q: ErrNotFound = %v, want %v", status, code, !notFound, notFound)
		}
		if strings.Contains(err.Error(), fuzzToken) {
			t.Errorf("message shows the token: %v", err)
		}
		if len(err.Error()) > 1000+len(code) {
			t.Errorf("message of %d bytes", len(err.Error()))
		}
	})
}

// FuzzParseEndpoint: an accepted endpoint is an http(s) origin with an
// optional path and nothing else, parsing its own String gives it back, and
// the file URLs built on it stay on its origin (where the token goes); a
// rejected one wraps ErrBadName and names where it came from.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{DefaultEndpoint, "https://hf-mirror.com/", "http://127.0.0.1:8080/hub", "ftp://x", "https://user:pw@h",
		"https://h/?", "https://h#", "https://h/a%2Fb", "//h", "https:h", "https://[::1]:99/x/", " https://h", "http://0/0 0000%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseEndpoint(s, EndpointEnv)
		if err != nil {
			var ee *EndpointError
			if !errors.Is(err, ErrBadName) || !errors.As(err, &ee) || ee.Source != EndpointEnv || ee.Endpoint != s || !strings.HasPrefix(err.Error(), "HF_ENDPOINT ") {
				t.Errorf("error %v: want an *EndpointError naming HF_ENDPOINT and %q", err, s)
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("accepted %q as %#v", s, u)
		}
		again, err := parseEndpoint(u.String(), EndpointOption)
		if err != nil || again.String() != u.String() {
			t.Errorf("%q → %q → %v, %v", s, u, again, err)
		}
		p := &puller{endpoint: u, repo: "openai-community/gpt2"}
		raw := p.fileURL("refs/pr/1", arch.ConfigFile)
		fu, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("file URL %q: %v", raw, err)
		}
		if !sameOrigin(fu, u) || !p.isHub(fu) || fu.RawQuery != "" || fu.Fragment != "" ||
			!strings.HasSuffix(fu.Path, "/openai-community/gpt2/resolve/refs/pr/1/config.json") {
			t.Errorf("endpoint %q: file URL %q (host %q, path %q, query %q)", u, raw, fu.Host, fu.Path, fu.RawQuery)
		}
	})
}

// FuzzResolve runs Resolve on a generated cache: refs/<revision> holds
// fuzzed bytes, the snapshot folder has a fuzzed name and fuzzed files (of
// several kinds), the index fuzzed contents. Resolve never changes the
// cache; it returns a snapshot folder of the repo named by a commit hash
// (the one the ref holds) that holds every needed file, or an error
// wrapping ErrNotCached or ErrBadName.
func FuzzResolve(f *testing.F) {
	f.Add([]byte(commitA), "main", commitA, "", []byte(nil), uint8(0))
	f.Add([]byte(commitA+"\n"), "v1.0", commitA, "merges.txt", []byte(nil), uint8(4))
	f.Add([]byte("../../etc"), "main", "..", "config.json\nx", []byte(nil), uint8(1))
	f.Add([]byte(commitB), commitB, commitB, "s1.safetensors", []byte(`{"weight_map": {"a": "s1.safetensors"}}`), uint8(2))
	f.Add([]byte(commitA), "refs/pr/1", commitA, "s1.safetensors\ns2.safetensors", []byte(`{"weight_map": {"a": "s1.safetensors", "b": "../x.safetensors"}}`), uint8(10))
	f.Fuzz(func(t *testing.T, ref []byte, rev, snapName, names string, index []byte, kinds uint8) {
		base := t.TempDir()
		cache := filepath.Join(base, "cache")
		repo := "openai-community/gpt2"
		root := filepath.Join(cache, RepoFolder(repo))
		files := map[string][]byte{arch.ConfigFile: []byte(testConfig), arch.VocabFile: []byte(`{}`), arch.MergesFile: []byte("#version: 0.2\n"), arch.WeightsFile: []byte("weights")}
		mustDo(t, os.MkdirAll(filepath.Join(root, "blobs"), 0o755))
		for name, data := range files {
			mustDo(t, os.WriteFile(filepath.Join(root, "blobs", name), data, 0o644))
		}
		refName := "main"
		if ValidateRevision(rev) == nil && !IsCommitHash(rev) {
			refName = rev
		}
		refPath := filepath.Join(root, "refs", filepath.FromSlash(refName))
		if os.MkdirAll(filepath.Dir(refPath), 0o755) == nil {
			os.WriteFile(refPath, ref, 0o644)
		}
		if !localName(snapName) {
			snapName = commitA
		}
		snap := filepath.Join(root, "snapshots", snapName)
		mustDo(t, os.MkdirAll(snap, 0o755))
		if kinds&1 == 0 { // the usual links
			for name := range files {
				os.Symlink("../../blobs/"+name, filepath.Join(snap, name))
			}
		}
		if len(index) > 0 {
			os.WriteFile(filepath.Join(snap, arch.IndexFile), index, 0o644)
			if kinds&2 != 0 {
				os.Remove(filepath.Join(snap, arch.WeightsFile))
			}
		}
		for i, name := range strings.Split(names, "\n") {
			if !localName(name) {
				continue
			}
			p := filepath.Join(snap, name)
			os.RemoveAll(p)
			switch (int(kinds>>2) + i) % 4 {
			case 0:
				os.WriteFile(p, []byte("x"), 0o644)
			case 1:
				os.Mkdir(p, 0o755)
			case 2:
				os.Symlink("../../blobs/"+arch.WeightsFile, p)
			case 3:
				os.Symlink("../../blobs/missing", p)
			}
		}
		before := listTree(t, base)

		dir, err := Resolve(repo, ResolveOptions{CacheDir: cache, Revision: rev})

		if after := listTree(t, base); after != before {
			t.Errorf("Resolve changed the cache:\n%s\nbecame\n%s", before, after)
		}
		if err != nil {
			if !errors.Is(err, ErrNotCached) && !errors.Is(err, ErrBadName) {
				t.Errorf("error %v wraps neither ErrNotCached nor ErrBadName", err)
			}
			return
		}
		commit := filepath.Base(dir)
		if filepath.Dir(dir) != filepath.Join(root, "snapshots") || !IsCommitHash(commit) {
			t.Fatalf("Resolve returned %s", dir)
		}
		if want := strings.TrimSpace(string(ref)); !IsCommitHash(rev) && commit != want {
			t.Errorf("snapshot %s, refs/%s holds %q", commit, refName, want)
		}
		if IsCommitHash(rev) && commit != rev {
			t.Errorf("snapshot %s for commit %s", commit, rev)
		}
		need, err := snapshotFiles(dir, true)
		if err != nil {
			t.Fatalf("Resolve returned %s, whose files fail the check: %v", dir, err)
		}
		for _, n := range need {
			if !isFile(filepath.Join(dir, n)) || !localName(n) {
				t.Errorf("needed file %q is not a regular file in the snapshot", n)
			}
		}
	})
}

// localName reports whether name is one path element inside its folder.
func localName(name string) bool {
	return name != "" && filepath.IsLocal(name) && !strings.ContainsAny(name, `/\`+"\x00") && name != "."
}

// listTree describes every entry under root: path, type, size, link target.
func listTree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		target, _ := os.Readlink(p)
		fmt.Fprintf(&b, "%s %v %d %s\n", p, fi.Mode(), fi.Size(), target)
		return nil
	})
	return b.String()
}

// fuzzHeaders are the response headers FuzzPull may change.
var fuzzHeaders = []string{"X-Repo-Commit", "X-Linked-Etag", "ETag", "X-Linked-Size", "Content-Length", "Location",
	"Content-Range", "X-Error-Code", "X-Error-Message", "Last-Modified"}

// mutatingTransport reaches only the fake hub and its CDN (any other host
// is refused, so a fuzzed Location never reaches the network) and changes
// response number at (every later one too when every is set): its status,
// one header, its body.
type mutatingTransport struct {
	allowed map[string]bool // host:port
	at      int
	every   bool
	status  int
	header  string
	value   string
	body    []byte
	n       int
}

func (m *mutatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !m.allowed[req.URL.Host] {
		return nil, fmt.Errorf("dial %s: connection refused (not the fake hub)", req.URL.Host)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	i := m.n
	m.n++
	if i != m.at && !(m.every && i > m.at) {
		return resp, nil
	}
	if m.status != 0 {
		resp.StatusCode = m.status
		resp.Status = strconv.Itoa(m.status)
	}
	if m.header != "" {
		resp.Header.Set(m.header, m.value)
		if m.header == "Content-Length" {
			resp.ContentLength = -1
			if n, err := strconv.ParseInt(m.value, 10, 64); err == nil {
				resp.ContentLength = n
			}
		}
	}
	if len(m.body) > 0 && req.Method == http.MethodGet {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(m.body))
	}
	return resp, nil
}

// FuzzPull pulls from the fake hub while one of its answers (or every
// answer from one on) has a fuzzed status, header (ETag, X-Linked-Size,
// X-Repo-Commit, Content-Range, Location…) or body. Pull returns; it
// writes only inside the cache; every blob whose name is a hash holds
// contents with that hash, and every snapshot link points into blobs/; a
// snapshot it returns passes Resolve's checks; no message shows the token.
func FuzzPull(f *testing.F) {
	repo := gpt2Repo()
	repo.Files[arch.WeightsFile] = randomBytes(2, 3000)
	srv := hubtest.NewServer(f, repo)
	srv.Token = fuzzToken
	f.Add(uint8(255), false, 0, uint8(0), "", []byte(nil))
	f.Add(uint8(0), false, 503, uint8(0), "", []byte(nil))
	f.Add(uint8(0), true, 0, uint8(2), `"`+commitB+`"`, []byte(nil))
	f.Add(uint8(1), false, 0, uint8(1), strings.Repeat("0", 64), []byte(nil))
	f.Add(uint8(2), false, 0, uint8(3), "99999999999", []byte(nil))
	f.Add(uint8(3), false, 302, uint8(5), "https://huggingface.co/x", []byte(nil))
	f.Add(uint8(3), false, 206, uint8(6), "bytes 5-10/3000", []byte("hello"))
	f.Add(uint8(0), false, 0, uint8(0), "../../"+commitA, []byte(nil))
	f.Add(uint8(1), false, 200, uint8(8), fuzzToken, []byte("{}"))
	f.Fuzz(func(t *testing.T, at uint8, every bool, status int, header uint8, value string, body []byte) {
		hub, _ := url.Parse(srv.URL)
		cdn, _ := url.Parse(srv.CDNURL)
		tr := &mutatingTransport{allowed: map[string]bool{hub.Host: true, cdn.Host: true}, at: int(at), every: every,
			header: fuzzHeaders[int(header)%len(fuzzHeaders)], value: value, body: body}
		if header >= uint8(len(fuzzHeaders)) {
			tr.header = ""
		}
		if status != 0 {
			tr.status = 100 + int(math.Abs(float64(status%500)))
		}
		base := t.TempDir()
		cache := filepath.Join(base, "cache")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dir, err := Pull(ctx, repo.ID, PullOptions{Endpoint: srv.URL, Token: fuzzToken, CacheDir: cache, Env: MapEnv(nil, ""),
			Client: &http.Client{Transport: tr}, Retries: 2, retryWait: time.Millisecond, stallTimeout: 2 * time.Second})
		if ctx.Err() != nil {
			t.Fatalf("Pull did not return in 30 s: %v", err)
		}
		if err != nil && strings.Contains(err.Error(), fuzzToken) {
			t.Errorf("message shows the token: %v", err)
		}
		if ents, _ := os.ReadDir(base); len(ents) > 1 {
			t.Errorf("Pull wrote beside the cache: %v", ents)
		}
		checkCacheIntegrity(t, cache)
		if err == nil {
			if filepath.Dir(dir) != filepath.Join(cache, RepoFolder(repo.ID), "snapshots") {
				t.Errorf("Pull returned %s", dir)
			}
			if err := checkSnapshot(dir, true); err != nil {
				t.Errorf("Pull returned %s: %v", dir, err)
			}
		}
	})
}

// checkCacheIntegrity checks every blob named by a hash against its
// contents and every snapshot entry's link.
func checkCacheIntegrity(t *testing.T, cache string) {
	t.Helper()
	blobs, _ := filepath.Glob(filepath.Join(cache, "models--*", "blobs", "*"))
	for _, b := range blobs {
		if strings.HasSuffix(b, ".incomplete") {
			continue
		}
		if problem, err := blobDamage(b, filepath.Base(b)); problem != "" || err != nil {
			t.Errorf("blob %s: %s %v", filepath.Base(b), problem, err)
		}
	}
	links, _ := filepath.Glob(filepath.Join(cache, "models--*", "snapshots", "*", "*"))
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil {
			continue // a copy
		}
		if filepath.Dir(target) != filepath.Join("..", "..", "blobs") || !arch.ValidFileName(filepath.Base(target)) {
			t.Errorf("%s -> %s, not into blobs/", l, target)
		}
	}
}
