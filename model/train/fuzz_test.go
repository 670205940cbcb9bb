package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/model/safetensors"
)

// FuzzParseCurveCSV feeds arbitrary bytes to the loss-curve reader: it must
// never panic, must accept only a valid curve (CurveCSV's header, one row
// per line, steps strictly increasing, step and tokens ≥ 0, lr ≥ 0 or
// empty, elapsed finite and ≥ 0), refusing the rest with a *CurveError, and
// what it accepts must survive a write/read round trip.
func FuzzParseCurveCSV(f *testing.F) {
	f.Add([]byte(curveHeader + "\n0,0,,,,6.2,6.3,0.0\n1,2048,0.001,5.9,1.2,,,1.5\n"))
	f.Add([]byte(curveHeader + "\n0,0,,+Inf,+Inf,,,0.0"))
	f.Add([]byte(""))
	f.Add([]byte("header\n1,2,3\n"))
	f.Add([]byte("h\nx,0,,,,,,\n"))
	f.Add([]byte(curveHeader + "\n1,0,NaN,,,,,0\n"))
	f.Add([]byte(curveHeader + "\n2,0,,,,,,0\n1,0,,,,,,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := ParseCurveCSV(data)
		if err != nil {
			var ce *CurveError
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Fatalf("error %v is not a *CurveError with a line", err)
			}
			return
		}
		text, _ := strings.CutSuffix(string(data), "\n")
		lines := strings.Split(text, "\n")
		if lines[0] != curveHeader || len(lines) != len(pts)+1 {
			t.Fatalf("accepted %d rows from %d lines with header %q", len(pts), len(lines), lines[0])
		}
		for i, p := range pts {
			if p.Step < 0 || p.Tokens < 0 || (i > 0 && p.Step <= pts[i-1].Step) ||
				p.LR < 0 || math.IsInf(p.LR, 0) || !(p.ElapsedS >= 0) || math.IsInf(p.ElapsedS, 0) || p.GradNorm < 0 {
				t.Fatalf("accepted an invalid row %d: %+v", i, p)
			}
		}
		back, err := ParseCurveCSV(CurveCSV(pts))
		if err != nil {
			t.Fatalf("re-reading our own CSV: %v", err)
		}
		if len(back) != len(pts) {
			t.Fatalf("round trip: %d rows, want %d", len(back), len(pts))
		}
		for i := range pts {
			if back[i].Step != pts[i].Step || back[i].Tokens != pts[i].Tokens ||
				math.IsNaN(back[i].ValLoss) != math.IsNaN(pts[i].ValLoss) {
				t.Fatalf("row %d: %+v became %+v", i, pts[i], back[i])
			}
		}
	})
}

// FuzzResume feeds crafted train_state.json contents and optimizer metadata
// to Resume, on a small checkpoint folder whose manifest is rewritten to
// match (so the input reaches the parsers, not just the hash check): it
// must never panic, must refuse an inconsistent state with an error, and a
// trainer it returns must agree with the checkpoint (step, AdamW's update
// count, the curve's last row).
func FuzzResume(f *testing.F) {
	old := resumeMaxBytes
	resumeMaxBytes = 256 << 20 // no fuzz input may make the test allocate gigabytes
	f.Cleanup(func() { resumeMaxBytes = old })

	base := f.TempDir()
	data := Data{Train: patternData(400, 16), Val: patternData(100, 16)}
	o := tinyOptions(4)
	o.BatchSize = 2
	tr, err := New(o, data)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Run(context.Background(), tr, RunOptions{OutDir: base, EvalEvery: 2}); err != nil {
		f.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(base, StateFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(state, "4", "4")
	f.Add(state, "3", "4")
	f.Add(state, "4", "-1")
	f.Add(state, "", "99999999999999999999")
	f.Add(bytes.Replace(state, []byte(`"step": 4`), []byte(`"step": 2`), 1), "2", "2")
	f.Add(bytes.Replace(state, []byte(`"batch_size": 2`), []byte(`"batch_size": 100000000`), 1), "4", "4")
	f.Add(bytes.Replace(state, []byte(`"n_layer": 2`), []byte(`"n_layer": 2000000000`), 1), "4", "4")
	f.Add(bytes.Replace(state, []byte(`"shards": 2`), []byte(`"shards": -5`), 1), "4", "4")
	f.Add(bytes.Replace(state, []byte(`"beta1": 0.9`), []byte(`"beta1": 1e999`), 1), "4", "4")
	f.Add(bytes.Replace(state, []byte(`"eval_every": 2`), []byte(`"eval_every": -1, "snapshots": [3, 1], "corpus": {"name": "", "sha256": "x"}`), 1), "4", "4")
	f.Add(bytes.Replace(state, []byte(`"eval_every": 2`), []byte(`"eval_every": 2, "snapshots": [0, 4, 5]`), 1), "4", "4")
	f.Add([]byte(`{"options": {}, "step": 0}`), "0", "0")
	f.Add([]byte(`null`), "4", "4")
	f.Add([]byte(`{"step": 4} {}`), "4", "4")

	ts, _, err := safetensors.ReadAll(filepath.Join(base, OptimizerFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, state []byte, metaStep, adamT string) {
		dir := t.TempDir()
		copyTree(t, base, dir)
		if err := os.WriteFile(filepath.Join(dir, StateFile), state, 0o644); err != nil {
			t.Fatal(err)
		}
		meta := map[string]string{"step": metaStep, "adam_t": adamT}
		if err := safetensors.Write(filepath.Join(dir, OptimizerFile), ts, meta); err != nil {
			return // metadata safetensors cannot store (e.g. invalid UTF-8)
		}
		rehash(t, dir)
		res, ro, err := Resume(dir, data, 0)
		if err != nil {
			return
		}
		var st struct {
			Step int `json:"step"`
		}
		json.Unmarshal(state, &st)
		if res.Step != 4 || st.Step != 4 || res.opt.t != 4 || metaStep != "4" || adamT != "4" ||
			len(ro.Curve) == 0 || ro.Curve[len(ro.Curve)-1].Step != res.Step {
			t.Fatalf("resumed an inconsistent checkpoint: step %d (state %d, metadata %q/%q, adam_t %d), curve %d rows",
				res.Step, st.Step, metaStep, adamT, res.opt.t, len(ro.Curve))
		}
		if MemoryBytes(res.Opts) > resumeMaxBytes {
			t.Fatalf("resumed options needing %.3g bytes", MemoryBytes(res.Opts))
		}
	})
}
