// Package hub finds GPT-2 checkpoints in the Hugging Face cache and downloads
// them from the Hugging Face Hub (or a mirror) into that cache, so that
// gptviz and Python tools (transformers, huggingface_hub) share one copy.
//
// # Cache layout
//
// The layout is the one huggingface_hub writes (see its file_download.py and
// the "Understand caching" guide):
//
//	$HF_HUB_CACHE/                       (else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
//	  models--openai-community--gpt2/     else ~/.cache/huggingface/hub)
//	    blobs/<etag>                      file contents, named by the hub's ETag:
//	                                      the SHA-256 for LFS files, the git blob SHA-1 otherwise
//	    refs/main                         the commit hash the branch "main" pointed to
//	    snapshots/<commit>/config.json -> ../../blobs/<etag>   (relative symlinks)
//	  .locks/models--openai-community--gpt2/<etag>.lock    (held while a blob downloads)
//
// A snapshot is usable when it holds config.json, vocab.json, merges.txt and
// model.safetensors, or model.safetensors.index.json plus every shard the
// index names (see Resolve).
//
// # Downloads
//
// Pull asks the hub about each file with HEAD {endpoint}/{repo}/resolve/{revision}/{file}
// (headers X-Repo-Commit, X-Linked-Etag or ETag, X-Linked-Size or
// Content-Length), downloads it to blobs/<etag>.incomplete, resuming with HTTP
// Range after a dropped connection, verifies its size and its hash (the
// SHA-256 of an LFS file, the git blob SHA-1 of a regular file, as named by
// the ETag), and only then renames it into place. When Pull returns a cached
// snapshot without downloading (offline, say), it checks each file's blob
// against the hash it is named by; Resolve, run on every model load, only
// checks that the files exist. Snapshot symlinks and
// refs/<revision> are written after every file of the checkpoint has been
// verified, so a reader never sees a partial or corrupt checkpoint. Every
// file is written through internal/atomicfile (synced, then renamed into
// place) with 0666 less the umask, folders with 0777 less the umask, as
// huggingface_hub writes them, so a cache shared by several users stays
// readable to all of them. The token
// is sent only to the endpoint's own host and the Hub's (huggingface.co,
// hf.co), never to a CDN it redirects to.
//
// Nothing here downloads silently: Resolve only reads the cache, and Pull
// honours offline mode (PullOptions.Offline or HF_HUB_OFFLINE=1).
package hub
