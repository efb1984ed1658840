// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// No inline scripts: the CSP allows only files from our own origin.
(function () {
  "use strict";
  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var locale = document.documentElement.lang || "en";
    var percent = new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: 2 });
    if (canvas._chart) { canvas._chart.destroy(); }
    canvas._chart = new window.Chart(canvas, {
      type: data.type || "line",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.values, borderColor: "#0b5ed7", backgroundColor: data.colors || "rgba(11,94,215,.1)",
                     fill: data.type !== "doughnut", pointRadius: 0, tension: 0.1, borderWidth: data.type === "doughnut" ? 1 : 2 }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: data.type === "doughnut" },
                   tooltip: { callbacks: { label: function (ctx) { return data.percent ? percent.format(ctx.parsed.y !== undefined ? ctx.parsed.y : ctx.parsed) : ctx.formattedValue; } } } },
        scales: data.type === "doughnut" ? {} : {
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
