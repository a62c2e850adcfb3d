(function () {
  "use strict";
  var W = 760, PH = 220, LEFT = 64, RIGHT = 16, BOTTOM = 58, PW = W - LEFT - RIGHT;
  var body = document.body, drawn = 0, data;
  try {
    data = JSON.parse(document.getElementById("ocp-stats").textContent || "{}");
  } catch (err) {
    body.dataset.chartsDrawn = "0";
    return;
  }

  function el(parent, name, attrs) {
    var node = document.createElementNS(parent.namespaceURI, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, attrs) {
    var a = attrs || {};
    a.x = x; a.y = y;
    var node = el(parent, "text", a);
    node.textContent = String(value);
    return node;
  }
  function num(v) { var n = Number(v); return isFinite(n) ? n : 0; }
  function usd(v) {
    var a = Math.abs(v), s = v < 0 ? "-$" : "$";
    return s + (a >= 100 ? a.toFixed(0) : a >= 1 ? a.toFixed(2) : a.toFixed(4));
  }
  function usdTick(v) {
    return "$" + (v >= 1 ? String(Math.round(v * 100) / 100) : String(Number(v.toPrecision(4))));
  }
  function ms(v) {
    return v >= 1000 ? String(Number((v / 1000).toPrecision(4))) + " s" : v + " ms";
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function ticks(max, integer) {
    if (!(max > 0)) { max = integer ? 1 : 0.01; }
    var raw = max / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
    var f = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 && !(integer && mag === 1) ? 2.5 : n <= 5 ? 5 : 10;
    var step = f * mag;
    if (integer) { step = Math.max(1, Math.round(step)); }
    var count = Math.ceil(max / step - 1e-9), values = [];
    for (var i = 0; i <= count; i++) { values.push(Number((i * step).toPrecision(12))); }
    return { max: count * step, values: values };
  }

  // Legend above the plot; returns the y where the plot starts.
  function legend(svg, items) {
    var x = LEFT, y = 16;
    items.forEach(function (item) {
      var w = 30 + String(item[0]).length * 6.6;
      if (x + w > W - RIGHT && x > LEFT) { x = LEFT; y += 18; }
      el(svg, "rect", {
        x: x, y: y - 9, width: 10, height: 10, rx: 2, "class": "swatch " + item[1]
      });
      text(svg, x + 14, y, item[0], { "class": "legend" });
      x += w;
    });
    return y + 18;
  }

  // Grid, y ticks, axes and axis labels; returns the y scale.
  function frame(svg, top, t, fmt, xLabel, yLabel, labels) {
    var h = top + PH + BOTTOM, g = el(svg, "g", { "class": "frame" });
    svg.setAttribute("viewBox", "0 0 " + W + " " + h);
    var y = function (v) { return top + PH - (v / t.max) * PH; };
    t.values.forEach(function (v) {
      el(g, "line", { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), "class": "grid" });
      text(g, LEFT - 6, y(v) + 4, fmt(v), { "text-anchor": "end" });
    });
    el(g, "line", { x1: LEFT, x2: W - RIGHT, y1: top + PH, y2: top + PH, "class": "axis" });
    el(g, "line", { x1: LEFT, x2: LEFT, y1: top, y2: top + PH, "class": "axis" });
    var band = PW / Math.max(1, labels.length), every = Math.max(1, Math.ceil(labels.length / 14));
    labels.forEach(function (label, i) {
      if (i % every === 0) {
        text(g, LEFT + (i + 0.5) * band, top + PH + 16, label, { "text-anchor": "middle" });
      }
    });
    text(g, LEFT + PW / 2, h - 12, xLabel, { "text-anchor": "middle", "class": "axis-label" });
    var yl = top + PH / 2;
    text(g, 16, yl, yLabel, {
      "text-anchor": "middle", "class": "axis-label", transform: "rotate(-90 16 " + yl + ")"
    });
    return y;
  }

  function mark(parent, x, y, w, h, cls, series, value, tip, extra) {
    var attrs = {
      x: x.toFixed(2), y: y.toFixed(2), width: Math.max(0, w).toFixed(2),
      height: Math.max(0, h).toFixed(2), "class": "m " + cls,
      "data-series": series, "data-value": String(value)
    };
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    var rect = el(parent, "rect", attrs);
    el(rect, "title", {}).textContent = tip;
    return rect;
  }

  function noData(svg, message) {
    svg.setAttribute("viewBox", "0 0 " + W + " 60");
    text(svg, W / 2, 34, message, { "text-anchor": "middle", "class": "axis-label" });
    return false;
  }

  function clear(svg) { while (svg.firstChild) { svg.removeChild(svg.firstChild); } }

  function drawTiers(svg) {
    var days = Array.isArray(data.daily) ? data.daily : [];
    if (!days.length) { return noData(svg, "no daily data in this period"); }
    var series = ["local", "mid", "top", "other"];
    var max = 0;
    days.forEach(function (d) {
      max = Math.max(max, series.reduce(function (a, s) { return a + num(d[s]); }, 0));
    });
    var top = legend(svg, series.map(function (s) { return [s, "c-" + s]; }));
    var y = frame(svg, top, ticks(max, true), String, "day", "routes",
      days.map(function (d) { return String(d.day).slice(5); }));
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / days.length, bw = Math.max(1, band * 0.72);
    days.forEach(function (d, i) {
      var cum = 0, x = LEFT + i * band + (band - bw) / 2;
      series.forEach(function (s) {
        var v = num(d[s]);
        if (v <= 0) { return; }
        var y1 = y(cum + v);
        mark(g, x, y1, bw, y(cum) - y1, "c-" + s, s, v,
          d.day + " · " + s + ": " + plural(v, "route"), { "data-day": d.day });
        cum += v;
      });
    });
    return true;
  }

  function drawCost(svg) {
    var days = Array.isArray(data.daily) ? data.daily : [];
    if (!days.length) { return noData(svg, "no daily data in this period"); }
    var series = [
      ["cost", "cost_usd", "c-cost", "actual cost"],
      ["counterfactual", "counterfactual_usd", "c-cf", String(data.counterfactual_label)]
    ];
    var max = 0;
    days.forEach(function (d) {
      series.forEach(function (s) { max = Math.max(max, num(d[s[1]])); });
    });
    var top = legend(svg, series.map(function (s) { return [s[3], s[2]]; }));
    var y = frame(svg, top, ticks(max, false), usdTick, "day", "USD",
      days.map(function (d) { return String(d.day).slice(5); }));
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / days.length, bw = Math.max(1, band * 0.4);
    days.forEach(function (d, i) {
      series.forEach(function (s, j) {
        var v = num(d[s[1]]), x = LEFT + i * band + band * 0.1 + j * bw;
        mark(g, x, y(v), bw, y(0) - y(v), s[2], s[0], v,
          d.day + " · " + s[3] + ": " + usd(v), { "data-day": d.day });
      });
    });
    return true;
  }

  function drawLatency(svg) {
    var hist = data.latency_histogram || {}, by = hist.by_backend || {};
    var edges = Array.isArray(hist.edges_ms) ? hist.edges_ms : [];
    var names = Object.keys(by);
    if (!names.length) { return noData(svg, "no latency recorded in this period"); }
    var labels = edges.map(function (e) { return "≤ " + ms(num(e)); });
    labels.push(edges.length ? "> " + ms(num(edges[edges.length - 1])) : "all");
    var max = 0;
    names.forEach(function (n) {
      labels.forEach(function (_, b) { max = Math.max(max, num(by[n][b])); });
    });
    var top = legend(svg, names.map(function (n, k) { return [n, "c-p" + (k % 8)]; }));
    var y = frame(svg, top, ticks(max, true), String, "latency bucket", "requests", labels);
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / labels.length, gw = Math.max(1, (band * 0.8) / names.length);
    labels.forEach(function (label, b) {
      names.forEach(function (n, k) {
        var v = num(by[n][b]);
        if (v <= 0) { return; }
        mark(g, LEFT + b * band + band * 0.1 + k * gw, y(v), gw, y(0) - y(v), "c-p" + (k % 8),
          n, v, n + " · " + label + ": " + plural(v, "request"),
          { "data-bucket": label, "data-index": b });
      });
    });
    return true;
  }

  if (num(data.routes) > 0) {
    [["chart-tiers", drawTiers], ["chart-cost", drawCost], ["chart-latency", drawLatency]]
      .forEach(function (chart) {
        var svg = document.getElementById(chart[0]);
        if (!svg) { return; }
        clear(svg);
        try {
          if (chart[1](svg)) { drawn += 1; }
        } catch (err) {
          clear(svg);
          noData(svg, "this chart could not be drawn: " + err);
          if (window.console) { console.error(err); }
        }
      });
  }
  body.dataset.chartsDrawn = String(drawn);
})();
