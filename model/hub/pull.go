package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gptviz/gptviz/internal/atomicfile"
	"github.com/gptviz/gptviz/internal/inputfile"
	"github.com/gptviz/gptviz/model/arch"
)

// DefaultEndpoint is the Hugging Face Hub's address; HF_ENDPOINT or
// PullOptions.Endpoint select a mirror instead.
const DefaultEndpoint = "https://huggingface.co"

// userAgent identifies gptviz to the hub.
const userAgent = "gptviz (Go; +https://github.com/gptviz/gptviz)"

// PullOptions tunes Pull. The zero value downloads revision "main" from the
// endpoint and with the token the environment names, into the cache the
// environment names, silently.
type PullOptions struct {
	// Endpoint is the hub's base URL, http or https, such as
	// "https://hf-mirror.com". "" means $HF_ENDPOINT, else DefaultEndpoint.
	// Errors about it say where it came from (EndpointSource), so that a
	// program can name its own setting.
	Endpoint string
	// Token is a Hugging Face access token, sent as "Authorization: Bearer"
	// only to the endpoint's origin and to the Hub itself (https://huggingface.co,
	// https://hf.co, where a mirror may redirect), never to a CDN or any
	// other host a redirect leads to. It is never printed, and is redacted
	// from error messages. "" means $HF_TOKEN,
	// else $HUGGING_FACE_HUB_TOKEN, else the file $HF_TOKEN_PATH or
	// $HF_HOME/token that "huggingface-cli login" writes, else no token.
	Token string
	// Revision is a branch, tag or commit hash; "" means DefaultRevision.
	Revision string
	// Offline forbids network access: Pull returns the cached snapshot,
	// after checking each of its files against the hash its blob is named
	// by (a *DamagedError if one differs), or an *OfflineError.
	// $HF_HUB_OFFLINE set to 1, true, yes or on does the same.
	Offline bool
	// Client makes the HTTP requests; nil means a client with connection
	// timeouts that honours HTTPS_PROXY. Pull follows redirects itself (its
	// CheckRedirect is not used) so that the token stays on the endpoint.
	Client *http.Client
	// Progress receives progress: a progress bar when it is a terminal,
	// otherwise a line per file and at most one more every 5 s. nil is
	// silent.
	Progress io.Writer
	// CacheDir is the hub cache folder; "" means CacheDir(Env).
	CacheDir string
	// Env is where environment variables and the home folder are read.
	Env Env
	// Retries is how many times in a row a request that failed without
	// making progress (network error, dropped connection, HTTP 429 or 5xx)
	// is retried, waiting 1 s, 2 s, 4 s… between tries; 0 means 5. A
	// refused connection to the endpoint and an unknown host name are not
	// retried: the endpoint is wrong or down, and waiting will not help.
	Retries int

	retryWait    time.Duration    // first wait between retries; 0 means 1 s
	stallTimeout time.Duration    // a download receiving nothing this long is retried; 0 means 60 s
	now          func() time.Time // clock for progress lines; nil means time.Now
}

// Pull downloads the GPT-2 checkpoint name (a known short name such as
// "gpt2", or a repo id "org/name"; see RepoIDs) at opts.Revision into the
// Hugging Face cache and returns its snapshot folder, which Resolve would
// return from then on.
//
// It downloads config.json (first; a config arch.ParseConfig rejects stops
// the pull with ErrNotGPT2), vocab.json, merges.txt and model.safetensors,
// or, where the repo has no model.safetensors, model.safetensors.index.json
// and every shard it names. For each file it sends HEAD
// {endpoint}/{repo}/resolve/{revision}/{file}, takes the commit (X-Repo-Commit),
// the blob name (X-Linked-Etag for LFS files, which is their SHA-256, else
// ETag) and the size (X-Linked-Size, else Content-Length), and downloads only
// when blobs/<etag> is not already there with that size and contents that
// hash to its name (SHA-256 for LFS files, git SHA-1 for regular files; a
// damaged blob is downloaded again). The HEAD request
// follows the hub's own redirects (renamed repos, /api/resolve-cache/…) but
// not the LFS redirect to a CDN, whose headers describe the file. Every
// download and every file after the first is requested at the commit the
// first HEAD reported, so a branch moving mid-pull cannot mix two versions.
//
// A download goes to blobs/<etag>.incomplete, resumes with an HTTP Range
// request (If-Range guarded) after a dropped connection, and is renamed into
// place only after its size and hash match (SHA-256 for LFS files, git
// SHA-1 for regular files whose ETag is one; the size alone for any other
// ETag a mirror may send). The
// snapshot's symlinks (snapshots/<commit>/<file> → ../../blobs/<etag>) and
// refs/<revision> are written after every file is verified, so a failed pull
// leaves no visible snapshot; a later Pull resumes from the .incomplete files
// and reuses the verified blobs. A model already cached under either of its
// repo ids (gpt2 and openai-community/gpt2) is updated in place.
//
// Where Pull returns a cached snapshot without downloading (offline mode, a
// commit hash already cached, the hub unreachable) it first checks each of
// the checkpoint's files against the hash its blob is named by; this reads
// every byte (one to a few seconds per GB), which is why Resolve does not.
//
// Errors wrap ErrBadName (bad name or revision; a bad endpoint is an
// *EndpointError), ErrOffline (an *OfflineError), ErrNotFound (404: the
// message names the repo, file and revision), ErrAccess (401/403: the
// message says a token, HF_TOKEN, is needed or lacks access), ErrIntegrity
// (size or hash mismatch; a damaged cached snapshot is a *DamagedError) or
// ErrNotGPT2. Network failures are retried (opts.Retries) before they are
// returned, except a refused connection to the endpoint, which fails at
// once; either way the error is an *UnreachableError, not wrapped further,
// naming the endpoint and where it came from. No error message contains the
// token.
//
// Files of the cache it reads whole (the token file, refs, config.json,
// the weights index) go through internal/inputfile: regular files only,
// at most maxTokenBytes, maxRefBytes, arch.MaxConfigBytes and
// arch.MaxIndexBytes.
func Pull(ctx context.Context, name string, opts PullOptions) (string, error) {
	p, repos, err := newPuller(name, opts)
	if err != nil {
		return "", redact(err, p.tokenOrEmpty())
	}
	dir, err := p.pull(ctx, repos)
	return dir, redact(err, p.token)
}

