/* spanscope Compare page: /api/v1/diff for the chosen service and window against a baseline
 * window, drawn as cards: the headline, then per endpoint its percentiles on both sides and a
 * diverging bar chart of where the time per request changed (critical path, per operation; red
 * slower, green faster; the faint bar is the slowest requests), then error origins, operations
 * and service calls that changed. Uses window.SS (helpers.js). */
(function () {
  "use strict";
  var S = window.SS, $ = S.$, esc = S.esc;
  var BASE_TEXT = { "": "the window just before", "1d": "a day earlier", "7d": "a week earlier" };
  var MAX_ROWS = 8;

  function change(before, after) {
    if (!before) return after ? '<span class="worse">new</span>' : "";
    var c = (after - before) / before, text = (c > 0 ? "+" : "") + Math.round(c * 100) + "%";
    return Math.abs(c) < 0.1 ? '<span class="faint">' + text + "</span>" : '<span class="' + (c > 0 ? "worse" : "better") + '">' + text + "</span>";
  }
  function points(before, after) {
    var d = (after - before) * 100;
    if (Math.abs(d) < 0.05) return "";
    return '<span class="' + (d > 0 ? "worse" : "better") + '">' + (d > 0 ? "+" : "−") + Math.abs(d).toFixed(1) + " pt</span>";
  }
  function statsTable(e) {
    var b = e.latency_before, a = e.latency_after;
    function row(label, l, mean, rate) {
      return "<tr><td>" + label + "</td><td>" + S.count(l.count) + "</td><td>" + S.fmtNs(l.p50_ns) + "</td><td>" + S.fmtNs(l.p95_ns) +
        "</td><td>" + S.fmtNs(l.p99_ns) + "</td><td>" + S.fmtNs(mean) + "</td><td>" + S.pct(rate) + "</td></tr>";
    }
    return '<table class="grid"><thead><tr><th></th><th>requests</th><th>p50</th><th>p95</th><th>p99</th><th>mean</th><th>errors</th></tr></thead><tbody>' +
      row("before", b, e.mean_before_ns, e.error_rate_before) + row("after", a, e.mean_after_ns, e.error_rate_after) +
      "<tr><td>change</td><td></td><td>" + change(b.p50_ns, a.p50_ns) + "</td><td>" + change(b.p95_ns, a.p95_ns) + "</td><td>" +
      change(b.p99_ns, a.p99_ns) + "</td><td>" + change(e.mean_before_ns, e.mean_after_ns) + "</td><td>" +
      points(e.error_rate_before, e.error_rate_after) + "</td></tr></tbody></table>";
  }
  // The diverging bars: one row per operation whose time per request moved (at least 1% of the
  // biggest move), from a centre line: the bar for all requests, and a thin one for the slowest
  // requests, each series on its own scale (the slowest requests move much more).
  function bars(frames) {
    var biggest = Math.max.apply(null, frames.map(function (f) { return Math.abs(f.delta_ns); }).concat([0]));
    var rows = frames.filter(function (f) { return biggest && Math.abs(f.delta_ns) >= biggest / 100; }).slice(0, MAX_ROWS);
    if (!rows.length) return '<p class="none">No operation changed its time per request.</p>';
    var W = 760, label = 300, value = 86, mid = label + (W - label) / 2, half = (W - label) / 2 - value, rowH = 32;
    function scale(key) { return Math.max.apply(null, rows.map(function (f) { return Math.abs(f[key]); })) || 1; }
    var maxAll = scale("delta_ns"), maxSlow = scale("slow_delta_ns");
    var out = [];
    rows.forEach(function (f, i) {
      var y = i * rowH + 6, name = f.service + ": " + f.operation;
      out.push('<g class="row" data-service="' + esc(f.service) + '" data-operation="' + esc(f.operation) + '" data-delta="' + f.delta_ns + '">');
      out.push("<title>" + esc(name) + ": " + S.signedNs(f.delta_ns) + " a request (" + S.fmtNs(f.before_ns) + " → " + S.fmtNs(f.after_ns) +
        "); slowest requests " + S.signedNs(f.slow_delta_ns) + " (" + S.fmtNs(f.slow_before_ns) + " → " + S.fmtNs(f.slow_after_ns) + ")</title>");
      out.push('<text x="' + (label - 10) + '" y="' + (y + 12) + '" text-anchor="end">' + esc(name.length > 44 ? name.slice(0, 43) + "…" : name) + "</text>");
      [[f.delta_ns, maxAll, 0, 12, ""], [f.slow_delta_ns, maxSlow, 15, 5, " slow"]].forEach(function (b) {
        if (!b[0]) return;
        var w = Math.max(1, Math.abs(b[0]) / b[1] * half), x = b[0] > 0 ? mid : mid - w;
        out.push('<rect class="' + (b[0] > 0 ? "up" : "down") + b[4] + '" x="' + x.toFixed(1) + '" y="' + (y + b[2]) + '" width="' + w.toFixed(1) + '" height="' + b[3] + '" rx="2"/>');
      });
      var reach = Math.abs(f.delta_ns) / maxAll * half;
      var tx = f.delta_ns >= 0 ? mid + reach + 6 : mid - reach - 6;
      out.push('<text class="soft" x="' + tx.toFixed(1) + '" y="' + (y + 11) + '" text-anchor="' + (f.delta_ns >= 0 ? "start" : "end") + '">' + S.signedNs(f.delta_ns) + "</text>");
      out.push("</g>");
    });
    var H = rows.length * rowH + 8;
    return '<svg class="bars" viewBox="0 0 ' + W + " " + H + '" height="' + H + '" role="img" aria-label="Where the time per request changed">' +
      '<line class="axis" x1="' + mid + '" x2="' + mid + '" y1="0" y2="' + H + '"/>' + out.join("") + "</svg>" +
      '<div class="bars-legend"><span><i></i>critical-path time per request, after − before (right: slower)</span>' +
      '<span><i class="slow"></i>the same for the slowest 5% of requests (own scale; hover a row for figures)</span></div>';
  }
  function endpointCard(e) {
    return '<div class="card endpoint" data-endpoint="' + esc(e.service + ": " + e.operation) + '"><div class="card-head"><h3>' + esc(e.service) +
      ': <span class="op">' + esc(e.operation) + "</span>" + (e.few_requests ? ' <span class="badge info">few requests</span>' : "") +
      '</h3></div><div class="card-body">' + statsTable(e) + bars(e.contributors) + "</div></div>";
  }
  function table(title, head, rows) {
    if (!rows.length) return "";
    return '<div class="card"><div class="card-head"><span>' + title + '</span></div><div class="card-body"><table class="grid wide"><thead><tr>' +
      head.map(function (h) { return "<th>" + h + "</th>"; }).join("") + "</tr></thead><tbody>" + rows.join("") + "</tbody></table></div></div>";
  }
  function lists(d) {
    var errors = d.errors.slice(0, 10).map(function (e) {
      return '<tr class="error-row"><td>' + (e.new ? '<span class="badge new">new</span> ' : "") + esc(e.service + ": " + e.operation) +
        (e.exception_type ? " <b>" + esc(e.exception_type) + "</b>" : "") + '<div class="faint">' + esc(e.example_message || e.message_template) +
        "</div></td><td>" + S.count(e.traces_before) + " (" + S.pct(e.share_before) + ")</td><td>" + S.count(e.traces_after) + " (" + S.pct(e.share_after) +
        ")</td><td>" + (e.example_trace_id ? S.traceLink(e.example_trace_id, "example") : "") + "</td></tr>";
    });
    var ops = d.operations.slice(0, 10).map(function (o) {
      return "<tr><td>" + esc(o.service + ": " + o.operation) + "</td><td>" + o.calls_per_request_before.toFixed(2) + " → " + o.calls_per_request_after.toFixed(2) +
        "</td><td>" + S.fmtNs(o.p95_before_ns) + " → " + S.fmtNs(o.p95_after_ns) + "</td><td>" + S.pct(o.error_rate_before) + " → " + S.pct(o.error_rate_after) +
        "</td><td>" + esc(o.reasons.join(", ")) + "</td></tr>";
    });
    var edges = d.dependencies.slice(0, 10).map(function (e) {
      return "<tr><td>" + esc(e.parent + " → " + e.child) + "</td><td>" + e.calls_per_request_before.toFixed(2) + " → " + e.calls_per_request_after.toFixed(2) +
        "</td><td>" + S.pct(e.error_rate_before) + " → " + S.pct(e.error_rate_after) + "</td><td>" + esc(e.reasons.join(", ")) + "</td></tr>";
    });
    return table("Error origins that appeared or grew", ["origin", "before", "after", "trace"], errors) +
      table("Operations that changed", ["operation", "calls / request", "p95", "errors", "why listed"], ops) +
      table("Service calls that changed", ["call", "calls / request", "errors", "why listed"], edges);
  }
  function run(p) {
    // A search's own range and operation come along ("Compare with before" on the search page).
    var search = S.insightSearch(p), q = search.q, win = search.win;
    if (p.get("baseline")) q.set("baseOffset", p.get("baseline"));
    var job = S.working("Reading and comparing the traces of " + q.get("service") + " in " + win + " and " +
      (BASE_TEXT[p.get("baseline") || ""] || p.get("baseline")));
    return S.api("/api/v1/diff?" + q.toString()).then(function (d) {
      if (!job.done()) return; // a newer run is under way: this answer is stale
      // Each side is read up to the limit: a busy window is read as a sample spread over it.
      var limit = +q.get("limit");
      $("sides").innerHTML = "<span>after: <b>" + S.count(d.after.traces) + "</b> traces in " + esc(win) +
        (q.get("operation") ? " touching " + esc(q.get("operation")) : "") + "</span><span>before: <b>" +
        S.count(d.before.traces) + "</b> traces, " + esc(BASE_TEXT[p.get("baseline") || ""] || p.get("baseline")) + "</span>" +
        S.capNote(d.after, limit, "after") + S.capNote(d.before, limit, "before");
      if (!d.before.traces || !d.after.traces) {
        $("headline").innerHTML = '<p class="none">One side has no traces: choose a longer window or another baseline.</p>';
        $("endpoints").innerHTML = $("lists").innerHTML = "";
        return;
      }
      $("headline").innerHTML = d.headline.length
        ? '<ul class="headline">' + d.headline.map(function (l) { return "<li>" + esc(l) + "</li>"; }).join("") + "</ul>"
        : '<p class="none">No endpoint moved by 10% or more at p95, and no new error origin.</p>';
      $("endpoints").innerHTML = d.endpoints.slice(0, 6).map(endpointCard).join("");
      $("lists").innerHTML = lists(d);
    }, function (e) {
      if (job.done()) throw e;
    });
  }
  // The API's and the README's name for the baseline, in an address written from them, is the
  // form's "baseline" (it compared with the window just before, without a word).
  var address = new URLSearchParams(location.search);
  if (address.get("baseOffset") && !address.get("baseline")) {
    address.set("baseline", address.get("baseOffset"));
    address.delete("baseOffset");
    history.replaceState(null, "", "?" + address.toString());
  }
  S.page(run);
})();
