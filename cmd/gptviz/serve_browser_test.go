package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gptviz/gptviz/output/browsertest"
)

// TestServeBrowser drives gptviz serve's page in a real Chromium as a
// learner would: type a prompt (tokenised live), run the prefill, step five
// times, force a candidate, undo, move a slider, fork into two columns, and
// download the first column's report, which must be byte for byte what
// 'gptviz report' writes for the same tokens. The same in Chinese. No
// console errors, no request outside the server.
func TestServeBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	srv, ts := startServe(t)
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			p := browsertest.OpenURL(t, srv.URL(ts.Listener.Addr().String(), lang))
			ctx := p.Context()
			run := func(actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				tctx, cancel := context.WithTimeout(ctx, browsertest.Timeout)
				defer cancel()
				if err := chromedp.Do(tctx, actions...); err != nil {
					t.Fatal(err)
				}
			}
			// wait evaluates a condition until it holds.
			wait := func(cond string) {
				t.Helper()
				js := `new Promise(function (res) { (function f() { if (` + cond + `) res(true); else setTimeout(f, 30); })(); })`
				if err := p.Eval(js, nil); err != nil {
					t.Fatalf("waiting for %s: %v", cond, err)
				}
			}
			eval := func(js string, out any) {
				t.Helper()
				if err := p.Eval(js, out); err != nil {
					t.Fatalf("%s: %v", js, err)
				}
			}
			// Type a prompt: the tokens appear as it is typed.
			eval(`document.getElementById("prompt").value = ""; document.getElementById("seed").value = "3"; true`, nil)
			run(chromedp.SendKeys(chromedp.CSS("#prompt"), "The light of"))
			wait(`document.getElementById("tokinfo").textContent.indexOf("12") >= 0`)
			var ntok int
			eval(`document.querySelectorAll("#tokens .tok").length`, &ntok)
			if ntok == 0 {
				t.Fatal("no tokens shown for the typed prompt")
			}
			run(chromedp.Click(chromedp.CSS("#start")))
			wait(`document.querySelector(".col[data-col] .cand")`)
			col1 := `document.querySelector(".col[data-col='1'], .col")`
			run(chromedp.Click(chromedp.CSS(".col .step5")))
			wait(col1 + `.dataset.steps === "5"`)
			var five string
			eval(`Array.from(document.querySelectorAll(".col .session-tokens .tok")).map(function (e) { return e.textContent; }).join("|")`, &five)
			// Force the third candidate, then undo it.
			var forcedID string
			eval(`document.querySelectorAll(".col .cand")[2].dataset.id`, &forcedID)
			run(chromedp.Click(chromedp.CSS(`.col[data-col="1"] .cand[data-id="` + forcedID + `"]`)))
			wait(col1 + `.dataset.steps === "6"`)
			var forced bool
			eval(`document.querySelector(".col .session-tokens .tok.newest").classList.contains("forced")`, &forced)
			if !forced {
				t.Error("the forced token is not marked forced")
			}
			run(chromedp.Click(chromedp.CSS(".col .undo")))
			wait(col1 + `.dataset.steps === "5"`)
			var after string
			eval(`Array.from(document.querySelectorAll(".col .session-tokens .tok")).map(function (e) { return e.textContent; }).join("|")`, &after)
			if after != five {
				t.Errorf("after undo the tokens are\n%s\nwant\n%s", after, five)
			}
			// Move the temperature slider: the candidates' sampler column changes.
			eval(`(function () { var r = document.querySelector(".col .temperature"); r.value = "0"; r.dispatchEvent(new Event("input")); r.dispatchEvent(new Event("change")); return true; })()`, nil)
			wait(`gptvizServe.columns[0].st.temperature === 0`)
			// Fork: a second column, stepped on its own.
			run(chromedp.Click(chromedp.CSS(".col .fork")))
			wait(`document.querySelectorAll(".col").length === 2`)
			run(chromedp.Click(chromedp.CSS(`.col[data-col="2"] .step`)))
			wait(`document.querySelector('.col[data-col="2"]').dataset.steps === "6"`)
			wait(col1 + `.dataset.steps === "5" && document.querySelector('.col[data-col="1"]').dataset.charts === "4"`)
			// Download the first column's report and compare with gptviz report.
			var got string
			eval(`fetch(document.querySelector('.col[data-col="1"] a.download').href).then(function (r) { return r.text(); })`, &got)
			out := filepath.Join(t.TempDir(), "report.html")
			var stdout, stderr bytes.Buffer
			args := []string{"report", "--reproducible", "--steps", "5", "--temperature", "1", "--seed", "3", "--lang", lang, "-o", out, "The light of"}
			if err := runMain(args, &stdout, &stderr); err != nil {
				t.Fatalf("gptviz %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			want, _ := os.ReadFile(out)
			if got != string(want) {
				os.WriteFile(out+".got", []byte(got), 0o644)
				t.Errorf("the downloaded report differs from gptviz report (%d vs %d bytes); see %s.got", len(got), len(want), out)
			}
			shot := browsertest.ScreenshotPath(t, fmt.Sprintf("serve-%s.png", lang))
			if err := p.Screenshot(shot); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot: %s", shot)
			p.AssertClean(t)
		})
	}
}

func runMain(args []string, stdout, stderr *bytes.Buffer) error {
	return run(context.Background(), args, stdout, stderr)
}