// puller holds one Pull's settings.
type puller struct {
	name     string         // the name as the user gave it
	repo     string         // repo id used in URLs and the cache folder name
	rev      string         // revision as asked for
	cache    string         // hub cache folder
	root     string         // cache/models--…
	endpoint *url.URL       // hub base URL, without a trailing "/"
	epFrom   EndpointSource // where endpoint came from
	commit   string         // commit the revision resolved to, once known
	token    string
	offline  bool   // offline mode is on
	offOpt   bool   // PullOptions.Offline turned it on
	offEnv   string // "HF_HUB_OFFLINE" when that variable turned it on
	client   *http.Client
	prog     *progressSink
	retries  int
	wait     time.Duration
	stall    time.Duration
}

func (p *puller) tokenOrEmpty() string {
	if p == nil {
		return ""
	}
	return p.token
}

func newPuller(name string, opts PullOptions) (*puller, []string, error) {
	p := &puller{name: name, retries: opts.Retries, wait: opts.retryWait, stall: opts.stallTimeout}
	env := opts.Env
	p.token = opts.Token
	if p.token == "" {
		p.token = envToken(env)
	}
	repos, err := RepoIDs(name)
	if err != nil {
		return p, nil, err
	}
	p.rev = opts.Revision
	if p.rev == "" {
		p.rev = DefaultRevision
	}
	if err := ValidateRevision(p.rev); err != nil {
		return p, nil, err
	}
	p.offOpt = opts.Offline
	if isTrue(env.get("HF_HUB_OFFLINE")) {
		p.offEnv = "HF_HUB_OFFLINE"
	}
	p.offline = p.offOpt || p.offEnv != ""
	ep := opts.Endpoint
	switch {
	case ep != "":
		p.epFrom = EndpointOption
	default:
		if ep = env.get("HF_ENDPOINT"); ep != "" {
			p.epFrom = EndpointEnv
		} else {
			ep = DefaultEndpoint
		}
	}
	if p.endpoint, err = parseEndpoint(ep, p.epFrom); err != nil {
		return p, nil, err
	}
	p.cache = opts.CacheDir
	if p.cache == "" {
		if p.cache, err = CacheDir(env); err != nil {
			return p, nil, err
		}
	}
	p.client = redirectlessClient(opts.Client)
	p.prog = newProgressSink(opts.Progress, opts.now)
	if p.retries <= 0 {
		p.retries = 5
	}
	if p.wait <= 0 {
		p.wait = time.Second
	}
	if p.stall <= 0 {
		p.stall = 60 * time.Second
	}
	// Keep adding to a copy the user already has under either repo id.
	p.repo = repos[0]
	for _, r := range repos {
		root := filepath.Join(p.cache, RepoFolder(r))
		if isFile(filepath.Join(root, "refs", filepath.FromSlash(p.rev))) ||
			IsCommitHash(p.rev) && dirExists(filepath.Join(root, "snapshots", p.rev)) {
			p.repo = r
			break
		}
	}
	p.root = filepath.Join(p.cache, RepoFolder(p.repo))
	return p, repos, nil
}

// envToken finds a token the way huggingface_hub does, minus its keyring.
func envToken(env Env) string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(env.get(k)); v != "" {
			return v
		}
	}
	path := env.get("HF_TOKEN_PATH")
	if path == "" {
		h, err := env.hfHome()
		if err != nil {
			return ""
		}
		path = filepath.Join(h, "token")
	} else if p, err := env.expandHome(path); err == nil {
		path = p
	}
	b, err := inputfile.ReadFile(path, maxTokenBytes)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// isTrue reads a boolean variable as huggingface_hub's _is_true does.
func isTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// parseEndpoint checks a hub URL that came from from; the error is an
// *EndpointError.
func parseEndpoint(s string, from EndpointSource) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	// An empty fragment ("https://h/#") parses as none but leaves the path
	// "/", which a second parse would trim (found by FuzzParseEndpoint):
	// any '#' is refused.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" || strings.Contains(s, "#") {
		return nil, &EndpointError{Endpoint: s, Source: from, Problem: "not an http(s) URL such as " + DefaultEndpoint}
	}
	// A path whose escaping url.Parse cannot keep ("/a b%2F" loses its raw
	// form, so %2F decodes to a trailing '/') would name another endpoint
	// when printed and parsed again (found by FuzzParseEndpoint): only
	// endpoints that survive that round trip are accepted.
	if again, err := url.Parse(strings.TrimRight(u.String(), "/")); err != nil || again.String() != u.String() {
		return nil, &EndpointError{Endpoint: s, Source: from, Problem: "its path prints back as " + u.String() + ", a different endpoint: escape the path consistently"}
	}
	return u, nil
}

// redirectlessClient copies c (or builds a default client) so that redirects
// come back to Pull, which decides per hop whether the token may go along.
func redirectlessClient(c *http.Client) *http.Client {
	var cc http.Client
	if c != nil {
		cc = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 30 * time.Second
		t.ResponseHeaderTimeout = 60 * time.Second
		cc.Transport = t
	}
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// sameOrigin reports whether u is on the endpoint's scheme and host:port.
func sameOrigin(u, endpoint *url.URL) bool {
	return strings.EqualFold(u.Scheme, endpoint.Scheme) && strings.EqualFold(u.Host, endpoint.Host)
}

// hubHosts are the Hugging Face Hub's own hosts (https only). A mirror given
// as the endpoint may redirect to them (hf-mirror.com does).
var hubHosts = []string{"huggingface.co", "hf.co"}

// isHub reports whether u is the endpoint's origin or the Hugging Face Hub
// itself: the only places the token is sent, and the only redirects a HEAD
// request follows. CDN hosts (cdn-lfs.hf.co, cas-bridge.xethub.hf.co, or
// any other) are not.
func (p *puller) isHub(u *url.URL) bool {
	if sameOrigin(u, p.endpoint) {
		return true
	}
	if !strings.EqualFold(u.Scheme, "https") || u.Port() != "" && u.Port() != "443" {
		return false
	}
	for _, h := range hubHosts {
		if strings.EqualFold(u.Hostname(), h) {
			return true
		}
	}
	return false
}

// pull runs the download (see Pull) and, when the network failed, returns
// an *UnreachableError, whose message says what to check. Its Err is
// already redacted, so that a caller may reword the error from its fields.
func (p *puller) pull(ctx context.Context, repos []string) (string, error) {
	dir, err := p.pullFiles(ctx, repos)
	var ne *netError
	if errors.As(err, &ne) && ctx.Err() == nil {
		err = &UnreachableError{Endpoint: p.endpoint.String(), Source: p.epFrom, Err: redact(err, p.token)}
	}
	return dir, err
}

// pullFiles downloads what is missing; see Pull.
func (p *puller) pullFiles(ctx context.Context, repos []string) (string, error) {
	if p.offline {
		dir, repo, err := findCached(p.cache, p.name, repos, p.rev)
		if err != nil {
			return "", &OfflineError{Name: p.name, Option: p.offOpt, Env: p.offEnv, Err: err}
		}
		if err := p.verifySnapshot(dir, repo); err != nil {
			return "", err
		}
		return dir, nil
	}
	if IsCommitHash(p.rev) {
		// A commit never changes: a complete, intact snapshot needs no network.
		if dir, repo, err := findCached(p.cache, p.name, repos, p.rev); err == nil {
			verr := p.verifySnapshot(dir, repo)
			if verr == nil {
				p.prog.note("%s: snapshot %s is already complete in the cache", p.name, p.rev)
				return dir, nil
			}
			p.prog.note("%v; downloading again", verr)
		}
	}

	type staged struct{ file, etag string }
	var links []staged
	get := func(rev, file string) (fileMeta, error) {
		m, err := p.head(ctx, rev, file)
		if err != nil {
			return m, err
		}
		if p.commit != "" && m.commit != p.commit {
			return m, fmt.Errorf("%s: asked for commit %s, the hub answered for commit %s", p.where(file), p.commit, m.commit)
		}
		if err := p.fetch(ctx, &m); err != nil {
			return m, err
		}
		links = append(links, staged{file, m.etag})
		return m, nil
	}

	cfg, err := get(p.rev, arch.ConfigFile)
	var ne *netError
	if errors.As(err, &ne) && ctx.Err() == nil {
		// The hub is unreachable. Like huggingface_hub, fall back to a
		// complete cached snapshot of the revision, saying so.
		if dir, repo, cerr := findCached(p.cache, p.name, repos, p.rev); cerr == nil {
			if verr := p.verifySnapshot(dir, repo); verr != nil {
				return "", fmt.Errorf("%w; the cached copy cannot be used instead: %w", err, verr)
			}
			p.prog.note("cannot reach %s (%v); using the cached snapshot %s", p.endpoint, ne, dir)
			return dir, nil
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	commit := cfg.commit
	p.commit = commit
	data, err := inputfile.ReadFile(p.blobPath(cfg.etag), arch.MaxConfigBytes)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", p.repo, err)
	}
	if _, err := arch.ParseConfig(data); err != nil {
		return "", fmt.Errorf("%w: %s/%s (revision %s): %w", ErrNotGPT2, p.repo, arch.ConfigFile, p.rev, err)
	}
	for _, f := range []string{arch.VocabFile, arch.MergesFile} {
		if _, err := get(commit, f); err != nil {
			return "", err
		}
	}
	if _, err := get(commit, arch.WeightsFile); err != nil {
		var nf *notFoundError
		if !errors.As(err, &nf) || !nf.entry {
			return "", err
		}
		idx, err2 := get(commit, arch.IndexFile)
		if err2 != nil {
			var nf2 *notFoundError
			if errors.As(err2, &nf2) && nf2.entry {
				return "", fmt.Errorf("%w: %s (revision %s) has neither %s nor %s (gptviz reads safetensors weights only)",
					ErrNotFound, p.repo, p.rev, arch.WeightsFile, arch.IndexFile)
			}
			return "", err2
		}
		b, err := inputfile.ReadFile(p.blobPath(idx.etag), arch.MaxIndexBytes)
		if err != nil {
			return "", fmt.Errorf("pull %s: %w", p.repo, err)
		}
		index, err := arch.ParseIndex(b)
		if err != nil {
			return "", fmt.Errorf("%s/%s (revision %s): %w", p.repo, arch.IndexFile, p.rev, err)
		}
		for _, s := range index.Shards {
			if _, err := get(commit, s); err != nil {
				return "", err
			}
		}
	}

	// Every file is verified: make the snapshot visible, then point the ref at it.
	snap := filepath.Join(p.root, "snapshots", commit)
	if err := os.MkdirAll(snap, dirPerm); err != nil {
		return "", fmt.Errorf("pull %s: %w", p.repo, err)
	}
	for _, l := range links {
		if err := p.link(snap, l.file, l.etag); err != nil {
			return "", err
		}
	}
	if p.rev != commit {
		ref := filepath.Join(p.root, "refs", filepath.FromSlash(p.rev))
		if err := writeCacheFile(ref, []byte(commit)); err != nil {
			return "", fmt.Errorf("pull %s: write refs/%s: %w", p.repo, p.rev, err)
		}
	}
	if err := checkSnapshot(snap, true); err != nil {
		return "", fmt.Errorf("pull %s: snapshot %s: %w", p.repo, snap, err)
	}
	return snap, nil
}

// fileMeta is what a HEAD request tells about one file.
type fileMeta struct {
	file   string // name in the repo
	rev    string // revision it was asked at
	url    string // resolve URL to GET
	commit string // X-Repo-Commit
	etag   string // blob name: X-Linked-Etag or ETag, unquoted
	size   int64  // bytes; -1 if the hub did not say
	sha256 string // expected SHA-256 in hex, for LFS files
}

func (p *puller) blobPath(etag string) string { return filepath.Join(p.root, "blobs", etag) }

// fileURL is {endpoint}/{repo}/resolve/{rev}/{file}.
func (p *puller) fileURL(rev, file string) string {
	return p.endpoint.String() + "/" + p.repo + "/resolve/" + url.PathEscape(rev) + "/" + file
}

func identityHeader() http.Header {
	// No transparent gzip: sizes and ranges must be those of the file.
	return http.Header{"Accept-Encoding": {"identity"}}
}

// do sends one request and follows redirects while follow allows it,
// attaching the token only on the endpoint's origin. Network errors are
// transient.
func (p *puller) do(ctx context.Context, method, rawURL string, hdr http.Header, follow func(*http.Response, *url.URL) bool) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	for hops := 0; ; hops++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", userAgent)
		if p.token != "" && p.isHub(u) {
			req.Header.Set("Authorization", "Bearer "+p.token)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			var dns *net.DNSError
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &dns) && dns.IsNotFound:
				return nil, &netError{err: err} // retrying will not make the name exist
			case isRefused(err) && sameOrigin(u, p.endpoint):
				// Nothing listens there: a wrong endpoint or HF_ENDPOINT,
				// or a mirror that is down. Fail at once, not after 31 s of retries.
				return nil, &netError{msg: fmt.Sprintf("cannot reach %s: connection refused", p.endpoint), err: err}
			}
			return nil, transient(&netError{err: err})
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 || resp.StatusCode == http.StatusNotModified {
			return resp, nil
		}
		loc, err := resp.Location()
		if err != nil || !follow(resp, loc) {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if hops >= 10 {
			return nil, fmt.Errorf("%s %s: more than 10 redirects", method, rawURL)
		}
		if loc.Scheme != "http" && loc.Scheme != "https" {
			return nil, fmt.Errorf("%s %s: redirect to a non-http URL", method, rawURL)
		}
		u = loc
	}
}

