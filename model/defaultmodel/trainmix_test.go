package defaultmodel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGptviz stands in for `gptviz train` in TestTrainMixScript: it
// appends its arguments to calls.log and moves the checkpoint of --out
// (checkpoint.json's "step", as gptviz writes it, and the run's total in
// total.txt) as training would, refusing, as gptviz does, a --steps before
// the checkpoint's step.
const fakeGptviz = `#!/bin/sh
set -eu
echo "$*" >> "$FAKE_LOG"
out= steps= resume=
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift ;;
	--steps) steps=$2; shift ;;
	--resume) resume=1 ;;
	esac
	shift
done
step=$(sed -n 's/^  "step": \([0-9]*\),$/\1/p' "$out/checkpoint.json" 2>/dev/null || true)
total=$(cat "$out/total.txt" 2>/dev/null || true)
if [ -n "$resume" ] && [ -n "$steps" ]; then
	if [ "$steps" -lt "$step" ]; then
		echo "--steps $steps is before the checkpoint's step $step" >&2
		exit 2
	fi
	total=$steps
elif [ -z "$resume" ]; then
	total=$steps
fi
mkdir -p "$out"
echo "$total" > "$out/total.txt"
printf '{\n  "format": "gptviz-checkpoint/1",\n  "step": %s,\n  "files": []\n}\n' "$total" > "$out/checkpoint.json"
`

// TestTrainMixScript runs train-mix.sh with a stand-in gptviz: a fresh run
// goes through the three phases to the embedded model's step; a run
// interrupted in any phase, or already finished, continues with the same
// command to the same step, running only what is left.
func TestTrainMixScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("train-mix.sh needs sh:", err)
	}
	bin := filepath.Join(t.TempDir(), "gptviz")
	if err := os.WriteFile(bin, []byte(fakeGptviz), 0o755); err != nil {
		t.Fatal(err)
	}
	last := recorded(t).Step
	for _, tc := range []struct {
		name        string
		step, total int // the checkpoint before the script runs (none if 0)
		calls       []string
	}{
		{"fresh", 0, 0, []string{"train --corpus mix", "--resume", "--resume --steps 52000", "--resume --steps 60000"}},
		{"stopped in phase 1", 12000, 28000, []string{"--resume", "--resume --steps 52000", "--resume --steps 60000"}},
		{"stopped in phase 2", 40000, 52000, []string{"--resume", "--resume --steps 60000"}},
		{"stopped in phase 3", 56000, 60000, []string{"--resume"}},
		{"finished", 60000, 60000, []string{"--resume"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, log := filepath.Join(dir, "run"), filepath.Join(dir, "calls.log")
			if tc.step > 0 {
				if err := os.MkdirAll(out, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, text := range map[string]string{
					"total.txt":       fmt.Sprintln(tc.total),
					"checkpoint.json": fmt.Sprintf("{\n  \"step\": %d,\n  \"files\": []\n}\n", tc.step),
				} {
					if err := os.WriteFile(filepath.Join(out, name), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			cmd := exec.Command("sh", "train-mix.sh", out)
			cmd.Env = append(os.Environ(), "GPTVIZ="+bin, "FAKE_LOG="+log)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("train-mix.sh: %v\n%s", err, b)
			}
			b, _ := os.ReadFile(log)
			calls := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(calls) != len(tc.calls) {
				t.Fatalf("calls:\n%s\nwant %d: %q", b, len(tc.calls), tc.calls)
			}
			for i, c := range calls {
				if !strings.Contains(c, tc.calls[i]) {
					t.Errorf("call %d: %q, want it to contain %q", i+1, c, tc.calls[i])
				}
			}
			if b, _ := os.ReadFile(filepath.Join(out, "checkpoint.json")); !strings.Contains(string(b), fmt.Sprintf(`"step": %d,`, last)) {
				t.Errorf("the run ends at\n%s\nwant step %d, the embedded model's", b, last)
			}
		})
	}
}
