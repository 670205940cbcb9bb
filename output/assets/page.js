(function () {
  "use strict";
  // Draws every chart of the page. Each chart's option is inert JSON in a
  // <script type="application/json" data-chart="ID"> block; it is parsed,
  // never evaluated. window.gptviz exposes the charts to tests and curious
  // readers: gptviz.charts[ID] is the ECharts instance, gptviz.finished[ID]
  // turns true once ECharts has finished drawing it, and gptviz.pending
  // counts the charts not yet started (0 once every chart is).
  //
  // A long report has dozens of charts with large options. Drawing them all
  // before the page is shown would hold the first screen back for seconds,
  // so charts are drawn a few per task: those on screen first, the rest in
  // document order, and any chart scrolled into view at once.
  var charts = {};
  var finished = {};
  var g = { charts: charts, finished: finished, pending: 0 };
  window.gptviz = g;
  var queue = [];
  var blocks = document.querySelectorAll('script[type="application/json"][data-chart]');
  for (var i = 0; i < blocks.length; i++) {
    var id = blocks[i].getAttribute("data-chart");
    var el = document.getElementById(id);
    if (!el) {
      console.error("gptviz: no element for chart " + id);
      continue;
    }
    queue.push({ id: id, el: el, json: blocks[i], done: false });
  }
  g.pending = queue.length;

  function draw(item) {
    if (item.done) return;
    item.done = true;
    g.pending--;
    try {
      var chart = echarts.init(item.el, null, { renderer: "canvas" });
      chart.on("finished", function () { finished[item.id] = true; });
      chart.setOption(JSON.parse(item.json.textContent));
      charts[item.id] = chart;
    } catch (e) {
      item.el.className += " chart-failed";
      item.el.textContent = "This chart could not be drawn: " + e;
      console.error("gptviz: chart " + item.id + ": " + e);
    }
  }

  function onScreen(el) {
    var r = el.getBoundingClientRect();
    return r.bottom >= 0 && r.top <= (window.innerHeight || 0);
  }

  // The first screen is drawn now, before the page is shown.
  for (var j = 0; j < queue.length; j++) {
    if (onScreen(queue[j].el)) draw(queue[j]);
  }

  // A chart that scrolls into view is drawn at once.
  var observer = null;
  if (typeof IntersectionObserver === "function") {
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        if (!en.isIntersecting) return;
        observer.unobserve(en.target);
        var item = en.target.gptvizItem;
        if (item) draw(item);
      });
    }, { rootMargin: "200px 0px" });
    queue.forEach(function (item) {
      if (!item.done) {
        item.el.gptvizItem = item;
        observer.observe(item.el);
      }
    });
  }

  // The rest in slices of about 40 ms, so the page stays responsive while
  // it fills. A MessageChannel yields to the browser without the clamping
  // and background throttling that timers get.
  var next = 0;
  var channel = new MessageChannel();
  channel.port1.onmessage = drawSlice;
  function drawSlice() {
    var t0 = Date.now();
    for (;;) {
      while (next < queue.length && queue[next].done) next++;
      if (next >= queue.length) {
        if (observer) observer.disconnect();
        return;
      }
      if (observer) observer.unobserve(queue[next].el);
      draw(queue[next]);
      if (Date.now() - t0 >= 40) break;
    }
    channel.port2.postMessage(0);
  }
  channel.port2.postMessage(0);

  var resizing = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(function () {
      for (var id in charts) charts[id].resize();
    });
  });
})();