// head asks the hub about file at rev.
func (p *puller) head(ctx context.Context, rev, file string) (fileMeta, error) {
	m := fileMeta{file: file, rev: rev, url: p.fileURL(rev, file), size: -1}
	err := p.retry(ctx, file, func() (bool, error) {
		commit := ""
		resp, err := p.do(ctx, http.MethodHead, m.url, identityHeader(), func(r *http.Response, loc *url.URL) bool {
			// Follow the hub's own redirects (a renamed repo, gpt2 →
			// openai-community/gpt2; /api/resolve-cache/… for regular
			// files; a mirror sending us to huggingface.co) but stop at the
			// LFS redirect to the CDN: its headers describe the file.
			if c := r.Header.Get("X-Repo-Commit"); c != "" {
				commit = c
			}
			return r.Header.Get("X-Linked-Etag") == "" && p.isHub(loc)
		})
		if err != nil {
			return false, fmt.Errorf("%s: %w", p.where(file), err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return false, p.statusError(resp, file)
		}
		if resp.Header.Get("X-Repo-Commit") == "" && commit != "" {
			resp.Header.Set("X-Repo-Commit", commit) // said on an earlier hop only
		}
		return false, p.parseMeta(resp, &m)
	})
	if err == nil {
		// Download exactly the commit the HEAD answer described, even if
		// the branch moves meanwhile.
		m.url = p.fileURL(m.commit, file)
	}
	return m, err
}

// where names a file for messages: "openai-community/gpt2/config.json
// (revision main)", with the commit once it is known.
func (p *puller) where(file string) string {
	if p.commit != "" && p.commit != p.rev {
		return fmt.Sprintf("%s/%s (revision %s, commit %.12s)", p.repo, file, p.rev, p.commit)
	}
	return fmt.Sprintf("%s/%s (revision %s)", p.repo, file, p.rev)
}

func (p *puller) parseMeta(resp *http.Response, m *fileMeta) error {
	h := resp.Header
	m.commit = h.Get("X-Repo-Commit")
	if !IsCommitHash(m.commit) {
		return fmt.Errorf("%s: the hub's answer has no valid X-Repo-Commit header (got %q); is %s a Hugging Face endpoint?",
			p.where(m.file), truncate(m.commit, 60), p.endpoint)
	}
	etag, lfs := h.Get("X-Linked-Etag"), true
	if etag == "" {
		etag, lfs = h.Get("ETag"), false
	}
	etag = normalizeETag(etag)
	if !arch.ValidFileName(etag) {
		return fmt.Errorf("%s: the hub's answer has no usable ETag (got %q)", p.where(m.file), truncate(etag, 80))
	}
	m.etag = etag
	if v := h.Get("X-Linked-Size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s: bad X-Linked-Size %q", p.where(m.file), truncate(v, 40))
		}
		m.size = n
	} else if resp.StatusCode < 300 && resp.ContentLength >= 0 {
		m.size = resp.ContentLength
	}
	if lfs && isHex(etag, 64) {
		m.sha256 = etag
	}
	return nil
}

