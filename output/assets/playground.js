(function () {
  "use strict";
  // The sampling playground of gptviz (output.Playground). Each playground's
  // data is inert JSON in a script element of type application/json with
  // the attribute data-playground="ID" (format: viz.PlaygroundData, version 1):
  //   vocab, run {temperature, top_k, top_p}, tokens_from, tokens [display],
  //   labels {id: display}, steps [{step, position, ids, logits, lse, chosen,
  //   greedy}], words {key: text with {0} {1} … placeholders}.
  // It is parsed, never evaluated; all text goes into the page as text.
  //
  // sample() is model.Sampler.Sample (model/sample.go) on the recorded
  // logits, operation for operation, in float64: temperature → top-k →
  // top-p, then renormalise. window.gptvizPlayground exposes it and, per
  // playground ID, set({step, temperature, top_k, top_p}) and state(), for
  // tests and curious readers.

  var TOP_P_TOLERANCE = 1e-9; // model.topPTolerance
  var ROWS = 10; // candidates shown one by one

  // sample returns what the sampler does with logits (highest first, ties
  // by id: the sampler's order) at temperature T (0: greedy), top-k K (0:
  // off) and top-p P (1: off): tempered = softmax(logits / T), keptK and
  // keptP = how many survive top-k and then top-p (a prefix), massK and
  // massP = their tempered mass, final = the renormalised distribution
  // sampled from, entropy = its entropy in bits, temperedEntropy = that of
  // tempered.
  function sample(logits, T, K, P) {
    var n = logits.length, i;
    var r = { greedy: T === 0, tempered: new Array(n), final: new Array(n), keptK: n, keptP: n,
      massK: 1, massP: 1, entropy: 0, temperedEntropy: 0 };
    if (r.greedy) {
      for (i = 0; i < n; i++) {
        r.tempered[i] = r.final[i] = i === 0 ? 1 : 0;
      }
      r.keptK = r.keptP = 1;
      return r;
    }
    var m = -Infinity;
    for (i = 0; i < n; i++) m = Math.max(m, logits[i]);
    var sum = 0;
    for (i = 0; i < n; i++) {
      var e = Math.exp((logits[i] - m) / T);
      r.tempered[i] = e;
      sum += e;
    }
    var h = 0;
    for (i = 0; i < n; i++) {
      r.tempered[i] /= sum;
      if (r.tempered[i] > 0) h -= r.tempered[i] * Math.log2(r.tempered[i]);
    }
    r.temperedEntropy = h;
    if (K > 0 && K < n) r.keptK = K;
    var mass = 0;
    for (i = 0; i < r.keptK; i++) mass += r.tempered[i];
    r.massK = mass;
    r.keptP = r.keptK;
    if (P < 1) {
      var cum = 0;
      for (i = 0; i < r.keptK; i++) {
        cum += r.tempered[i] / mass;
        if (cum >= P - TOP_P_TOLERANCE) {
          r.keptP = i + 1;
          break;
        }
      }
    }
    mass = 0;
    for (i = 0; i < r.keptP; i++) mass += r.tempered[i];
    r.massP = mass;
    for (i = 0; i < n; i++) r.final[i] = i < r.keptP && mass > 0 ? r.tempered[i] / mass : 0;
    for (i = 0; i < r.keptP; i++) {
      var q = r.tempered[i] / mass;
      if (q > 0) r.entropy -= q * Math.log2(q);
    }
    return r;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fill(s, args) {
    return String(s).replace(/\{(\d+)\}/g, function (_, i) { return String(args[+i]); });
  }

  function prob(p) {
    if (p === 0) return "0";
    if (p < 0.001) return p.toExponential(1);
    return p.toPrecision(3);
  }

  // share writes a share of the probability that may be within a hair of
  // 1: "99.7%", or "1 − 1.7e-7" rather than a rounded "100%".
  function share(p) {
    if (p >= 1) return "100%";
    if (p >= 0.9995) return "1 − " + prob(1 - p);
    return (100 * p).toPrecision(3) + "%";
  }

  var all = {};
  window.gptvizPlayground = { sample: sample, playgrounds: all };

  function build(root, d) {
    var w = function (key) {
      var args = Array.prototype.slice.call(arguments, 1);
      return fill(d.words[key] || key, args);
    };
    var steps = d.steps.map(function (s) {
      return { s: s, logits: s.logits.map(Math.fround) };
    });
    var maxN = 0;
    steps.forEach(function (s) { maxN = Math.max(maxN, s.logits.length); });
    var uid = root.id;

    var controls = el("div", "pg-controls");
    function slider(name, label, min, max, step, value) {
      var row = el("div", "pg-row");
      var lab = el("label", "pg-label", label);
      var input = el("input");
      input.type = "range";
      input.id = uid + "-" + name;
      input.name = name;
      input.min = String(min);
      input.max = String(max);
      input.step = step === 1 ? "1" : "any";
      input.value = String(value);
      lab.htmlFor = input.id;
      var out = el("output", "pg-value");
      out.htmlFor = input.id;
      row.appendChild(lab);
      row.appendChild(input);
      row.appendChild(out);
      controls.appendChild(row);
      input.addEventListener("input", function () {
        // A drag stops on round values (two decimals); set() keeps any
        // value, such as the run's own settings.
        if (step !== 1) input.value = String(Math.max(min, Math.round(+input.value * 100) / 100));
        update();
      });
      return { input: input, out: out };
    }
    var run = d.run;
    var stepS = slider("step", w("pg.step"), 0, steps.length - 1, 1, 0);
    var tS = slider("temperature", w("pg.temperature"), 0, Math.max(2, run.temperature), 0.05, run.temperature);
    var kS = slider("top-k", w("pg.topk"), 0, Math.max(maxN, run.top_k), 1, run.top_k);
    var pS = slider("top-p", w("pg.topp"), 0.01, 1, 0.01, run.top_p);
    var reset = el("button", "pg-reset", w("pg.reset"));
    reset.type = "button";
    reset.addEventListener("click", function () {
      set({ temperature: run.temperature, top_k: run.top_k, top_p: run.top_p });
    });
    controls.appendChild(reset);
    root.appendChild(controls);

    var context = el("p", "pg-context");
    root.appendChild(context);
    var pipeline = el("ol", "pg-pipeline");
    pipeline.title = w("pg.pipeline");
    root.appendChild(pipeline);
    var wrap = el("div", "pg-table-wrap");
    var table = el("table", "pg-table");
    wrap.appendChild(table);
    root.appendChild(wrap);
    var exactNote = el("p", "pg-exact");
    root.appendChild(exactNote);
    root.appendChild(el("p", "pg-note", w("pg.notrerun")));

    var state = null;

    function label(id) {
      var l = d.labels[String(id)];
      return l === undefined ? "#" + id : l;
    }

    function barCell(tr, p, removed) {
      var td = el("td", "pg-p");
      if (removed) {
        td.className += " pg-removed";
        td.textContent = removed;
      } else {
        var bar = el("span", "pg-bar");
        var f = el("span", "pg-fill");
        f.style.width = Math.max(0, Math.min(100, 100 * p)).toFixed(2) + "%";
        bar.appendChild(f);
        td.appendChild(bar);
        td.appendChild(el("span", "pg-num", prob(p)));
      }
      tr.appendChild(td);
    }

    function update() {
      var si = +stepS.input.value;
      var T = +tS.input.value, K = Math.round(+kS.input.value), P = +pS.input.value;
      var st = steps[si], s = st.s, n = st.logits.length;
      var r = sample(st.logits, T, K, P);
      var raw = st.logits.map(function (v) { return Math.exp(v - s.lse); });
      var rawMass = 0;
      raw.forEach(function (p) { rawMass += p; });
      var exact = n === d.vocab || r.greedy || (K > 0 && K <= n);
      stepS.out.textContent = fill("{0} / {1}", [s.step, steps[steps.length - 1].s.step]);
      tS.out.textContent = T === 0 ? "0 (" + w("pg.greedy") + ")" : String(T);
      kS.out.textContent = K === 0 ? w("pg.off") : String(K);
      pS.out.textContent = P >= 1 ? "1 (" + w("pg.off") + ")" : String(P);

      // The context and the token the run sampled.
      context.textContent = "";
      context.appendChild(el("span", "pg-context-label", w("pg.context") + ": "));
      var from = Math.max(d.tokens_from, s.position - 11);
      for (var p = from; p <= s.position; p++) {
        var t = d.tokens[p - d.tokens_from];
        if (t !== undefined) context.appendChild(el("span", "pg-tok", t));
      }
      // The sampled token is not part of the context: it comes after it.
      context.appendChild(el("span", "pg-context-label", " \u2192 " + w("pg.sampled") + ": "));
      var chosen = el("span", "pg-tok pg-chosen-tok", label(s.chosen));
      chosen.title = w("pg.sampled");
      context.appendChild(chosen);
      var rank = s.ids.indexOf(s.chosen);
      if (rank < 0) context.appendChild(el("span", "pg-outside", " (" + w("pg.outside", label(s.chosen), n) + ")"));

      // The pipeline, stage by stage.
      pipeline.textContent = "";
      function stage(title, lines) {
        var li = el("li", "pg-stage");
        li.appendChild(el("strong", null, title));
        lines.forEach(function (l) { li.appendChild(el("span", null, l)); });
        pipeline.appendChild(li);
      }
      var tLabel = r.greedy ? "0 (" + w("pg.greedy") + ")" : String(T);
      var kLabel = K === 0 ? w("pg.off") : String(K), pLabel = P >= 1 ? w("pg.off") : String(P);
      stage(w("pg.raw"), [w("pg.recorded", n, d.vocab), w("pg.held", share(Math.min(1, rawMass)))]);
      stage(w("pg.aftert", tLabel), r.greedy ? [w("pg.removedg")] : [w("pg.entropy", r.temperedEntropy.toFixed(3))]);
      stage(w("pg.afterk", kLabel), [w("pg.survive", r.keptK, n), w("pg.mass", prob(r.massK))]);
      stage(w("pg.afterp", pLabel), [w("pg.survive", r.keptP, n), w("pg.mass", prob(r.massP)), w("pg.entropy", r.entropy.toFixed(3))]);

      // The candidates, filter by filter.
      table.textContent = "";
      var head = el("tr");
      [w("pg.rank"), w("pg.token"), w("pg.raw"), w("pg.aftert", tLabel), w("pg.afterk", kLabel), w("pg.afterp", pLabel)].forEach(function (h) {
        head.appendChild(el("th", null, h));
      });
      var thead = el("thead");
      thead.appendChild(head);
      table.appendChild(thead);
      var body = el("tbody");
      table.appendChild(body);
      function row(i) {
        var tr = el("tr", i === rank ? "pg-chosen" : "");
        tr.setAttribute("data-rank", String(i + 1));
        tr.appendChild(el("td", "pg-rank", String(i + 1)));
        var tok = el("td", "pg-token");
        tok.appendChild(el("span", "pg-tok", label(s.ids[i])));
        if (i === rank) tok.appendChild(el("span", "pg-mark", " ◀ " + w("pg.sampled")));
        tr.appendChild(tok);
        barCell(tr, raw[i]);
        var gone = r.greedy && i > 0 ? w("pg.removedg") : "";
        barCell(tr, r.tempered[i], gone);
        barCell(tr, i < r.keptK ? r.tempered[i] / r.massK : 0, gone || (i >= r.keptK ? w("pg.removedk") : ""));
        barCell(tr, r.final[i], gone || (i >= r.keptK ? w("pg.removedk") : i >= r.keptP ? w("pg.removedp") : ""));
        body.appendChild(tr);
      }
      var shown = Math.min(ROWS, n);
      for (var i = 0; i < shown; i++) row(i);
      if (rank >= shown) row(rank);
      if (n > shown + (rank >= shown ? 1 : 0)) {
        var sums = [0, 0, 0, 0], count = 0, kept = 0;
        for (i = shown; i < n; i++) {
          if (i === rank) continue;
          count++;
          sums[0] += raw[i];
          sums[1] += r.tempered[i];
          sums[2] += i < r.keptK ? r.tempered[i] / r.massK : 0;
          sums[3] += r.final[i];
          if (r.final[i] > 0) kept++;
        }
        var tr = el("tr", "pg-others");
        tr.appendChild(el("td", "pg-rank", "…"));
        tr.appendChild(el("td", "pg-token", w("pg.others", count) + " · " + w("pg.survive", kept, count)));
        sums.forEach(function (p) { barCell(tr, p); });
        body.appendChild(tr);
      }
      if (n < d.vocab) {
        var tail = el("tr", "pg-tail");
        tail.appendChild(el("td", "pg-rank", ""));
        tail.appendChild(el("td", "pg-token", w("pg.tail", d.vocab - n)));
        barCell(tail, Math.max(0, 1 - rawMass));
        for (i = 0; i < 3; i++) tail.appendChild(el("td", "pg-p pg-ignored", w("pg.ignored")));
        body.appendChild(tail);
      }

      if (n === d.vocab) {
        exactNote.textContent = w("pg.full", d.vocab);
      } else {
        exactNote.textContent = exact ? w("pg.exact") : w("pg.approx", n, d.vocab, share(Math.min(1, rawMass)), d.vocab - n);
      }
      exactNote.className = "pg-exact " + (exact ? "pg-is-exact" : "pg-is-approx");
      state = { step: s.step, temperature: T, top_k: K, top_p: P, n: n, exact: exact, keptK: r.keptK, keptP: r.keptP,
        massK: r.massK, massP: r.massP, tempered: r.tempered, final: r.final, entropy: r.entropy,
        chosenRank: rank };
    }

    function set(o) {
      if (o.step !== undefined) {
        for (var i = 0; i < steps.length; i++) {
          if (steps[i].s.step === o.step) stepS.input.value = String(i);
        }
      }
      if (o.temperature !== undefined) tS.input.value = String(o.temperature);
      if (o.top_k !== undefined) kS.input.value = String(o.top_k);
      if (o.top_p !== undefined) pS.input.value = String(o.top_p);
      update();
      return state;
    }

    update();
    all[uid] = { set: set, state: function () { return state; }, steps: steps.map(function (s) { return s.s.step; }) };
  }

  var blocks = document.querySelectorAll('script[type="application/json"][data-playground]');
  for (var i = 0; i < blocks.length; i++) {
    var id = blocks[i].getAttribute("data-playground");
    var root = document.getElementById(id);
    if (!root) {
      console.error("gptviz: no element for playground " + id);
      continue;
    }
    try {
      var d = JSON.parse(blocks[i].textContent);
      if (d.v !== 1 || !d.steps || !d.steps.length) throw new Error("unknown playground data (version " + d.v + ")");
      build(root, d);
    } catch (e) {
      root.className += " chart-failed";
      root.textContent = "This playground could not be drawn: " + e;
      console.error("gptviz: playground " + id + ": " + e);
    }
  }
})();
