(function () {
  "use strict";
  // Draws every chart of the page. Each chart's option is inert JSON in a
  // <script type="application/json" data-chart="ID"> block; it is parsed,
  // never evaluated. window.gptviz exposes the charts to tests and curious
  // readers: gptviz.charts[ID] is the ECharts instance, gptviz.finished[ID]
  // turns true once ECharts has finished drawing it.
  var charts = {};
  var finished = {};
  window.gptviz = { charts: charts, finished: finished };
  var blocks = document.querySelectorAll('script[type="application/json"][data-chart]');
  for (var i = 0; i < blocks.length; i++) {
    var id = blocks[i].getAttribute("data-chart");
    var el = document.getElementById(id);
    if (!el) {
      console.error("gptviz: no element for chart " + id);
      continue;
    }
    try {
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.on("finished", (function (id) {
        return function () { finished[id] = true; };
      })(id));
      chart.setOption(JSON.parse(blocks[i].textContent));
      charts[id] = chart;
    } catch (e) {
      el.className += " chart-failed";
      el.textContent = "This chart could not be drawn: " + e;
      console.error("gptviz: chart " + id + ": " + e);
    }
  }
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      for (var id in charts) charts[id].resize();
    });
  });
})();
