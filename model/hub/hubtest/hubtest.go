// Package hubtest runs a fake Hugging Face Hub for tests: an httptest server
// that answers {endpoint}/{repo}/resolve/{revision}/{file} the way
// huggingface.co does, and a second server, on another host:port, playing
// the CDN that LFS files redirect to.
//
// Like the real hub, HEAD and GET on a resolve URL send X-Repo-Commit; a
// regular (non-LFS) file is answered directly with its git blob SHA-1 as
// ETag; an LFS file (*.safetensors) is answered with 302 Found to
// {cdn}/cdn/<sha256>, with X-Linked-Etag (its SHA-256) and X-Linked-Size. A
// repo may have aliases that the hub redirects (307, relative Location) to
// the repo's id, as it does for gpt2 → openai-community/gpt2. Errors carry
// X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
// With Repo.ResolveCache, regular files take one more relative redirect to
// /api/resolve-cache/…, which needs its query string.
// Both servers honour Range and If-Range (net/http.ServeContent).
//
// Faults can be injected: drop a file's connection half-way (the server
// hijacks and closes it) or always at the same byte, ignore Range requests
// as some mirrors do, announce a wrong size, serve bytes that do not match
// the announced SHA-256, require a token.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo is one model repository on the fake hub.
type Repo struct {
	ID      string            // repo id, such as "openai-community/gpt2"
	Aliases []string          // other ids redirected to ID, such as "gpt2"
	Commit  string            // commit hash the revisions point to (40 hex digits)
	Refs    []string          // branch and tag names besides "main"
	Files   map[string][]byte // file name → contents

	// ResolveCache makes regular files answer with 307 to a relative
	// /api/resolve-cache/models/{id}/{commit}/{file}?…&etag=… URL, as the
	// hub does for public repos with a namespace; the metadata headers are
	// on that final answer. Without it they are served directly, as the
	// hub does for gated and private repos.
	ResolveCache bool
}

// Request is one request either server received.
type Request struct {
	Server  string // "hub" or "cdn"
	Method  string // "HEAD" or "GET"
	Path    string // URL path, unescaped
	Range   string // Range header
	IfRange string // If-Range header
	Auth    string // Authorization header
}

// Server is a fake hub and its CDN. Configure it before the code under test
// runs; its methods are safe for concurrent use.
type Server struct {
	URL    string // the hub endpoint, such as http://127.0.0.1:41234
	CDNURL string // the CDN's base URL, on another port

	// Token, when set, is the only bearer token the hub accepts: no token
	// gives 401, another token 403.
	Token string

	hub, cdn *httptest.Server
	mu       sync.Mutex
	repos    map[string]*Repo  // by id and by alias
	blobs    map[string][]byte // CDN objects by SHA-256 (hex)
	drops    map[string]int    // SHA-256 → how many more GETs to cut half-way
	stalls   map[string]int    // SHA-256 → how many more GETs to stall half-way
	fails    []int             // statuses for the next hub requests
	corrupt  map[string]bool   // SHA-256 → serve flipped bytes
	cuts     map[string]int    // SHA-256 → close every GET after this byte of the object
	noRange  map[string]bool   // SHA-256 → ignore Range and If-Range
	sizes    map[string]int    // SHA-256 → X-Linked-Size to announce instead of the real one
	reqs     []Request
}

// NewServer starts a fake hub and CDN, closed when the test ends.
func NewServer(t testing.TB, repos ...Repo) *Server {
	t.Helper()
	s := &Server{repos: map[string]*Repo{}, blobs: map[string][]byte{}, drops: map[string]int{}, stalls: map[string]int{}, corrupt: map[string]bool{},
		cuts: map[string]int{}, noRange: map[string]bool{}, sizes: map[string]int{}}
	s.hub = httptest.NewServer(http.HandlerFunc(s.serveHub))
	s.cdn = httptest.NewServer(http.HandlerFunc(s.serveCDN))
	t.Cleanup(s.hub.Close)
	t.Cleanup(s.cdn.Close)
	s.URL, s.CDNURL = s.hub.URL, s.cdn.URL
	for _, r := range repos {
		s.AddRepo(r)
	}
	return s
}

// AddRepo puts a repository on the hub.
func (s *Server) AddRepo(r Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := &r
	s.repos[r.ID] = rp
	for _, a := range r.Aliases {
		s.repos[a] = rp
	}
	for name, data := range r.Files {
		if IsLFS(name) {
			s.blobs[SHA256(data)] = data
		}
	}
}

