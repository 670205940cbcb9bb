package hub

import (
	"context"
	"testing"

	"github.com/gptviz/gptviz/model/hub/hubtest"
)

// BenchmarkPullWeights measures a fresh pull of a 32 MB model.safetensors
// from a local fake hub: the cost of streaming, hashing (SHA-256) and
// writing, without network latency. b.SetBytes makes the result MB/s.
func BenchmarkPullWeights(b *testing.B) {
	files := gpt2Files()
	files["model.safetensors"] = randomBytes(9, 32<<20)
	srv := hubtest.NewServer(b, hubtest.Repo{ID: "openai-community/gpt2", Commit: commitA, Files: files})
	b.SetBytes(32 << 20)
	for b.Loop() {
		opts := PullOptions{Endpoint: srv.URL, CacheDir: b.TempDir(), Env: MapEnv(nil, "")}
		if _, err := Pull(context.Background(), "openai-community/gpt2", opts); err != nil {
			b.Fatal(err)
		}
	}
}