// TestServeLessonBrowser opens a lesson from gptviz serve's page in a real
// Chromium, as a learner would: the page lists the lessons; the lesson
// opens rendered on the server's model in the page's language; a try-it
// cell's commands are editable lines with Run buttons; running a `gptviz
// tokens` line shows what the command prints, running a `gptviz report`
// line shows the report it wrote in a frame under the cell. No console
// errors, no request outside the server.
func TestServeLessonBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	srv, ts := startServe(t)
	for _, lang := range []string{"en", "zh"} {
		t.Run(lang, func(t *testing.T) {
			p := browsertest.OpenURL(t, srv.URL(ts.Listener.Addr().String(), lang))
			ctx := p.Context()
			wait := func(cond string) {
				t.Helper()
				js := `new Promise(function (res) { (function f() { if (` + cond + `) res(true); else setTimeout(f, 30); })(); })`
				if err := p.Eval(js, nil); err != nil {
					t.Fatalf("waiting for %s: %v", cond, err)
				}
			}
			eval := func(js string, out any) {
				t.Helper()
				if err := p.Eval(js, out); err != nil {
					t.Fatalf("%s: %v", js, err)
				}
			}
			wait(`document.querySelector("#lessonlist a[data-lesson='1']")`)
			var href string
			eval(`document.querySelector("#lessonlist a[data-lesson='1']").href`, &href)
			if !strings.Contains(href, "/lessons/1") || lang == "zh" && !strings.Contains(href, "lang=zh") {
				t.Fatalf("lesson 1's link is %s", href)
			}
			// The link opens a new tab; the test opens it in this one.
			tctx, cancel := context.WithTimeout(ctx, 4*browsertest.Timeout)
			defer cancel()
			if err := chromedp.Do(tctx, chromedp.Navigate(href)); err != nil {
				t.Fatal(err)
			}
			wait(`document.querySelectorAll(".try-run .try-btn").length > 0`)
			var htmlLang string
			eval(`document.documentElement.lang`, &htmlLang)
			if want := map[string]string{"en": "en", "zh": "zh-CN"}[lang]; htmlLang != want {
				t.Errorf("the lesson's language is %q, want %q", htmlLang, want)
			}
			// Run the cell's tokens line: the text the command prints.
			var i int
			eval(`Array.from(document.querySelectorAll(".try-cmd")).findIndex(function (e) { return e.value.indexOf("gptviz tokens") === 0; })`, &i)
			if i < 0 {
				t.Fatal("lesson 1 has no gptviz tokens line in its try-it cell")
			}
			line := fmt.Sprintf(`document.querySelectorAll(".try-line")[%d]`, i)
			out := line + `.nextElementSibling.nextElementSibling`
			eval(line+`.querySelector("button").click(); true`, nil)
			wait(out + `.dataset.kind === "text"`)
			var printed string
			eval(out+`.querySelector(".try-stdout").textContent`, &printed)
			if !strings.Contains(printed, "tokens (context window") {
				t.Errorf("gptviz tokens printed %q", printed)
			}
			// Edit a report line to fewer steps and run it: the report
			// appears in a frame.
			eval(`Array.from(document.querySelectorAll(".try-cmd")).findIndex(function (e) { return e.value.indexOf("gptviz report") === 0; })`, &i)
			if i < 0 {
				t.Fatal("lesson 1 has no gptviz report line")
			}
			line = fmt.Sprintf(`document.querySelectorAll(".try-line")[%d]`, i)
			out = line + `.nextElementSibling.nextElementSibling`
			eval(line+`.querySelector("textarea").value = 'gptviz report --steps 3 "The Rays of Light are"'; `+line+`.querySelector("button").click(); true`, nil)
			wait(out + `.dataset.kind === "page"`)
			var src string
			eval(out+`.querySelector("iframe").src`, &src)
			if !strings.Contains(src, "/results/") || !strings.HasSuffix(src, "/report.html") {
				t.Errorf("the frame shows %s", src)
			}
			// The frame is sandboxed (an origin of its own, so a process of
			// its own): read the report it drew through its own target.
			var drawn string
			for start := time.Now(); time.Since(start) < browsertest.Timeout && drawn == ""; time.Sleep(100 * time.Millisecond) {
				tgs, err := chromedp.Targets(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, tg := range tgs {
					if tg.Type != "iframe" || tg.URL != src {
						continue
					}
					// Cancelling fctx would close the frame's target: leave
					// it to the end of the test.
					fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(tg.TargetID))
					t.Cleanup(cancel)
					drawn, _ = chromedp.Run(fctx, chromedp.Evaluate[string](`document.querySelector("h1") && document.querySelectorAll("canvas").length > 0 ? document.querySelector("h1").textContent : ""`))
				}
			}
			if drawn == "" {
				t.Error("the report in the frame has no title and no chart drawn")
			}
			shot := browsertest.ScreenshotPath(t, fmt.Sprintf("serve-lesson-%s.png", lang))
			if err := p.Screenshot(shot); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot: %s", shot)
			p.AssertClean(t)
			// A command that does not run on the server says so in place (the
			// browser logs the 400, so after AssertClean).
			eval(line+`.querySelector("textarea").value = 'gptviz pull gpt2; rm -rf /'; `+line+`.querySelector("button").click(); true`, nil)
			wait(line + `.nextElementSibling.classList.contains("error")`)
			var msg string
			eval(line+`.nextElementSibling.textContent`, &msg)
			if !strings.Contains(msg, "does not run on this server") {
				t.Errorf("refusal: %q", msg)
			}
		})
	}
}