// normalizeETag strips a weak-validator prefix and quotes, as
// huggingface_hub's _normalize_etag does.
func normalizeETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// statusError turns an HTTP error status into an error naming the repo,
// file and revision. 429 and 5xx are transient.
func (p *puller) statusError(resp *http.Response, file string) error {
	code := resp.Header.Get("X-Error-Code")
	detail := ""
	if m := strings.TrimSpace(resp.Header.Get("X-Error-Message")); m != "" {
		detail = " (hub: " + truncate(m, 200) + ")"
	}
	st := resp.StatusCode
	switch {
	case code == "RepoNotFound":
		msg := fmt.Sprintf("%v: repository %s not found at %s (HTTP %d)%s; check the name, or set HF_TOKEN if it is private",
			ErrNotFound, p.repo, p.endpoint, st, detail)
		if p.token != "" {
			msg = fmt.Sprintf("%v: repository %s not found at %s (HTTP %d)%s, or the token (HF_TOKEN) has no access to it",
				ErrNotFound, p.repo, p.endpoint, st, detail)
		}
		return &notFoundError{msg: msg}
	case code == "RevisionNotFound":
		return &notFoundError{msg: fmt.Sprintf("%v: revision %s not found in repository %s (HTTP %d)%s", ErrNotFound, p.rev, p.repo, st, detail)}
	case st == http.StatusNotFound || code == "EntryNotFound":
		return &notFoundError{entry: true, msg: fmt.Sprintf("%v: %s: repository %s has no file %s (HTTP %d)%s",
			ErrNotFound, p.where(file), p.repo, file, st, detail)}
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		if p.token == "" {
			return fmt.Errorf("%w: %s: HTTP %d%s: the repository is private or gated, so a Hugging Face access token is needed: "+
				"set HF_TOKEN (and accept the model's terms on the hub)", ErrAccess, p.where(file), st, detail)
		}
		return fmt.Errorf("%w: %s: HTTP %d%s: the token (HF_TOKEN) was rejected or lacks access to %s",
			ErrAccess, p.where(file), st, detail, p.repo)
	case st == http.StatusTooManyRequests || st >= 500:
		return transient(fmt.Errorf("%s: HTTP %d %s%s", p.where(file), st, http.StatusText(st), detail))
	}
	return fmt.Errorf("%s: unexpected HTTP %d %s%s", p.where(file), st, http.StatusText(st), detail)
}

