package arch

import (
	"fmt"
	"strings"
	"testing"
)

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}`))
	f.Add([]byte(`{"metadata": {"total_size": 1}, "weight_map": {"a": "x.safetensors", "b": "x.safetensors"}}`))
	f.Add([]byte(`{"weight_map": {"a": "../evil.safetensors"}}`))
	f.Add([]byte(`{"weight_map": {}}`))
	f.Add([]byte(`{"weight_map": {"a": 1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex(data)
		if err != nil {
			return
		}
		shards := idx.Shards
		if len(shards) == 0 {
			t.Fatal("accepted an index without shards")
		}
		for i, s := range shards {
			if !ValidFileName(s) || !strings.HasSuffix(s, ".safetensors") || strings.ContainsAny(s, `/\`) {
				t.Fatalf("accepted shard name %q", s)
			}
			if i > 0 && shards[i-1] >= s {
				t.Fatalf("shards not sorted and distinct: %q", shards)
			}
		}
	})
}

func TestParseIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{`{"weight_map": {"b": "m-2.safetensors", "a": "m-1.safetensors", "c": "m-1.safetensors"}}`, "[m-1.safetensors m-2.safetensors]"},
		{`{"weight_map": {"a": "../m.safetensors"}}`, ""},
		{`{"weight_map": {"a": "sub/m.safetensors"}}`, ""},
		{`{"weight_map": {"a": "m.bin"}}`, ""},
		{`{"weight_map": {}}`, ""},
		{`{}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		idx, err := ParseIndex([]byte(tt.in))
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseIndex(%s) accepted it, want an error", tt.in)
			}
			continue
		}
		if err != nil || fmt.Sprint(idx.Shards) != tt.want {
			t.Errorf("ParseIndex(%s) = %v; want %s", tt.in, err, tt.want)
		}
	}
}
