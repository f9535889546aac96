/* The Monitor page (/monitor): one call to /api/v1/monitor draws a row per service with three
 * small SVG charts over the window (requests/s, error rate, latency at the chosen quantile);
 * a click on a service opens its operations (/api/v1/monitor/operations), sortable; a click
 * (or Enter) on a chart point or an operation opens Search for that service / operation and
 * time bucket. The state (window, span kind, quantile, sort, open service) is kept in the
 * address. Charts are one path each, so 50 services x 100 buckets stay light. */
(function () {
  "use strict";
  var SS = window.SS, $ = SS.$, CONFIG = SS.config;
  var W = 300, H = 40; // chart viewBox; the SVG stretches to its cell
  var state = { lookback: CONFIG.defaultLookback, kind: "server", q: "p95", sort: "incident", open: "" };
  var data = null, opsSort = { key: "impact", asc: false }, opsRows = [];

  function readAddress() {
    var p = new URLSearchParams(location.search);
    state.lookback = p.get("lookback") in CONFIG.lookbacks ? p.get("lookback") : CONFIG.defaultLookback;
    // An address edited by hand falls back to the defaults, as a click would choose them.
    state.kind = optionOf("kind", p.get("kind")) || "server";
    state.q = ["p50", "p95", "p99"].indexOf(p.get("q")) >= 0 ? p.get("q") : "p95";
    state.sort = optionOf("sort", p.get("sort")) || "incident";
    state.open = p.get("service") || "";
  }
  function optionOf(selectId, value) {
    var options = $(selectId).options;
    for (var i = 0; i < options.length; i++) if (options[i].value === value) return value;
    return "";
  }
  function writeAddress(push) {
    var p = new URLSearchParams({ lookback: state.lookback, kind: state.kind, q: state.q, sort: state.sort });
    if (state.open) p.set("service", state.open);
    history[push ? "pushState" : "replaceState"](null, "", "?" + p.toString());
  }
  function segButtons(el, items, current, onPick) {
    el.innerHTML = items.map(function (it) {
      return '<button type="button" data-v="' + SS.esc(it[0]) + '" aria-pressed="' + (it[0] === current) + '">' + SS.esc(it[1]) + "</button>";
    }).join("");
    el.onclick = function (ev) {
      var b = ev.target.closest("button");
      if (b) onPick(b.getAttribute("data-v"));
    };
  }
  function controls() {
    segButtons($("windows"), Object.keys(CONFIG.lookbacks).map(function (k) { return [k, k]; }), state.lookback,
      function (v) { state.lookback = v; writeAddress(true); load(); });
    segButtons($("quantiles"), [["p50", "p50"], ["p95", "p95"], ["p99", "p99"]], state.q,
      function (v) { state.q = v; writeAddress(true); controls(); draw(); });
    $("kind").value = state.kind;
    $("sort").value = state.sort;
  }

  // -- the charts --
  function maxOf(values) {
    var m = 0;
    for (var i = 0; i < values.length; i++) if (values[i] != null && values[i] > m) m = values[i];
    return m;
  }
  function areaPath(values, top) {
    var n = values.length, dx = W / n, d = "M0 " + H;
    for (var i = 0; i < n; i++) {
      var y = values[i] == null || !top ? H : H - (values[i] / top) * (H - 2);
      d += "L" + (i * dx).toFixed(1) + " " + y.toFixed(1) + "L" + ((i + 1) * dx).toFixed(1) + " " + y.toFixed(1);
    }
    return d + "L" + W + " " + H + "Z";
  }
  // A step line: each bucket a flat segment its width, joined to the next; a lone bucket shows.
  function linePath(values, top) {
    var n = values.length, dx = W / n, d = "", pen = false;
    for (var i = 0; i < n; i++) {
      if (values[i] == null) { pen = false; continue; }
      var y = (H - 1 - (values[i] / (top || 1)) * (H - 3)).toFixed(1);
      d += (pen ? "L" : "M") + (i * dx).toFixed(1) + " " + y + "L" + ((i + 1) * dx).toFixed(1) + " " + y;
      pen = true;
    }
    return d;
  }
  function chart(kind, svc, values, top, label) {
    var path = kind === "lat" ? linePath(values, top) : areaPath(values, top);
    return '<svg class="mon-chart" viewBox="0 0 ' + W + " " + H + '" preserveAspectRatio="none" tabindex="0" role="img"' +
      ' data-kind="' + kind + '" data-svc="' + SS.esc(svc) + '" aria-label="' + SS.esc(label) + '">' +
      '<rect class="bg" width="' + W + '" height="' + H + '"></rect><path class="' + kind + '" d="' + path + '"></path>' +
      '<rect class="cursor" y="0" height="' + H + '" width="0"></rect></svg>';
  }
  function series(row) {
    var s = row.series, secs = data.step_ns / 1e9, rate = [], errs = [];
    for (var i = 0; i < s.calls.length; i++) {
      rate.push(s.calls[i] / secs);
      errs.push(s.calls[i] ? s.errors[i] / s.calls[i] : null);
    }
    return { rate: rate, errs: errs, lat: s[state.q] };
  }

  function sorted(rows) {
    var by = {
      incident: null,
      calls: function (a, b) { return b.calls - a.calls; },
      latency: function (a, b) { return b[state.q] - a[state.q]; },
      name: function (a, b) { return a.service < b.service ? -1 : a.service > b.service ? 1 : 0; }
    }[state.sort];
    return by ? rows.slice().sort(by) : rows; // the server sends incident order
  }

  function draw() {
    var list = $("services");
    if (!data) return;
    var rows = sorted(data.services);
    $("mon-empty").hidden = rows.length > 0;
    $("mon-head").hidden = rows.length === 0;
    $("lat-head").textContent = state.q + " latency";
    var html = rows.map(function (row) {
      var s = series(row), open = row.service === state.open, name = SS.esc(row.service);
      var errCls = row.errors ? "bad" : "";
      return '<div class="mon-row" data-svc="' + name + '">' +
        '<button type="button" class="mon-svc" aria-expanded="' + open + '" data-svc="' + name + '" title="Operations of ' + name + '">' +
        "<b>" + name + "</b><small>" + SS.count(row.calls) + " calls</small> " +
        '<small class="' + errCls + '">' + SS.plural(row.errors, "error") + "</small></button>" +
        cell(chart("area", row.service, s.rate, maxOf(s.rate), row.service + " requests per second"),
          "<b>" + SS.trimNum(row.rps, 3) + "</b> req/s, peak " + SS.trimNum(maxOf(s.rate), 3) + silence(row)) +
        cell(chart("err", row.service, s.errs, Math.max(maxOf(s.errs), 0.01), row.service + " error rate"),
          '<b class="' + errCls + '">' + SS.pct(row.error_rate) + "</b> errors") +
        cell(chart("lat", row.service, s.lat, maxOf(s.lat), row.service + " " + state.q + " latency"),
          "<b>" + SS.fmtNs(row[state.q]) + "</b> " + state.q + (row.p95_growth > 1.2 ? ' <span class="bad">▲ ' + SS.trimNum(row.p95_growth, 2) + "×</span>" : "")) +
        (open ? '<div class="mon-ops" id="ops">Loading operations…</div>' : "") + "</div>";
    }).join("");
    list.innerHTML = html;
    if (state.open) loadOps();
  }
  // A service that stopped getting calls: its row still leads with the window's averages, and an
  // outage where nothing reaches it (so nothing is traced) looked like a quiet service. Said when
  // the whole last quarter of the window had no call.
  function silence(row) {
    var calls = row.series.calls, last = -1;
    for (var i = calls.length - 1; i >= 0; i--) if (calls[i]) { last = i; break; }
    if (last < 0 || last >= Math.floor(calls.length * 3 / 4)) return "";
    return '<span class="bad silent">no calls since ' + SS.utc(bucketRange(last)[1]) + " UTC</span>";
  }
  function cell(svg, text) { return '<div class="mon-cell">' + svg + '<div class="val">' + text + "</div></div>"; }

  // -- links to Search --
  function searchUrl(service, operation, fromNs, toNs, errorsOnly) {
    var p = new URLSearchParams({ service: service });
    if (operation) p.set("operation", operation);
    if (errorsOnly) p.set("tags", "error=true");
    p.set("lookback", "custom");
    p.set("start", String(Math.floor(fromNs / 1000)));
    p.set("end", String(Math.ceil(toNs / 1000)));
    return "/?" + p.toString();
  }
  function bucketRange(i) {
    var from = data.start_ns + i * data.step_ns;
    return [from, Math.min(from + data.step_ns, data.end_ns)];
  }
  function bucketAt(svg, clientX) {
    var box = svg.getBoundingClientRect();
    var i = Math.floor(((clientX - box.left) / box.width) * data.buckets);
    return Math.max(0, Math.min(data.buckets - 1, i));
  }
  function rowOf(svc) {
    for (var i = 0; i < data.services.length; i++) if (data.services[i].service === svc) return data.services[i];
    return null;
  }
  function describe(svg, i) {
    var row = rowOf(svg.getAttribute("data-svc")), s = row.series, r = bucketRange(i);
    // the day too when the window spans days: "03:05:00" alone is ambiguous in 7 days
    var days = data.end_ns - data.start_ns >= 86400e9;
    var when = SS.utc(r[0], days) + "–" + SS.utc(r[1]) + " UTC";
    var calls = s.calls[i], text = when + " · " + SS.trimNum(calls / (data.step_ns / 1e9), 3) + " req/s";
    if (calls) text += " · " + SS.pct(s.errors[i] / calls) + " errors · " + state.q + " " + SS.fmtNs(s[state.q][i]);
    var failed = svg.getAttribute("data-kind") === "err" && s.errors[i] > 0;
    return text + (calls ? " — Enter or click: its " + (failed ? "failed " : "") + "traces" : "");
  }
  function showCursor(svg, i) {
    var c = svg.querySelector(".cursor"), dx = W / data.buckets;
    c.setAttribute("x", String(i * dx));
    c.setAttribute("width", String(Math.max(dx, 1)));
    svg.dataset.at = String(i);
  }
  function hideCursor(svg) { svg.querySelector(".cursor").setAttribute("width", "0"); }
  function tip(text, x, y) {
    var t = $("tip");
    t.textContent = text;
    t.hidden = false;
    t.style.left = Math.min(x + 12, window.innerWidth - t.offsetWidth - 8) + "px";
    t.style.top = y + 14 + "px";
  }
  // The error chart opens the bucket's failed traces; a bucket without one opens all its traces
  // (with error=true it opened an empty search: "No traces found").
  function openBucket(svg, i) {
    var r = bucketRange(i), row = rowOf(svg.getAttribute("data-svc"));
    var failedOnly = svg.getAttribute("data-kind") === "err" && row.series.errors[i] > 0;
    location.href = searchUrl(svg.getAttribute("data-svc"), "", r[0], r[1], failedOnly);
  }

  function wireList() {
    var list = $("services");
    list.addEventListener("mousemove", function (ev) {
      var svg = ev.target.closest && ev.target.closest("svg.mon-chart");
      if (!svg) { $("tip").hidden = true; return; }
      var i = bucketAt(svg, ev.clientX);
      showCursor(svg, i);
      tip(describe(svg, i), ev.clientX, ev.clientY);
    });
    list.addEventListener("mouseout", function (ev) {
      var svg = ev.target.closest && ev.target.closest("svg.mon-chart");
      if (svg && !svg.contains(ev.relatedTarget)) { hideCursor(svg); $("tip").hidden = true; }
    });
    list.addEventListener("click", function (ev) {
      var svg = ev.target.closest("svg.mon-chart");
      if (svg) { openBucket(svg, bucketAt(svg, ev.clientX)); return; }
      var svc = ev.target.closest("button.mon-svc");
      if (svc) {
        var name = svc.getAttribute("data-svc");
        state.open = state.open === name ? "" : name;
        writeAddress(true);
        draw();
        var again = list.querySelector('button.mon-svc[data-svc="' + CSS.escape(name) + '"]');
        if (again) again.focus();
        return;
      }
      var th = ev.target.closest("th button");
      if (th) {
        var key = th.getAttribute("data-key");
        opsSort = { key: key, asc: opsSort.key === key ? !opsSort.asc : key === "operation" };
        drawOps();
      }
    });
    list.addEventListener("keydown", function (ev) {
      var svg = ev.target.closest && ev.target.closest("svg.mon-chart");
      if (!svg) return;
      var i = svg.dataset.at ? +svg.dataset.at : data.buckets - 1;
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
        i = Math.max(0, Math.min(data.buckets - 1, i + (ev.key === "ArrowLeft" ? -1 : 1)));
        ev.preventDefault();
      } else if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        openBucket(svg, i);
        return;
      } else return;
      showCursor(svg, i);
      var box = svg.getBoundingClientRect();
      tip(describe(svg, i), box.left + (i + 0.5) * box.width / data.buckets, box.bottom - 10);
    });
    list.addEventListener("focusin", function (ev) {
      var svg = ev.target.closest && ev.target.closest("svg.mon-chart");
      if (svg) { var i = svg.dataset.at ? +svg.dataset.at : data.buckets - 1; showCursor(svg, i); }
    });
    list.addEventListener("focusout", function (ev) {
      var svg = ev.target.closest && ev.target.closest("svg.mon-chart");
      if (svg) { hideCursor(svg); $("tip").hidden = true; }
    });
  }

  // -- the operations of the open service --
  var OPS_COLUMNS = [["operation", "Operation"], ["calls", "Calls"], ["rps", "Req/s"], ["error_rate", "Error %"],
    ["p50", "p50"], ["p95", "p95"], ["p99", "p99"], ["impact", "Impact"]];
  function loadOps() {
    var service = state.open;
    SS.api("/api/v1/monitor/operations?" + query({ service: service })).then(function (body) {
      if (service !== state.open || !$("ops")) return;
      opsRows = body.operations;
      drawOps();
    }, function (e) { if ($("ops")) $("ops").textContent = "Could not load the operations: " + e.message; });
  }
  function drawOps() {
    var el = $("ops");
    if (!el) return;
    // From "which service, since when" to "why": the Analysis page of this service's window.
    var why = '<p class="mon-why"><a href="/analysis?' + SS.esc(new URLSearchParams({ service: state.open, lookback: state.lookback }).toString()) +
      '">Why is ' + SS.esc(state.open) + " slow or failing? Analyse its traces of the window</a></p>";
    if (!opsRows.length) { el.innerHTML = why + "No operations of this kind in the window."; return; }
    var k = opsSort.key, sign = opsSort.asc ? 1 : -1;
    var rows = opsRows.slice().sort(function (a, b) {
      return (a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0) * sign;
    });
    var top = Math.max.apply(null, opsRows.map(function (r) { return r.impact; })) || 1;
    var r0 = [data.start_ns, data.end_ns];
    el.innerHTML = why + "<table><thead><tr>" + OPS_COLUMNS.map(function (c) {
      var sortAttr = c[0] === k ? ' aria-sort="' + (opsSort.asc ? "ascending" : "descending") + '"' : "";
      return '<th><button type="button" data-key="' + c[0] + '"' + sortAttr + ">" + c[1] + "</button></th>";
    }).join("") + "</tr></thead><tbody>" + rows.map(function (r) {
      return '<tr><td><a href="' + SS.esc(searchUrl(state.open, r.operation, r0[0], r0[1], false)) + '">' + SS.esc(r.operation) + "</a></td>" +
        "<td>" + SS.count(r.calls) + "</td><td>" + SS.trimNum(r.rps, 3) + "</td>" +
        '<td class="' + (r.errors ? "bad" : "") + '">' + SS.pct(r.error_rate) + "</td>" +
        "<td>" + SS.fmtNs(r.p50) + "</td><td>" + SS.fmtNs(r.p95) + "</td><td>" + SS.fmtNs(r.p99) + "</td>" +
        '<td><span class="impact" style="width:' + Math.max(1, Math.round(60 * r.impact / top)) + 'px"></span>' + SS.pct(r.impact) + "</td></tr>";
    }).join("") + "</tbody></table>";
  }

  // -- fetching --
  function query(extra) {
    var p = new URLSearchParams({ lookback: state.lookback, spanKind: state.kind });
    if (data) p.set("end", String(Math.floor(data.end_ns / 1e6)));
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    return p.toString();
  }
  var ticket = 0;
  function load() {
    controls();
    var mine = ++ticket;
    document.body.dataset.ready = "0";
    $("mon-error").hidden = true;
    data = null;
    SS.api("/api/v1/monitor?" + query()).then(function (body) {
      if (mine !== ticket) return;
      data = body;
      var step = data.step_ns / 1e9;
      $("mon-meta").textContent = SS.plural(data.services.length, "service") + " · " + (state.kind === "all" ? "all" : state.kind) +
        " spans · last " + CONFIG.lookbacks[state.lookback].text + " · one point per " +
        (step >= 60 ? SS.trimNum(step / 60, 3) + " min" : step + " s") + " · " +
        SS.utc(data.start_ns, true) + " – " + SS.utc(data.end_ns, data.end_ns - data.start_ns >= 86400e9) + " UTC";
      draw();
    }, function (e) {
      if (mine !== ticket) return;
      $("mon-error").textContent = "Could not load the metrics: " + e.message;
      $("mon-error").hidden = false;
    }).then(function () { if (mine === ticket) document.body.dataset.ready = "1"; });
  }

  function start() {
    readAddress();
    SS.themeSwitch();
    $("kind").addEventListener("change", function () { state.kind = $("kind").value; writeAddress(true); load(); });
    $("sort").addEventListener("change", function () { state.sort = $("sort").value; writeAddress(true); draw(); });
    $("refresh").addEventListener("click", load);
    window.addEventListener("popstate", function () { readAddress(); load(); });
    wireList();
    load();
  }
  start();
})();