// gaveUpError is the last failure of a request retried p.retries times
// without progress. detail, if set, says how far a download got.
type gaveUpError struct {
	tries  int
	detail string
	err    error
}

func (e *gaveUpError) Error() string {
	return fmt.Sprintf("%v; giving up after %d tries%s", e.err, e.tries, e.detail)
}
func (e *gaveUpError) Unwrap() error { return e.err }

// retry runs attempt until it succeeds, fails for good, or has failed
// p.retries+1 times in a row without progress, waiting p.wait, 2·p.wait, …
// (at most 30 s) in between. An attempt makes progress only when it gets
// further than any attempt before it (see getOnce). The final error is a
// *gaveUpError when the tries ran out.
func (p *puller) retry(ctx context.Context, file string, attempt func() (progressed bool, err error)) error {
	failures := 0
	for {
		progressed, err := attempt()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", p.where(file), ctx.Err())
		}
		var te *transientError
		if !errors.As(err, &te) {
			return err
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures > p.retries {
			return &gaveUpError{tries: failures, err: err}
		}
		wait := min(p.wait<<(failures-1), 30*time.Second)
		p.prog.note("%v; retrying in %s", err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", p.where(file), ctx.Err())
		case <-t.C:
		}
	}
}

// fetch makes sure blobs/<m.etag> holds the file, downloading it unless a
// blob of the right size whose contents match its name (see digestKind) is
// already there. A damaged blob is downloaded again.
func (p *puller) fetch(ctx context.Context, m *fileMeta) error {
	blob := p.blobPath(m.etag)
	damaged := false
	if fi, err := os.Stat(blob); err == nil && fi.Mode().IsRegular() && m.size >= 0 && fi.Size() != m.size {
		p.prog.note("%s: the cached copy is damaged (%d bytes, the hub announced %d); downloading it again", p.where(m.file), fi.Size(), m.size)
		damaged = true
	} else if err == nil && fi.Mode().IsRegular() {
		kind := digestKind(m.etag)
		if kind != digestNone && fi.Size() > announceAbove {
			p.prog.note("%s: checking the %s of the cached copy (%s)", m.file, kind, humanBytes(fi.Size()))
		}
		problem, err := blobDamage(blob, m.etag)
		if err == nil && problem == "" {
			checked := ""
			if kind != digestNone {
				checked = ", " + kind + " checked"
			}
			p.prog.note("%s: already downloaded (%s%s)", m.file, humanBytes(fi.Size()), checked)
			return nil
		}
		if err != nil {
			problem = err.Error()
		}
		p.prog.note("%s: the cached copy is damaged (%s); downloading it again", p.where(m.file), problem)
		damaged = true
	}
	if err := os.MkdirAll(filepath.Dir(blob), dirPerm); err != nil {
		return fmt.Errorf("%s: %w", p.where(m.file), err)
	}
	// One download of a blob at a time, across processes: the lock file is
	// the one huggingface_hub uses, so a Python download of the same file
	// waits too.
	unlock, err := p.lock(ctx, m)
	if err != nil {
		return err
	}
	defer unlock()
	if fi, err := os.Stat(blob); !damaged && err == nil && fi.Mode().IsRegular() && (m.size < 0 || fi.Size() == m.size) {
		return nil // finished by the process we waited for
	}
	return p.download(ctx, m, blob)
}

