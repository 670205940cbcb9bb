package trace_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gptviz/gptviz/model/trace"
)

// TestKVWriteAbsentReads: a version-1 trace written before steps recorded
// kv_write still reads and validates, with KVWrite nil; a recorded one
// carries it on every step and counts it in Values.
func TestKVWriteAbsentReads(t *testing.T) {
	t.Parallel()
	data := recordedTrace(t)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, st := range m["steps"].([]any) {
		delete(st.(map[string]any), "kv_write")
	}
	old, _ := json.Marshal(m)
	trOld, err := trace.Read(bytes.NewReader(old), "old.json")
	if err != nil {
		t.Fatalf("a trace without kv_write: %v", err)
	}
	trNew, err := trace.Read(bytes.NewReader(data), "new.json")
	if err != nil {
		t.Fatal(err)
	}
	var extra int64
	for i := range trNew.Steps {
		if trOld.Steps[i].KVWrite != nil {
			t.Fatalf("step %d: kv_write %+v from a trace without it", i, trOld.Steps[i].KVWrite)
		}
		w := trNew.Steps[i].KVWrite
		if w == nil {
			t.Fatalf("step %d: recorded trace has no kv_write", i)
		}
		extra += int64(2*len(w.KeyNorm)*w.N + (len(w.Keys)+len(w.Values))*len(w.Keys[0]))
	}
	if got := trNew.Values() - trOld.Values(); got != extra {
		t.Errorf("Values counts %d for kv_write, want %d", got, extra)
	}
}
