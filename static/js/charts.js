// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// No inline scripts: the CSP allows only files from our own origin.
// The JSON holds one series (`label`, `values`) or several (`datasets`: [{label, values}, …]);
// `type` is line (default), bar or doughnut; `percent` formats the figures as percentages.
(function () {
  "use strict";
  // Pages assembled from panels may load this file more than once: listen only once.
  if (window.pzChartsLoaded) { return; }
  window.pzChartsLoaded = true;
  var PALETTE = ["#0b5ed7", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997", "#6c757d"];
  function datasets(data, type) {
    var series = data.datasets || [{ label: data.label, values: data.values }];
    return series.map(function (s, i) {
      var colour = PALETTE[i % PALETTE.length];
      if (series.length === 1 && type !== "bar") {
        return { label: s.label, data: s.values, borderColor: "#0b5ed7", backgroundColor: data.colors || "rgba(11,94,215,.1)",
                 fill: type !== "doughnut", pointRadius: 0, tension: 0.1, borderWidth: type === "doughnut" ? 1 : 2 };
      }
      return { label: s.label, data: s.values, borderColor: colour, backgroundColor: colour,
               fill: false, pointRadius: 0, tension: 0.1, borderWidth: type === "bar" ? 0 : 2 };
    });
  }
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var type = data.type || "line";
    var locale = document.documentElement.lang || "en";
    var percent = new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: 2 });
    var sets = datasets(data, type);
    if (canvas._chart) { canvas._chart.destroy(); }
    canvas._chart = new window.Chart(canvas, {
      type: type,
      data: { labels: data.labels, datasets: sets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: type === "doughnut" || sets.length > 1 },
                   tooltip: { callbacks: { label: function (ctx) {
                     var value = ctx.parsed.y !== undefined ? ctx.parsed.y : ctx.parsed;
                     var text = data.percent ? percent.format(value) : ctx.formattedValue;
                     return sets.length > 1 ? ctx.dataset.label + ": " + text : text;
                   } } } },
        scales: type === "doughnut" ? {} : {
          x: { ticks: { maxTicksLimit: 8 } },
          y: { ticks: { callback: function (v) { return data.percent ? percent.format(v) : v; } } }
        }
      }
    });
    canvas.dataset.drawn = "true";
  }
  function drawAll(root) { (root || document).querySelectorAll("canvas[data-chart]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