// lock takes .locks/models--…/<etag>.lock in the cache, polling every
// lockPoll until it is free or ctx ends.
func (p *puller) lock(ctx context.Context, m *fileMeta) (unlock func(), err error) {
	path := filepath.Join(p.cache, ".locks", RepoFolder(p.repo), m.etag+".lock")
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return nil, fmt.Errorf("%s: lock: %w", p.where(m.file), err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, cacheFile.Perm)
	if errors.Is(err, fs.ErrPermission) {
		// Another user's lock file in a shared cache: a lock needs no
		// write access. (inputfile.Open: a named pipe there must not block.)
		f, _, err = inputfile.Open(path, -1)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: lock: %w", p.where(m.file), err)
	}
	for waited := false; ; waited = true {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: lock %s: %w", p.where(m.file), path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if !waited {
			p.prog.note("%s: waiting for another download of it to finish (lock %s)", m.file, path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%s: %w", p.where(m.file), ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// lockPoll is how often a locked blob is tried again.
var lockPoll = 200 * time.Millisecond

// download fetches m into blob via blob+".incomplete"; see Pull.
func (p *puller) download(ctx context.Context, m *fileMeta, blob string) (err error) {
	tmp := blob + ".incomplete"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, cacheFile.Perm)
	if err != nil {
		return fmt.Errorf("%s: %w", p.where(m.file), err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", p.where(m.file), err)
	}
	if !fi.Mode().IsRegular() { // say so, rather than "seek …: illegal seek"
		return fmt.Errorf("%s: %s is not a regular file (%s)", p.where(m.file), tmp, inputfile.Kind(fi.Mode()))
	}
	st := &dlState{f: f, offset: fi.Size()}
	if m.sha256 != "" {
		st.hash = sha256.New()
	}
	if m.size >= 0 && st.offset > m.size {
		if err := st.restart(); err != nil {
			return fmt.Errorf("%s: %w", p.where(m.file), err)
		}
	}
	if st.offset > 0 && st.hash != nil {
		// Resume a download left by an earlier run: hash what is there.
		// The blob is named by its content hash, so the prefix belongs to it.
		if _, err := io.CopyN(st.hash, f, st.offset); err != nil {
			if err := st.restart(); err != nil {
				return fmt.Errorf("%s: %w", p.where(m.file), err)
			}
		}
	}
	if _, err := f.Seek(st.offset, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", p.where(m.file), err)
	}
	st.high = st.offset
	st.prog = p.prog.start(m.file, m.size, st.offset)
	err = p.retry(ctx, m.file, func() (bool, error) { return p.getOnce(ctx, m, st) })
	if err != nil {
		st.prog.stop()
		var gu *gaveUpError
		if errors.As(err, &gu) {
			gu.detail = fmt.Sprintf(" without getting past byte %d", st.high)
			if m.size >= 0 {
				gu.detail += fmt.Sprintf(" of %d", m.size)
			}
			if st.rangeIgnored {
				gu.detail += " (the server ignores Range requests, so every try starts again from byte 0)"
			}
		}
		if errors.Is(err, ErrIntegrity) {
			f.Close()
			f = nil
			os.Remove(tmp)
		}
		return err
	}
	st.prog.finish()

	fail := func(format string, args ...any) error {
		f.Close()
		f = nil
		os.Remove(tmp)
		return fmt.Errorf("%w: %s: %s; the partial download was deleted, run the pull again",
			ErrIntegrity, p.where(m.file), fmt.Sprintf(format, args...))
	}
	if m.size >= 0 && st.offset != m.size {
		return fail("got %d bytes, the hub announced %d", st.offset, m.size)
	}
	if st.hash != nil {
		if got := hex.EncodeToString(st.hash.Sum(nil)); got != m.sha256 {
			return fail("SHA-256 of the downloaded bytes is %s, the hub announced %s", got, m.sha256)
		}
	} else if kind := digestKind(m.etag); kind != digestNone {
		// A regular file (small): its ETag is its git blob id. Checked
		// here so that every blob matches its name, as Pull in offline
		// mode later checks.
		got, _, err := fileDigest(tmp, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", p.where(m.file), err)
		}
		if got != m.etag {
			return fail("%s of the downloaded bytes is %s, the hub announced %s", kind, got, m.etag)
		}
	}
	// The partial file may have been left by another program or user, with
	// other permission bits: the blob gets the cache's.
	err = cacheFile.Commit(f, blob)
	f = nil
	if err != nil {
		return fmt.Errorf("%s: %w", p.where(m.file), err)
	}
	return nil
}

// dlState is one download's position: bytes written to the .incomplete
// file, their running hash, and the validator for If-Range.
type dlState struct {
	f      *os.File
	offset int64
	// high is the furthest offset any try has reached (a high-water mark):
	// a try makes progress only by passing it, so a server that drops the
	// connection at the same byte every time, restarting from 0 when it
	// ignores Range, runs out of retries instead of looping forever.
	high         int64
	rangeIgnored bool      // a Range request was answered with the whole file
	hash         hash.Hash // nil unless the SHA-256 is checked
	validator    string    // strong ETag or Last-Modified of the last response
	prog         fileProgress
	writeErr     error
}

// restart empties the partial file.
func (st *dlState) restart() error {
	st.offset = 0
	if st.hash != nil {
		st.hash.Reset()
	}
	if st.prog != nil {
		st.prog.set(0)
	}
	if err := st.f.Truncate(0); err != nil {
		return err
	}
	_, err := st.f.Seek(0, io.SeekStart)
	return err
}

// Write appends to the partial file and the hash, and reports progress.
func (st *dlState) Write(b []byte) (int, error) {
	n, err := st.f.Write(b)
	if st.hash != nil {
		st.hash.Write(b[:n])
	}
	st.offset += int64(n)
	st.prog.set(st.offset)
	if err != nil {
		st.writeErr = err
	}
	return n, err
}

// getOnce sends one GET (a Range request when resuming) and appends what
// arrives. progressed reports whether the partial file got past st.high,
// the furthest any earlier try reached; bytes fetched again after a restart
// do not count.
func (p *puller) getOnce(ctx context.Context, m *fileMeta, st *dlState) (progressed bool, err error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	hdr := identityHeader()
	if st.offset > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", st.offset))
		if st.validator != "" {
			hdr.Set("If-Range", st.validator)
		}
	}
	where := p.where(m.file)
	resp, err := p.do(actx, http.MethodGet, m.url, hdr, func(*http.Response, *url.URL) bool { return true })
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != st.offset {
			asked := st.offset
			if err := st.restart(); err != nil {
				return false, fmt.Errorf("%s: %w", where, err)
			}
			return false, transient(fmt.Errorf("%s: asked for bytes %d onwards, got Content-Range %q; starting over",
				where, asked, resp.Header.Get("Content-Range")))
		}
		if m.size < 0 && total >= 0 {
			m.size = total
			st.prog.total(total)
		}
	case http.StatusOK:
		if st.offset > 0 { // Range ignored or If-Range failed: the whole file follows.
			st.rangeIgnored = true
			if err := st.restart(); err != nil {
				return false, fmt.Errorf("%s: %w", where, err)
			}
		}
		if m.size < 0 && resp.ContentLength >= 0 {
			m.size = resp.ContentLength
			st.prog.total(m.size)
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if m.size >= 0 && st.offset == m.size {
			return false, nil // it was all there already
		}
		asked := st.offset
		if err := st.restart(); err != nil {
			return false, fmt.Errorf("%s: %w", where, err)
		}
		return false, transient(fmt.Errorf("%s: the server refused to resume at byte %d; starting over", where, asked))
	default:
		return false, p.statusError(resp, m.file)
	}
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		st.validator = et
	} else {
		st.validator = resp.Header.Get("Last-Modified")
	}

	// A watchdog cancels the request when no byte arrives for p.stall.
	var stalled atomic.Bool
	timer := time.AfterFunc(p.stall, func() { stalled.Store(true); cancel() })
	defer timer.Stop()
	var body io.Reader = &watchdogReader{r: resp.Body, t: timer, d: p.stall}
	if m.size >= 0 {
		body = io.LimitReader(body, m.size-st.offset+1) // one byte more reveals an overlong body
	}
	st.writeErr = nil
	_, cerr := io.Copy(st, body)
	progressed = st.offset > st.high
	st.high = max(st.high, st.offset)
	switch {
	case st.writeErr != nil:
		return progressed, fmt.Errorf("%s: write %s: %w", where, st.f.Name(), st.writeErr)
	case m.size >= 0 && st.offset > m.size:
		return progressed, fmt.Errorf("%w: %s: the server sent more than the announced %d bytes", ErrIntegrity, where, m.size)
	case cerr != nil && stalled.Load():
		return progressed, transient(fmt.Errorf("%s: no data for %s at byte %d", where, p.stall, st.offset))
	case cerr != nil:
		return progressed, transient(fmt.Errorf("%s: connection lost at byte %d: %w", where, st.offset, cerr))
	case m.size >= 0 && st.offset < m.size:
		return progressed, transient(fmt.Errorf("%s: connection closed at byte %d of %d", where, st.offset, m.size))
	}
	return progressed, nil
}

// watchdogReader pushes the stall timer back on every read that returns
// data.
type watchdogReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (w *watchdogReader) Read(b []byte) (int, error) {
	n, err := w.r.Read(b)
	if n > 0 {
		w.t.Reset(w.d)
	}
	return n, err
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*", given
// as -1).
func parseContentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t <= end {
			return 0, 0, false
		}
		total = t
	}
	return start, total, true
}

