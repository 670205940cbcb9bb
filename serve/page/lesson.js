// gptviz serve: makes the try-it-yourself cells of a lesson page runnable.
// Each gptviz command of a shell cell becomes an editable line with a Run
// button; the server runs it on its model (POST /api/run) and the result
// appears under it: the page it wrote in a frame, or what it printed.
// Every text from the server is set with textContent, never as HTML.
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var T = zh ? {
    note: "在服务器已加载的模型上直接运行这些命令（不经过 shell：引号用来组成一个参数，其余字符都按原样传给命令）。可以先修改再运行，例如加上 --lang zh 得到中文报告；Ctrl+Enter 也可运行。",
    run: "运行",
    running: "正在运行……",
    done: "完成，用时 {0} 秒。",
    open: "在新标签页中打开",
    download: "下载 {0}",
    back: "← 返回 gptviz serve",
    cancelled: "已取消。"
  } : {
    note: "Run these commands on the server's loaded model, in place (no shell: quotes group a word, every other character goes to the command as it is). Edit a line before running it; Ctrl+Enter runs it too.",
    run: "Run",
    running: "Running…",
    done: "Done in {0} s.",
    open: "Open in a new tab",
    download: "Download {0}",
    back: "← back to gptviz serve",
    cancelled: "Cancelled."
  };
  function t(key, a) { return T[key].split("{0}").join(String(a)); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var css = el("style");
  css.textContent = ".try-run{margin:6px 0 0}.try-note{font-size:13px;color:#57606a;margin:4px 0}" +
    ".try-line{display:flex;gap:8px;align-items:flex-start;margin:6px 0}" +
    ".try-cmd{flex:1;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:6px;border:1px solid #d0d7de;border-radius:6px;resize:vertical}" +
    ".try-btn{font:inherit;font-size:14px;padding:4px 14px;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;cursor:pointer}" +
    ".try-btn:disabled{opacity:.5;cursor:default}.try-status{font-size:13px;color:#0969da;margin:2px 0}.try-status.error{color:#cf222e;white-space:pre-wrap}" +
    ".try-frame{width:100%;height:640px;border:1px solid #d0d7de;border-radius:6px;background:#fff}" +
    ".try-text{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;padding:6px;border-radius:6px;white-space:pre-wrap;max-height:420px;overflow:auto}" +
    ".try-back{font-size:14px;margin:8px 0}";
  document.head.appendChild(css);

  var main = document.querySelector("main") || document.body;
  var back = el("p", "try-back");
  var a = el("a", null, T.back);
  a.href = zh ? "/?lang=zh" : "/";
  back.appendChild(a);
  main.insertBefore(back, main.firstChild);

  // commands splits a cell's text into command lines: at newlines outside
  // quotes and not after a backslash, as a shell reads them.
  function commands(text) {
    var out = [], cur = "", q = "";
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === "\\" && q !== "'" && i + 1 < text.length) { cur += c + text[++i]; continue; }
      if (q) { if (c === q) q = ""; cur += c; continue; }
      if (c === "'" || c === '"') { q = c; cur += c; continue; }
      if (c === "\n") { out.push(cur); cur = ""; continue; }
      cur += c;
    }
    out.push(cur);
    return out.map(function (s) { return s.trim(); }).filter(function (s) { return s !== ""; });
  }

  var running = [];
  window.addEventListener("pagehide", function () { running.forEach(function (c) { c.abort(); }); });

  function line(cmd, box) {
    var row = el("div", "try-line");
    var ta = el("textarea", "try-cmd");
    ta.value = cmd; ta.rows = cmd.split("\n").length; ta.spellcheck = false;
    var btn = el("button", "try-btn", T.run); btn.type = "button";
    row.appendChild(ta); row.appendChild(btn);
    var status = el("p", "try-status"), out = el("div", "try-out");
    box.appendChild(row); box.appendChild(status); box.appendChild(out);
    function run() {
      if (btn.disabled) return;
      var ctl = new AbortController(), started = Date.now();
      running.push(ctl);
      btn.disabled = true; status.className = "try-status"; status.textContent = T.running; out.textContent = "";
      fetch("/api/run", { method: "POST", credentials: "same-origin", signal: ctl.signal,
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ command: ta.value }) })
        .then(function (r) { return r.json().then(function (v) { if (!r.ok) throw new Error(v.error || r.statusText); return v; }); })
        .then(function (r) {
          status.textContent = t("done", ((Date.now() - started) / 1000).toFixed(1));
          if (r.kind === "page") {
            var f = el("iframe", "try-frame"); f.src = r.url; f.title = r.name;
            out.appendChild(f);
            var p = el("p"), o = el("a", null, T.open); o.href = r.url; o.target = "_blank"; o.rel = "noopener";
            p.appendChild(o); out.appendChild(p);
          } else if (r.kind === "file") {
            var d = el("a", null, t("download", r.name)); d.href = r.url; d.setAttribute("download", r.name);
            out.appendChild(d);
          }
          if (r.stdout) out.appendChild(el("pre", "try-text try-stdout", r.stdout));
          if (r.stderr) out.appendChild(el("pre", "try-text try-stderr", r.stderr));
          out.dataset.kind = r.kind;
        })
        .catch(function (e) { status.className = "try-status error"; status.textContent = e.name === "AbortError" ? T.cancelled : e.message; })
        .then(function () { btn.disabled = false; running.splice(running.indexOf(ctl), 1); });
    }
    btn.addEventListener("click", run);
    ta.addEventListener("keydown", function (e) { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  }

  document.querySelectorAll(".cell-code").forEach(function (cell) {
    var lang = cell.querySelector(".lang"), code = cell.querySelector("pre code");
    if (!lang || lang.textContent !== "shell" || !code) return;
    var all = commands(code.textContent);
    var cmds = all.filter(function (s) { return /^gptviz\s/.test(s); });
    if (!cmds.length) return;
    var box = el("div", "try-run");
    box.appendChild(el("p", "try-note", T.note));
    cmds.forEach(function (c) { line(c, box); });
    // The editable lines replace the listing when they hold all of it.
    if (cmds.length === all.length) cell.querySelector("pre").hidden = true;
    cell.appendChild(box);
  });
})();
