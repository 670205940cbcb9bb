// gptviz serve: the live playground. Plain JavaScript, no framework; every
// text from the server or the model is set with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var lang = body.dataset.lang === "zh" ? "zh" : "en";
  var T = {
    en: {
      title: "gptviz: working memory, live",
      model: "Model",
      prompt: "Prompt — type, and see it split into tokens",
      seed: "Seed",
      start: "Run the prefill",
      limits: "Limits: {0} prompt tokens, {1} steps per session, {2} sessions; a session unused for {3} minutes is freed.",
      tokcount: "{0} tokens, {1} bytes (the context window holds {2}).",
      prefilling: "Prefilling the prompt…",
      stepping: "Step {0} of {1}…",
      ready: "Ready.",
      run: "Run",
      temperature: "Temperature",
      topk: "Top-k (0 off)",
      topp: "Top-p (1 off)",
      layer: "Layer",
      head: "Head",
      step: "Step",
      step5: "Step ×5",
      undo: "Undo",
      fork: "Fork",
      close: "Close",
      download: "Download",
      cands: "Next-token candidates — click one to force it (teacher forcing by hand)",
      token: "token",
      p: "P",
      psample: "P sampler",
      removed: "removed by {0}",
      entropy: "Entropy {0} bits.",
      chosen: "Step {0}: {1} — {2} (P {3}, sampler P {4}).",
      forcedw: "forced",
      sampledw: "sampled",
      kv: "KV cache: {0} positions of {1}, {2} (2 × n_layer × positions × n_embd × 4 bytes).",
      evicted: "Evicted from the window: {0}.",
      lens: "Logit lens of the newest token (top token after each block):",
      repro: "Reproducible: 'gptviz report' with these settings and seed writes this run.",
      norepro: "Forced tokens or settings changed between steps: the download records this run; no 'gptviz report' command reruns it.",
      nochart: "No chart yet: ",
      prefill: "prefill",
      tokenlist: "Tokens ({0} prompt + {1} generated)",
      lessons: "Lessons",
      lessonsnote: "Each lesson opens in a new tab, run on this server's model (the first opening of one takes a moment). Its try-it-yourself commands run in place: edit one and press Run."
    },
    zh: {
      title: "gptviz：实时观察工作记忆（working memory）",
      model: "模型",
      prompt: "提示词（prompt）——边输入边看它被切分成词元（token）",
      seed: "随机种子（seed）",
      start: "运行预填充（prefill）",
      limits: "限制：提示词最多 {0} 个词元，每个会话最多 {1} 步，最多 {2} 个会话；闲置 {3} 分钟的会话会被释放。",
      tokcount: "{0} 个词元，{1} 字节（上下文窗口可容纳 {2} 个）。",
      prefilling: "正在预填充提示词……",
      stepping: "第 {0} 步，共 {1} 步……",
      ready: "就绪。",
      run: "运行",
      temperature: "温度（temperature）",
      topk: "Top-k（0 为关闭）",
      topp: "Top-p（1 为关闭）",
      layer: "层（layer）",
      head: "注意力头（head）",
      step: "前进一步",
      step5: "前进 5 步",
      undo: "撤销",
      fork: "分叉（fork）",
      close: "关闭",
      download: "下载",
      cands: "下一个词元的候选——点击任一候选即可强制选择它（手动的教师强制，teacher forcing）",
      token: "词元",
      p: "概率 P",
      psample: "采样概率",
      removed: "被 {0} 过滤",
      entropy: "熵（entropy）{0} 比特。",
      chosen: "第 {0} 步：{1}——{2}（P {3}，采样概率 {4}）。",
      forcedw: "强制选择",
      sampledw: "采样得到",
      kv: "KV 缓存（KV cache）：{0} 个位置，上限 {1}，共 {2}（2 × n_layer × 位置数 × n_embd × 4 字节）。",
      evicted: "已移出上下文窗口：{0}。",
      lens: "最新词元的 logit lens（每个块之后排名第一的词元）：",
      repro: "可复现：用相同设置和种子运行 “gptviz report” 会得到这次运行。",
      norepro: "有强制选择的词元，或步与步之间改过设置：下载的文件记录的就是这次运行，但没有能复现它的 “gptviz report” 命令。",
      nochart: "暂无图表：",
      prefill: "预填充",
      tokenlist: "词元（提示词 {0} 个 + 生成 {1} 个）",
      lessons: "课程（lessons）",
      lessonsnote: "每节课在新标签页中打开，用本服务器加载的模型运行（第一次打开某节课需要稍等）。课中“自己试试”的命令可以直接在页面里运行：改一改，再点“运行”。"
    }
  }[lang];
  function t(key) {
    var s = T[key] || key;
    for (var i = 1; i < arguments.length; i++) s = s.split("{" + (i - 1) + "}").join(String(arguments[i]));
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pct(p) { return (100 * p).toFixed(p >= 0.0995 ? 1 : 2) + "%"; }
  function bytes(n) { return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B"; }

  document.querySelectorAll("[data-t]").forEach(function (e) { e.textContent = t(e.dataset.t); });
  document.getElementById("limits").textContent = t("limits", body.dataset.maxTokens, body.dataset.maxSteps, body.dataset.sessions, body.dataset.idle);
  var sw = document.getElementById("langswitch");
  sw.textContent = lang === "zh" ? "English" : "中文";
  sw.href = lang === "zh" ? "/" : "/?lang=zh";

  var status = document.getElementById("status");
  function say(msg, isErr) { status.textContent = msg; status.className = "status" + (isErr ? " error" : ""); }

  // api sends a JSON request and returns the parsed answer; a line-streamed
  // answer (steps) calls onLine for each line and returns the last.
  function api(method, path, data, onLine) {
    var opt = { method: method, headers: {}, credentials: "same-origin" };
    if (data !== undefined) { opt.body = JSON.stringify(data); opt.headers["Content-Type"] = "application/json"; }
    return fetch(path, opt).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.error || r.statusText); });
      if (ct.indexOf("x-ndjson") < 0) return r.json();
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "", last = null;
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) return last;
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\n")) >= 0) {
            var line = buf.slice(0, i); buf = buf.slice(i + 1);
            if (!line) continue;
            var v = JSON.parse(line);
            if (v.error) throw new Error(v.error);
            last = v;
            if (onLine) onLine(v);
          }
          return pump();
        });
      }
      return pump();
    });
  }

  // Live tokenisation of the prompt.
  var promptEl = document.getElementById("prompt"), tokensEl = document.getElementById("tokens"), tokinfo = document.getElementById("tokinfo");
  var tokTimer = 0, tokSeq = 0;
  function tokenize() {
    var seq = ++tokSeq;
    api("POST", "/api/tokenize", { prompt: promptEl.value }).then(function (r) {
      if (seq !== tokSeq) return;
      tokensEl.textContent = "";
      r.tokens.forEach(function (tk) {
        var s = el("span", "tok", tk.display);
        s.title = "id " + tk.id;
        tokensEl.appendChild(s);
      });
      tokinfo.textContent = t("tokcount", r.tokens.length, r.bytes, r.n_positions) + (r.too_long ? " " + r.too_long : "");
      tokinfo.className = "muted" + (r.too_long ? " status error" : "");
    }).catch(function (e) { if (seq === tokSeq) { tokinfo.textContent = e.message; tokinfo.className = "status error"; } });
  }
  promptEl.addEventListener("input", function () { clearTimeout(tokTimer); tokTimer = setTimeout(tokenize, 150); });

  var columns = document.getElementById("columns");
  var cols = [];
  var colN = 0;

  document.getElementById("start").addEventListener("click", function () {
    var seed = parseInt(document.getElementById("seed").value, 10) || 0;
    say(t("prefilling"));
    api("POST", "/api/sessions", { prompt: promptEl.value, seed: seed }).then(function (st) {
      cols.slice().forEach(function (c) { c.close(); });
      addColumn(st);
      say(t("ready"));
    }).catch(function (e) { say(e.message, true); });
  });

  window.addEventListener("pagehide", function () {
    cols.forEach(function (c) { navigator.sendBeacon("/api/sessions/" + c.st.id + "/close"); });
  });

  function slider(key, min, max, step, value) {
    var l = el("label");
    l.appendChild(el("span", null, t(key)));
    var r = el("input"); r.type = "range"; r.min = min; r.max = max; r.step = step; r.value = value; r.name = key;
    var o = el("output", null, String(value));
    r.addEventListener("input", function () { o.textContent = r.value; });
    l.appendChild(r); l.appendChild(o);
    return { label: l, input: r };
  }
  function select(key, n, value) {
    var l = el("label");
    l.appendChild(el("span", null, t(key) + " "));
    var s = el("select"); s.name = key;
    for (var i = 0; i < n; i++) { var o = el("option", null, String(i)); o.value = i; s.appendChild(o); }
    s.value = value;
    l.appendChild(s);
    return { label: l, input: s };
  }

  // addColumn shows session st in a new column, with its own sliders.
  function addColumn(st) {
    var c = { st: st, n: ++colN, charts: {} };
    var root = el("section", "col"); root.dataset.col = c.n;
    root.appendChild(el("h2", null, t("run") + " " + c.n));
    var sl = el("div", "sliders");
    var temp = slider("temperature", 0, 2, 0.05, st.temperature), topk = slider("topk", 0, 100, 1, st.top_k), topp = slider("topp", 0.05, 1, 0.05, st.top_p);
    temp.input.classList.add("temperature"); topk.input.classList.add("top-k"); topp.input.classList.add("top-p");
    [temp, topk, topp].forEach(function (s) { sl.appendChild(s.label); s.input.addEventListener("change", settings); });
    root.appendChild(sl);
    var row = el("div", "row");
    var layer = select("layer", +body.dataset.layers, st.layer), head = select("head", +body.dataset.heads, st.head);
    layer.input.addEventListener("change", settings); head.input.addEventListener("change", settings);
    row.appendChild(layer.label); row.appendChild(head.label);
    root.appendChild(row);
    var btns = el("div", "row");
    function button(key, cls, f) { var b = el("button", cls, t(key)); b.type = "button"; b.addEventListener("click", f); btns.appendChild(b); return b; }
    button("step", "step", function () { step(1); });
    button("step5", "step5", function () { step(5); });
    button("undo", "undo", function () { act(api("POST", "/api/sessions/" + c.st.id + "/undo")); });
    button("fork", "fork", function () {
      api("POST", "/api/sessions/" + c.st.id + "/fork").then(function (st) { addColumn(st); }).catch(function (e) { say(e.message, true); });
    });
    var fmt = el("select", "format");
    ["html", "ipynb", "json"].forEach(function (f) { var o = el("option", null, f); o.value = f; fmt.appendChild(o); });
    btns.appendChild(fmt);
    var dl = el("a", "download", t("download")); dl.setAttribute("download", "");
    btns.appendChild(dl);
    fmt.addEventListener("change", function () { setLink(); });
    button("close", "close", function () { c.close(); });
    root.appendChild(btns);
    var repro = el("p", "muted repro");
    root.appendChild(repro);
    var toklist = el("div", "tokens session-tokens"), tokhead = el("p", "muted");
    root.appendChild(tokhead); root.appendChild(toklist);
    var chosen = el("p", "chosen");
    root.appendChild(chosen);
    root.appendChild(el("p", "chart-title", t("cands")));
    var cands = el("table", "cands");
    root.appendChild(cands);
    var entropy = el("p", "muted");
    root.appendChild(entropy);
    var kv = el("p", "kv"), ev = el("p", "muted evictions"), lens = el("div", "lens");
    root.appendChild(kv); root.appendChild(ev); root.appendChild(lens);
    var chartsEl = el("div", "charts");
    root.appendChild(chartsEl);
    columns.appendChild(root);
    cols.push(c);

    function setLink() {
      dl.href = "/api/sessions/" + c.st.id + "/download?format=" + fmt.value + "&lang=" + lang;
      dl.setAttribute("download", { html: "report.html", ipynb: "report.ipynb", json: "trace.json" }[fmt.value]);
    }
    function settings() {
      act(api("POST", "/api/sessions/" + c.st.id + "/settings", {
        temperature: +temp.input.value, top_k: +topk.input.value, top_p: +topp.input.value,
        layer: +layer.input.value, head: +head.input.value
      }));
    }
    function step(n) {
      var k = 0;
      say(t("stepping", 1, n));
      act(api("POST", "/api/sessions/" + c.st.id + "/step", { n: n }, function (st) {
        k++; show(st, true); say(t("stepping", Math.min(k + 1, n), n));
      }));
    }
    function act(p) {
      btns.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      return p.then(function (st) { show(st); say(t("ready")); })
        .catch(function (e) { say(e.message, true); })
        .then(function () { btns.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); });
    }
    // show draws state st; the charts (one more request) unless noCharts,
    // as while the steps of one request stream in.
    function show(st, noCharts) {
      c.st = st;
      root.dataset.steps = st.steps;
      setLink();
      repro.textContent = st.reproducible ? t("repro") : t("norepro");
      tokhead.textContent = t("tokenlist", st.prompt_len, st.steps);
      toklist.textContent = "";
      st.tokens.forEach(function (tk, i) {
        var cls = "tok" + (tk.prompt ? "" : " gen") + (tk.forced ? " forced" : "") + (tk.evicted ? " evicted" : "") + (i === st.tokens.length - 1 ? " newest" : "");
        var s = el("span", cls, tk.display); s.title = "position " + i + ", id " + tk.id;
        toklist.appendChild(s);
      });
      chosen.textContent = st.chosen ? t("chosen", st.steps, st.tokens[st.tokens.length - 1].forced ? t("forcedw") : t("sampledw"), st.chosen.display, pct(st.chosen.prob), pct(st.chosen.sample_prob)) : "";
      cands.textContent = "";
      var hr = el("tr");
      [t("token"), "id", t("p"), t("psample")].forEach(function (h) { hr.appendChild(el("th", null, h)); });
      cands.appendChild(hr);
      st.candidates.forEach(function (cd) {
        var tr = el("tr", "cand" + (cd.removed_by ? " removed" : "")); tr.dataset.id = cd.id;
        tr.appendChild(el("td", null, cd.display));
        tr.appendChild(el("td", null, String(cd.id)));
        var pc = el("td"); var bar = el("span", "bar"); bar.style.width = Math.round(80 * cd.prob) + "px";
        pc.appendChild(bar); pc.appendChild(document.createTextNode(" " + pct(cd.prob)));
        tr.appendChild(pc);
        tr.appendChild(el("td", null, cd.removed_by ? t("removed", cd.removed_by) : pct(cd.sample_prob)));
        tr.addEventListener("click", function () { act(api("POST", "/api/sessions/" + c.st.id + "/force", { id: cd.id })); });
        cands.appendChild(tr);
      });
      entropy.textContent = t("entropy", st.entropy_bits.toFixed(2));
      kv.textContent = t("kv", st.kv.positions, st.n_positions, bytes(st.kv.bytes));
      ev.textContent = st.evictions.length ? t("evicted", st.evictions.map(function (e) { return e.display; }).join(" ")) : "";
      lens.textContent = "";
      lens.appendChild(el("p", "muted", t("lens")));
      (st.last.lens || []).forEach(function (e, l) { lens.appendChild(el("span", null, l + ": " + e.display + " " + pct(e.prob))); });
      if (!noCharts) drawCharts();
    }
    var chartSeq = 0;
    function drawCharts() {
      var seq = ++chartSeq;
      api("GET", "/api/sessions/" + c.st.id + "/charts?lang=" + lang).then(function (r) {
        if (seq !== chartSeq) return;
        chartsEl.textContent = "";
        for (var id in c.charts) c.charts[id].dispose();
        c.charts = {};
        r.charts.forEach(function (ch) {
          chartsEl.appendChild(el("p", "chart-title", ch.title));
          var div = el("div", "chart"); div.dataset.chart = ch.id; div.style.height = (ch.height || 300) + "px";
          chartsEl.appendChild(div);
          var inst = echarts.init(div, null, { renderer: "canvas" });
          inst.setOption(ch.option);
          var tl = ch.option.baseOption && ch.option.baseOption.timeline;
          if (tl && tl.data && tl.data.length) inst.dispatchAction({ type: "timelineChange", currentIndex: tl.data.length - 1 });
          c.charts[ch.id] = inst;
        });
        root.dataset.charts = r.charts.length;
      }).catch(function (e) { chartsEl.textContent = t("nochart") + e.message; });
    }
    c.close = function () {
      api("DELETE", "/api/sessions/" + c.st.id).catch(function () {});
      for (var id in c.charts) c.charts[id].dispose();
      root.remove();
      cols.splice(cols.indexOf(c), 1);
    };
    c.show = show;
    show(st);
    return c;
  }
  // The lessons, each opened in a new tab (GET /lessons/N).
  api("GET", "/api/lessons?lang=" + lang).then(function (r) {
    var list = document.getElementById("lessonlist");
    r.lessons.forEach(function (l) {
      var li = el("li"), a = el("a", null, l.title);
      a.href = l.url; a.target = "_blank"; a.rel = "noopener"; a.dataset.lesson = l.number;
      li.value = l.number; li.appendChild(a); list.appendChild(li);
    });
    document.getElementById("lessons").hidden = false;
  }).catch(function () {});
  window.gptvizServe = { columns: cols };
  promptEl.value = lang === "zh" ? "The light" : "The light";
  tokenize();
  window.addEventListener("resize", function () { cols.forEach(function (c) { for (var id in c.charts) c.charts[id].resize(); }); });
})();
