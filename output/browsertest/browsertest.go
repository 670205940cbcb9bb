// Package browsertest opens generated HTML pages in a headless Chromium for
// tests: offline, from file://, recording console errors, uncaught
// exceptions, network requests and alert() calls, and checking that every
// chart was drawn.
//
// A test calls [Open]; without a Chromium it is skipped, except under CI
// (testref.CI: CI=true), where it fails (CI installs Debian's chromium).
//
//	p := browsertest.Open(t, "report.html")
//	if err := p.ChartsDrawn(); err != nil {
//		t.Error(err)
//	}
//	p.AssertClean(t) // no console errors, alerts or network requests
//	p.Screenshot(filepath.Join(t.TempDir(), "report.png"))
//
// Pages written by output.WriteHTML expose window.gptviz.charts[ID] (the
// ECharts instances) and window.gptviz.finished[ID]; [Page.Eval] reaches
// them, e.g. to move a timeline and read the shown step.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gptviz/gptviz/internal/testref"
)

// Viewport is the browser window size in CSS pixels (device scale 1).
const (
	ViewportWidth  = 1200
	ViewportHeight = 900
)

// Timeout bounds opening a page and each wait of a Page (the machine may be
// slow and shared).
var Timeout = 90 * time.Second

// candidates are the browser binaries tried, in order, when GPTVIZ_CHROMIUM
// is not set.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Browser returns the path of the browser the tests use: $GPTVIZ_CHROMIUM if
// set, else the first of chromium, chromium-browser, google-chrome,
// google-chrome-stable, headless-shell found on $PATH. It returns an error
// naming what was tried when there is none.
func Browser() (string, error) {
	if p := os.Getenv("GPTVIZ_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("GPTVIZ_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser found on $PATH (tried %s; set GPTVIZ_CHROMIUM, or apt-get install chromium)", strings.Join(candidates, ", "))
}

// Page is one HTML page open in its own headless browser. Its methods are
// safe for use by one test goroutine; the browser closes when the test ends.
type Page struct {
	ctx    context.Context // the tab
	path   string
	origin string // "": a file page, offline; else the served page's own origin, "http://host:port/"

	mu       sync.Mutex
	console  []string // console errors, exceptions, browser log errors
	requests []string // requested URLs that are neither file: nor data:
	dialogs  []string // JavaScript dialogs that opened
}

// alertTrap runs before any script of the page: alert, confirm and prompt
// only record their message, so a payload that calls them is seen and the
// page is never blocked by a dialog.
const alertTrap = `(function () {
  var calls = [];
  Object.defineProperty(window, "__browsertestAlerts", { value: calls });
  function trap(kind) {
    return function (msg) { calls.push(kind + ": " + String(msg)); return kind === "confirm" ? false : null; };
  }
  window.alert = trap("alert");
  window.confirm = trap("confirm");
  window.prompt = trap("prompt");
})();`

// Open starts a fresh headless browser (its own profile in a temporary
// folder; no sandbox, GPU, sync, component updates or background
// networking), emulates the network as offline, loads htmlPath from a
// file:// URL and waits for its load event. It skips the test when no
// browser is installed, unless CI=true, where it fails. Any other failure to
// open fails the test.
func Open(t testing.TB, htmlPath string) *Page {
	t.Helper()
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return open(t, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), abs, "")
}

// OpenURL is Open for a page served over HTTP by the test itself (an
// httptest server on loopback, as gptviz serve's tests use): it loads u
// with the network on, and requests to u's own origin are not recorded;
// any other is (NetworkRequests, AssertClean).
func OpenURL(t testing.TB, u string) *Page {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" && pu.Scheme != "https" {
		t.Fatalf("browsertest: OpenURL %q: want an http(s) URL", u)
	}
	return open(t, u, pu.Host, pu.Scheme+"://"+pu.Host+"/")
}