// link makes snap/file a relative symlink to blobs/etag, replacing any
// older link atomically. Where symlinks are not allowed (Windows without
// developer mode) it copies the blob, as huggingface_hub does.
func (p *puller) link(snap, file, etag string) error {
	dst := filepath.Join(snap, file)
	blob := p.blobPath(etag)
	rel, err := filepath.Rel(filepath.Dir(dst), blob)
	if err != nil {
		return fmt.Errorf("link %s: %w", dst, err)
	}
	if cur, err := os.Readlink(dst); err == nil && cur == rel {
		return nil
	}
	err = atomicfile.Symlink(rel, dst)
	var le *os.LinkError
	if err == nil || !errors.As(err, &le) || le.Op != "symlink" {
		return err
	}
	// No symlinks here: copy the blob. A link already at dst (a cache
	// made elsewhere) goes first, or the copy would overwrite its blob.
	if fi, err := os.Lstat(dst); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("link %s: %w", dst, err)
		}
	}
	return cacheFile.Write(dst, func(w io.Writer) error {
		in, _, err := inputfile.Open(blob, -1)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	})
}

// cacheFile is how Pull writes the files of the cache (blobs, refs, copied
// snapshot files): like huggingface_hub, with 0666 less the umask, so that
// under umask 022 every user can read a shared cache and under umask 002 its
// group can also write it; a file written earlier with other bits (an older
// gptviz wrote refs 0600) gets them too.
var cacheFile = atomicfile.Options{Perm: 0o666, ResetPerm: true}

// dirPerm is the permission of the cache's folders, before the umask.
const dirPerm = 0o777

// writeCacheFile writes data to path atomically (see cacheFile), creating
// its folder.
func writeCacheFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return err
	}
	return cacheFile.WriteBytes(path, data)
}
