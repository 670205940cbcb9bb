package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badPage misbehaves in every way a Page must notice.
const badPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>bad</title></head>
<body>
<div class="cell-chart"><div id="blank" class="chart" style="height:100px"><canvas width="100" height="100"></canvas></div></div>
<div class="cell-chart"><div id="drawn" class="chart" style="height:100px"><canvas width="100" height="100"></canvas></div></div>
<img src="x-does-not-exist" onerror="alert('from onerror')">
<img src="https://example.com/pixel.png">
<script>
console.error("broken", 42);
var c = document.querySelector("#drawn canvas").getContext("2d");
c.fillStyle = "#123456"; c.fillRect(10, 10, 50, 50);
window.gptviz = { charts: {}, finished: {} };
setTimeout(function () { throw new Error("late failure"); }, 0);
</script>
</body></html>`

func TestPageDetectsProblems(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(path, []byte(badPage), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Open(t, path)

	err := p.ChartsDrawn()
	if err == nil || !strings.Contains(err.Error(), "blank: canvas is blank") || strings.Contains(err.Error(), "; ") {
		t.Errorf("ChartsDrawn() = %v, want only 'blank' reported", err)
	}
	if err := p.ChartsDrawn("drawn"); err != nil {
		t.Errorf("ChartsDrawn(drawn) = %v", err)
	}
	if err := p.ChartsDrawn("missing"); err == nil || !strings.Contains(err.Error(), "no element") {
		t.Errorf("ChartsDrawn(missing) = %v", err)
	}

	alerts, err := p.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0] != "alert: from onerror" {
		t.Errorf("Alerts() = %q, want the onerror alert", alerts)
	}
	errs := strings.Join(p.ConsoleErrors(), "\n")
	for _, want := range []string{"console.error: broken 42", "late failure"} {
		if !strings.Contains(errs, want) {
			t.Errorf("ConsoleErrors() lacks %q:\n%s", want, errs)
		}
	}
	reqs := p.NetworkRequests()
	if len(reqs) != 1 || reqs[0] != "https://example.com/pixel.png" {
		t.Errorf("NetworkRequests() = %q", reqs)
	}

	var sum int
	if err := p.Eval("1 + 2", &sum); err != nil || sum != 3 {
		t.Errorf("Eval(1 + 2) = %d, %v", sum, err)
	}
	if err := p.Eval("undefinedName.x", nil); err == nil {
		t.Error("Eval of a throwing expression returned no error")
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	if err := p.Screenshot(shot); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(shot); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("screenshot is not a PNG (%v)", err)
	}
}

func TestBrowserFromEnv(t *testing.T) {
	t.Setenv("GPTVIZ_CHROMIUM", "/no/such/browser")
	if _, err := Browser(); err == nil || !strings.Contains(err.Error(), "GPTVIZ_CHROMIUM") {
		t.Errorf("Browser() with a bad GPTVIZ_CHROMIUM: %v", err)
	}
}