// open opens u; name names the page in messages; requests under origin
// (when not empty) are the page's own, and the network stays on.
func open(t testing.TB, u, name, origin string) *Page {
	t.Helper()
	bin, err := Browser()
	if err != nil {
		if testref.CI() {
			t.Fatalf("browsertest: %v; CI=true requires a browser", err)
		}
		t.Skipf("browsertest: %v (this is a failure when CI=true)", err)
	}
	p := &Page{path: name, origin: origin}
	// Chromium now and then exits before it listens ("chrome failed to
	// start", seen on a loaded two-core machine, about one package run in
	// three): a fresh browser, up to three times, before the test fails.
	for attempt := 1; ; attempt++ {
		var stop func()
		p.ctx, stop, err = startBrowser(bin, p.listen)
		if err == nil {
			t.Cleanup(stop)
			break
		}
		stop()
		if attempt == 3 {
			t.Fatalf("browsertest: start %s (%d tries): %v", bin, attempt, err)
		}
		t.Logf("browsertest: start %s, try %d: %v; starting a fresh one", bin, attempt, err)
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}
	tctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	setup := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
			return fmt.Errorf("log.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return fmt.Errorf("network.enable: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: alertTrap}); err != nil {
			return fmt.Errorf("add alert trap: %w", err)
		}
		if origin != "" {
			return nil
		}
		if _, err := cdp.Call(ctx, tg, emulateOfflineByRule, offlineByRule{
			Offline:                  true,
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return fmt.Errorf("emulate offline: %w", err)
		}
		if _, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: true, DownloadThroughput: -1, UploadThroughput: -1,
		}); err != nil {
			return fmt.Errorf("override network state: %w", err)
		}
		return nil
	})
	if err := chromedp.Do(tctx, setup, chromedp.Navigate(u)); err != nil {
		t.Fatalf("browsertest: open %s: %v", u, err)
	}
	return p
}

// startBrowser starts a headless Chromium with a new profile and opens a
// tab whose events go to listen; stop closes it and removes the profile.
func startBrowser(bin string, listen func(any)) (ctx context.Context, stop func(), err error) {
	profile, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		return nil, func() {}, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(listen))
	stop = func() {
		cancelTab()
		cancelAlloc()
		// The browser's children may still write to the profile briefly.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return ctx, stop, chromedp.Do(ctx) // starts the browser, no timeout bound to it
}

// offlineByRule is Network.emulateNetworkConditionsByRule's parameters as
// both protocol versions take them: Chromium 148 wants "offline" at the
// top level (required) and rejects the call without it ("Invalid
// parameters"), where the protocol cdproto is generated from has it in
// each condition; each version ignores the other's field.
type offlineByRule struct {
	Offline                  bool                  `json:"offline"`
	MatchedNetworkConditions []*network.Conditions `json:"matchedNetworkConditions"`
}

var emulateOfflineByRule = cdp.Command[offlineByRule, network.EmulateNetworkConditionsByRuleResult]{Method: network.CommandEmulateNetworkConditionsByRule}

// listen records the events that tests assert on. It runs in the tab's
// event loop: it must return fast and run no command.
func (p *Page) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				switch {
				case len(a.Value) > 0:
					var s string
					if json.Unmarshal(a.Value, &s) == nil {
						parts = append(parts, s)
					} else {
						parts = append(parts, string(a.Value))
					}
				case a.Description != "":
					parts = append(parts, a.Description)
				default:
					parts = append(parts, string(a.Type))
				}
			}
			p.console = append(p.console, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		p.console = append(p.console, fmt.Sprintf("exception at %s:%d:%d: %s", d.URL, d.LineNumber+1, d.ColumnNumber+1, msg))
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.console = append(p.console, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") && (p.origin == "" || !strings.HasPrefix(u, p.origin)) {
			p.requests = append(p.requests, u)
		}
	case *page.EventJavascriptDialogOpening:
		p.dialogs = append(p.dialogs, string(ev.Type)+": "+ev.Message)
	}
}

// Context returns the context of the page's tab, for chromedp actions a test
// runs itself (chromedp.Do(p.Context(), chromedp.Click(…))).
func (p *Page) Context() context.Context { return p.ctx }

// ConsoleErrors returns, in order, the console.error/console.assert calls,
// uncaught exceptions and browser log errors (e.g. a refused resource) seen
// so far.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// NetworkRequests returns the URLs the page tried to load that are neither
// file: nor data: (with the network offline, none of them could succeed).
func (p *Page) NetworkRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Alerts returns every alert, confirm or prompt call the page made, as
// "alert: MESSAGE", from the trap installed before the page's scripts and
// from dialogs the browser reported.
func (p *Page) Alerts() ([]string, error) {
	var calls []string
	if err := p.Eval(`window.__browsertestAlerts || []`, &calls); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(calls, p.dialogs...), nil
}