// IsLFS reports whether the fake hub stores file in LFS (as the real hub
// does for *.safetensors and *.bin).
func IsLFS(file string) bool {
	return strings.HasSuffix(file, ".safetensors") || strings.HasSuffix(file, ".bin")
}

// SHA256 is the hex SHA-256 of data: an LFS file's X-Linked-Etag.
func SHA256(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// GitBlobSHA1 is git's object id of data ("blob <len>\x00" + data): a
// regular file's ETag on the hub.
func GitBlobSHA1(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// Drop makes the next n GETs of the LFS object data send half of what they
// were asked for and then close the connection.
func (s *Server) Drop(data []byte, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[SHA256(data)] = n
}

// Stall makes the next n GETs of the LFS object data send half of what
// they were asked for and then send nothing more, keeping the connection
// open until the client gives up.
func (s *Server) Stall(data []byte, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalls[SHA256(data)] = n
}

// CutAt makes every GET of the LFS object data close the connection once
// byte at of the object has been sent (so a request resumed at or after at
// gets its headers and nothing more), as a flaky mirror that always fails
// at the same place does. A negative at turns it off.
func (s *Server) CutAt(data []byte, at int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at < 0 {
		delete(s.cuts, SHA256(data))
		return
	}
	s.cuts[SHA256(data)] = at
}

// IgnoreRange makes the CDN answer every GET of the LFS object data with
// 200 OK and the whole object, ignoring Range and If-Range, as some mirrors
// do.
func (s *Server) IgnoreRange(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRange[SHA256(data)] = true
}

// AnnounceSize makes the hub announce size (X-Linked-Size) for the LFS
// file data instead of its real length.
func (s *Server) AnnounceSize(data []byte, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes[SHA256(data)] = size
}

// Fail makes the next len(statuses) hub requests answer with these HTTP
// statuses (such as 503) instead of their usual answer.
func (s *Server) Fail(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, statuses...)
}

// Corrupt makes the server serve data with its bytes changed (same length)
// while the hub still announces its hash: the SHA-256 of an LFS object
// (served by the CDN), the git blob id of a regular file.
func (s *Server) Corrupt(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[SHA256(data)] = true
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count returns how many requests with this server ("hub", "cdn" or "" for
// both) and method ("" for any) were received.
func (s *Server) Count(server, method string) int {
	n := 0
	for _, r := range s.Requests() {
		if (server == "" || r.Server == server) && (method == "" || r.Method == method) {
			n++
		}
	}
	return n
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

func (s *Server) record(server string, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, Request{server, r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Range"), r.Header.Get("Authorization")})
}

var modTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func hubError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

// serveHub answers /{repo}/resolve/{rev}/{file}.
func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	s.record("hub", r)
	s.mu.Lock()
	fail := 0
	if len(s.fails) > 0 {
		fail, s.fails = s.fails[0], s.fails[1:]
	}
	s.mu.Unlock()
	if fail != 0 {
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	esc := r.URL.EscapedPath()
	if strings.HasPrefix(esc, "/api/resolve-cache/models/") {
		s.serveResolveCache(w, r)
		return
	}
	before, after, ok := strings.Cut(esc, "/resolve/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	repoID := strings.TrimPrefix(before, "/")
	escRev, escFile, ok := strings.Cut(after, "/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	rev, err1 := url.PathUnescape(escRev)
	file, err2 := url.PathUnescape(escFile)
	if err1 != nil || err2 != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	repo := s.repos[repoID]
	s.mu.Unlock()
	if repo == nil {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository Not Found for url: "+r.URL.String()+".")
		return
	}
	if s.Token != "" {
		switch r.Header.Get("Authorization") {
		case "Bearer " + s.Token:
		case "":
			hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+repo.ID+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
			return
		default:
			hubError(w, http.StatusForbidden, "GatedRepo", "Access to model "+repo.ID+" is restricted and you are not in the authorized list.")
			return
		}
	}
	if repoID != repo.ID {
		w.Header().Set("Location", "/"+repo.ID+"/resolve/"+escRev+"/"+escFile)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	known := rev == "main" || rev == repo.Commit
	for _, ref := range repo.Refs {
		known = known || rev == ref
	}
	if !known {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	data, ok := repo.Files[file]
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	if IsLFS(file) {
		sum := SHA256(data)
		size := len(data)
		s.mu.Lock()
		if n, ok := s.sizes[sum]; ok {
			size = n
		}
		s.mu.Unlock()
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(size))
		w.Header().Set("ETag", `"`+GitBlobSHA1([]byte("version https://git-lfs.github.com/spec/v1\noid sha256:"+sum+"\n"))+`"`)
		w.Header().Set("Location", s.CDNURL+"/cdn/"+sum+"?expires=1700000000&signature=abc")
		w.WriteHeader(http.StatusFound)
		return
	}
	if repo.ResolveCache {
		w.Header().Del("X-Repo-Commit")
		w.Header().Set("Location", "/api/resolve-cache/models/"+repo.ID+"/"+repo.Commit+"/"+escFile+
			"?"+url.QueryEscape(esc)+"=&etag=%22"+GitBlobSHA1(data)+"%22")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	w.Header().Set("ETag", `"`+GitBlobSHA1(data)+`"`)
	http.ServeContent(w, r, file, modTime, bytes.NewReader(s.maybeCorrupt(data)))
}

// maybeCorrupt returns data, or a damaged copy if Corrupt was called for it.
func (s *Server) maybeCorrupt(data []byte) []byte {
	s.mu.Lock()
	bad := s.corrupt[SHA256(data)]
	s.mu.Unlock()
	if !bad {
		return data
	}
	out := bytes.Clone(data)
	for i := range out {
		out[i] ^= 0x5a
	}
	return out
}

// serveResolveCache answers /api/resolve-cache/models/{repo}/{commit}/{file}?…&etag=…
func (s *Server) serveResolveCache(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/resolve-cache/models/"), "/")
	if len(parts) < 3 {
		http.NotFound(w, r)
		return
	}
	id, commit, file := strings.Join(parts[:len(parts)-2], "/"), parts[len(parts)-2], parts[len(parts)-1]
	s.mu.Lock()
	repo := s.repos[id]
	s.mu.Unlock()
	if repo == nil || repo.Commit != commit {
		http.NotFound(w, r)
		return
	}
	data, ok := repo.Files[file]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("etag") != `"`+GitBlobSHA1(data)+`"` {
		http.Error(w, "resolve-cache URL without its etag query", http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.Commit)
	w.Header().Set("ETag", `"`+GitBlobSHA1(data)+`"`)
	http.ServeContent(w, r, file, modTime, bytes.NewReader(s.maybeCorrupt(data)))
}

// serveCDN answers /cdn/<sha256>.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	s.record("cdn", r)
	sum, ok := strings.CutPrefix(r.URL.Path, "/cdn/")
	s.mu.Lock()
	data, found := s.blobs[sum]
	drop := s.drops[sum] > 0 && r.Method == http.MethodGet
	if drop {
		s.drops[sum]--
	}
	stall := !drop && s.stalls[sum] > 0 && r.Method == http.MethodGet
	if stall {
		s.stalls[sum]--
	}
	cut, hasCut := s.cuts[sum]
	hasCut = hasCut && r.Method == http.MethodGet
	if s.noRange[sum] {
		r.Header.Del("Range")
		r.Header.Del("If-Range")
	}
	s.mu.Unlock()
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	data = s.maybeCorrupt(data)
	w.Header().Set("ETag", `"`+sum+`"`)
	if drop || stall {
		s.serveHalf(w, r, data, stall)
		return
	}
	if hasCut {
		serveCut(w, r, data, cut)
		return
	}
	http.ServeContent(w, r, sum, modTime, bytes.NewReader(data))
}

// rangeStart is the first byte a "Range: bytes=N-" request asks for, or 0.
func rangeStart(r *http.Request, size int) int {
	if v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
		if a, _, ok := strings.Cut(v, "-"); ok {
			if n, err := strconv.Atoi(a); err == nil && n < size {
				return n
			}
		}
	}
	return 0
}

// serveCut announces the requested bytes, sends those before byte cut of
// data and closes the connection.
func serveCut(w http.ResponseWriter, r *http.Request, data []byte, cut int) {
	start := rangeStart(r, len(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)-start))
	if start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if cut > start {
		w.Write(data[start:min(cut, len(data))])
	}
	w.(http.Flusher).Flush()
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

// serveHalf announces the requested bytes, sends half of them and closes
// the connection, or with stall waits for the client to give up.
func (s *Server) serveHalf(w http.ResponseWriter, r *http.Request, data []byte, stall bool) {
	start := rangeStart(r, len(data))
	rest := data[start:]
	w.Header().Set("Content-Length", strconv.Itoa(len(rest)))
	if start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	w.Write(rest[:len(rest)/2])
	w.(http.Flusher).Flush()
	if stall {
		<-r.Context().Done()
		return
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}