// AssertClean fails t for every console error, alert and network request
// the page made.
func (p *Page) AssertClean(t testing.TB) {
	t.Helper()
	for _, e := range p.ConsoleErrors() {
		t.Errorf("%s: console error: %s", filepath.Base(p.path), e)
	}
	for _, r := range p.NetworkRequests() {
		t.Errorf("%s: network request: %s", filepath.Base(p.path), r)
	}
	alerts, err := p.Alerts()
	if err != nil {
		t.Errorf("%s: read alerts: %v", filepath.Base(p.path), err)
	}
	for _, a := range alerts {
		t.Errorf("%s: dialog fired: %s", filepath.Base(p.path), a)
	}
}

// Eval evaluates the JavaScript expression js in the page (promises are
// awaited) and decodes its JSON value into out (which may be nil). It
// returns the exception as an error if js throws.
func (p *Page) Eval(js string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("eval %.60q: %w", js, err)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("eval %.60q: decode %.80s: %w", js, raw, err)
	}
	return nil
}

// drawnJS measures each chart element: a string per id, "" when drawn or
// the reason it is not.
const drawnJS = `(function (ids) {
  if (ids.length === 0) {
    ids = Array.prototype.map.call(
      document.querySelectorAll(".cell-chart .chart, .cell-chart img.static"),
      function (e) { return e.id; });
  }
  var out = {};
  ids.forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) { out[id] = "no element with this id"; return; }
    if (el.tagName === "IMG") {
      out[id] = el.complete && el.naturalWidth > 0 ? "" : "image not decoded";
      return;
    }
    var r = el.getBoundingClientRect();
    if (r.width < 10 || r.height < 10) { out[id] = "element is " + r.width + "x" + r.height + " px"; return; }
    if (el.querySelector("svg")) { out[id] = ""; return; }
    var cv = el.querySelector("canvas");
    if (!cv) { out[id] = "no canvas or svg inside"; return; }
    if (cv.width === 0 || cv.height === 0) { out[id] = "canvas is 0 px"; return; }
    var d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    var ink = 0;
    for (var i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) ink++;
    }
    out[id] = ink >= 200 ? "" : "canvas is blank (" + ink + " inked pixels)";
  });
  return out;
})`

// ChartsDrawn waits until the page has started every chart
// (window.gptviz.pending is 0: page.js draws them one per task) and ECharts
// reports each finished (window.gptviz.finished), then checks that each
// chart given by id — all charts of the page when ids is empty — is drawn: a canvas with at least
// 200 non-white pixels, an SVG, or a decoded static image. It returns an
// error naming each chart that is not, and why; also when the page has no
// charts at all and ids is empty.
func (p *Page) ChartsDrawn(ids ...string) error {
	wait := `new Promise(function (resolve) {
  var t0 = Date.now();
  (function check() {
    var g = window.gptviz;
    var ok = g && !g.pending && Object.keys(g.charts).every(function (id) { return g.finished[id]; });
    if (ok || Date.now() - t0 > 20000) { resolve(!!ok); return; }
    setTimeout(check, 50);
  })();
})`
	var finished bool
	if err := p.Eval(wait, &finished); err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	arg, _ := json.Marshal(ids)
	var res map[string]string
	if err := p.Eval(drawnJS+"("+string(arg)+")", &res); err != nil {
		return err
	}
	if len(res) == 0 {
		return errors.New("the page has no charts")
	}
	var bad []string
	for id, why := range res {
		if why != "" {
			bad = append(bad, id+": "+why)
		}
	}
	sort.Strings(bad)
	if !finished {
		bad = append(bad, "ECharts did not report all charts finished within 20 s")
	}
	if len(bad) > 0 {
		return fmt.Errorf("charts not drawn: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Screenshot writes a PNG of the whole page (beyond the viewport) to path,
// creating its folder.
func (p *Page) Screenshot(path string) error {
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// ScreenshotPath returns where a test should write its screenshot named
// name (e.g. "report.png"): into $GPTVIZ_SCREENSHOTS when set (for humans
// to look at), else into the test's temporary folder.
func ScreenshotPath(t testing.TB, name string) string {
	if d := os.Getenv("GPTVIZ_SCREENSHOTS"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(t.TempDir(), name)
}
