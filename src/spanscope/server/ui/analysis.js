/* spanscope Analysis page: /api/v1/analysis (the `spanscope analyze --json` report) for the
 * chosen service and window, drawn as cards, most useful first: the headline (the few sentences
 * to read first), what to fix first, the critical-path flame graph, latency per endpoint, the
 * slowest requests with where their critical path went, where errors started, anti-patterns,
 * and what the slowest and the failed requests have in common. Every trace id opens its trace.
 * A search's custom range and operation come along in the address. Uses window.SS (helpers.js). */
(function () {
  "use strict";
  var S = window.SS, $ = S.$, esc = S.esc;
  var WINDOW_TEXT = {};
  Object.keys(S.config.lookbacks).forEach(function (key) { WINDOW_TEXT[key] = "the last " + S.config.lookbacks[key].text; });
  var MAX_ROWS = 10;
  var KINDS = {
    n_plus_one: "N+1 calls", sequential_calls: "sequential calls", broken_propagation: "broken propagation",
    unclosed_spans: "unclosed spans", high_cardinality_name: "high-cardinality name"
  };

  function frame(service, operation) { return esc((service || "?") + ": " + operation); }
  function card(title, body, id) {
    return '<div class="card"' + (id ? ' id="' + id + '"' : "") + '><div class="card-head"><span>' + title +
      '</span></div><div class="card-body">' + body + "</div></div>";
  }
  // rows: [attributes, cells...]; columns named in TEXT are left-aligned and wrap.
  var TEXT = { "service: operation": 1, endpoint: 1, trace: 1, "critical path (top)": 1, origin: 1, "anti-pattern": 1, trait: 1 };
  function table(title, id, head, rows, note) {
    if (!rows.length) return "";
    function cls(i) { return TEXT[head[i]] ? ' class="text"' : ""; }
    var body = rows.map(function (r) {
      return "<tr" + r[0] + ">" + r.slice(1).map(function (c, i) { return "<td" + cls(i) + ">" + c + "</td>"; }).join("") + "</tr>";
    }).join("");
    return card(title, '<table class="grid wide"><thead><tr>' + head.map(function (h, i) { return "<th" + cls(i) + ">" + h + "</th>"; }).join("") +
      "</tr></thead><tbody>" + body + "</tbody></table>" + (note ? '<p class="faint">' + note + "</p>" : ""), id);
  }
  function headline(items) {
    if (!items.length) return '<p class="none">Nothing stands out.</p>';
    return '<ul class="headline">' + items.map(function (h) {
      return '<li data-kind="' + esc(h.kind) + '"><span class="said">' + esc(h.text) + "</span>" +
        (h.example_trace_id ? ' <span class="faint">(' + S.traceLink(h.example_trace_id, "an example") + ")</span>" : "") + "</li>";
    }).join("") + "</ul>";
  }
  function fixFirst(d) {
    var pct = Math.round(d.options.slow_fraction * 100);
    return table("What to fix first (critical-path time in the slowest " + pct + "% of each endpoint)", "fix-first",
      ["#", "service: operation", "endpoint", "in slowest", "share slowest", "share all"],
      d.fix_first.slice(0, MAX_ROWS).map(function (f, i) {
        return [' data-frame="' + frame(f.service, f.operation) + '"', String(i + 1), frame(f.service, f.operation),
          frame(f.endpoint_service, f.endpoint_operation), S.fmtNs(f.slow_critical_ns), S.pct(f.slow_share), S.pct(f.share)];
      }));
  }
  function endpoints(d) {
    return table("Latency per endpoint (root span)", "endpoints", ["endpoint", "requests", "p50", "p90", "p95", "p99", "max", "failed"],
      d.endpoints.slice(0, MAX_ROWS).map(function (e) {
        var l = e.latency;
        return ["", frame(e.service, e.operation), S.count(l.count), S.fmtNs(l.p50_ns), S.fmtNs(l.p90_ns), S.fmtNs(l.p95_ns), S.fmtNs(l.p99_ns),
          S.fmtNs(l.max_ns), e.failed ? '<span class="worse">' + S.pct(e.error_rate) + "</span>" : S.pct(0)];
      }), d.endpoints.length > MAX_ROWS ? "and " + S.plural(d.endpoints.length - MAX_ROWS, "more endpoint") : "");
  }
  function slowest(d) {
    return table("Slowest requests and where their critical path went", "slowest", ["trace", "endpoint", "duration", "critical path (top)"],
      d.slowest_traces.map(function (t) {
        var top = t.contributors.slice(0, 3).map(function (c) { return frame(c.service, c.operation) + " " + S.pct(c.share); }).join(", ");
        return ["", S.traceLink(t.trace_id, t.trace_id.slice(0, 16) + "…"), frame(t.service, t.operation) +
          (t.failed ? ' <span class="badge error">failed</span>' : ""), S.fmtNs(t.duration_ns), top];
      }));
  }
  function errors(d) {
    return table("Where errors started", "origins", ["origin", "traces", "failed", "example"],
      d.errors.origins.slice(0, MAX_ROWS).map(function (g) {
        return [' class="error-row"', frame(g.service, g.operation) + (g.exception_type ? " <b>" + esc(g.exception_type) + "</b>" : "") +
          '<div class="faint">' + esc(g.message_template || g.example_message) + "</div>", S.count(g.traces), S.count(g.failed_traces),
          g.example_trace_id ? S.traceLink(g.example_trace_id, "example") : ""];
      }));
  }
  function antiPatterns(d) {
    return table("Anti-patterns (most critical-path time at stake first)", "anti-patterns", ["anti-pattern", "traces", "at stake", "example"],
      d.anti_patterns.slice(0, MAX_ROWS).map(function (a) {
        return [' data-kind="' + esc(a.kind) + '"', '<span class="badge info">' + esc(KINDS[a.kind] || a.kind) + "</span><div>" + esc(a.explanation) + "</div>",
          S.count(a.traces), S.fmtNs(a.critical_ns), a.example_trace_id ? S.traceLink(a.example_trace_id, "example") : ""];
      }));
  }
  function traits(d) {
    var pct = Math.round(d.options.slow_fraction * 100);
    return table("What the slowest and the failed requests have in common", "traits", ["endpoint", "requests", "trait", "in them", "in the rest"],
      d.traits.slice(0, MAX_ROWS).map(function (t) {
        var trait = t.key + "=" + t.value + (t.service ? " on " + t.service : "");
        return ["", frame(t.endpoint_service, t.endpoint_operation), (t.cohort === "slowest" ? "slowest " + pct + "%" : esc(t.cohort)) +
          " (" + S.count(t.cohort_traces) + ")", esc(trait), S.pct(t.cohort_share), S.pct(t.rest_share)];
      }));
  }
  // The critical-path flame graph of the same search, as an image (/api/v1/flamegraph); the
  // slowest 5% first, where the tail's time goes; opened on its own it zooms on click.
  function flame(q) {
    function url(slow) { var u = new URLSearchParams(q); if (slow) u.set("slow", "true"); return "/api/v1/flamegraph?" + u.toString(); }
    var pct = "slowest 5%";
    return card("Critical-path flame graph: the widest box is what to fix first",
      '<div class="flame-head"><span class="seg" role="group" aria-label="Which requests">' +
      '<button type="button" class="btn small on" data-flame="' + esc(url(true)) + '">' + pct + "</button>" +
      '<button type="button" class="btn small" data-flame="' + esc(url(false)) + '">all requests</button></span>' +
      '<a id="flame-open" class="ss-link" href="' + esc(url(true)) + '" target="_blank" rel="noopener">open on its own (click a box to zoom)</a></div>' +
      '<img id="flame" class="flame" alt="Critical-path flame graph" src="' + esc(url(true)) + '">', "flame-card");
  }
  $("sections").addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-flame]");
    if (!btn) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-flame]"), function (b) { b.classList.toggle("on", b === btn); });
    $("flame").src = $("flame-open").href = btn.dataset.flame;
  });

  function run(p) {
    var q = S.insightQuery(p), win = WINDOW_TEXT[q.get("lookback")] || q.get("lookback");
    // A search's own range and operation ("Why slow?" on the search page).
    if (q.get("lookback") === "custom") {
      if (!p.get("start") || !p.get("end")) q.set("lookback", S.config.defaultLookback);
      else {
        q.set("start", p.get("start")); q.set("end", p.get("end"));
        win = S.utc(+p.get("start") * 1000, true) + " – " + S.utc(+p.get("end") * 1000, true) + " UTC";
      }
      win = WINDOW_TEXT[q.get("lookback")] || win;
    }
    if (p.get("operation")) q.set("operation", p.get("operation"));
    return S.api("/api/v1/analysis?" + q.toString()).then(function (d) {
      var s = d.summary;
      $("sides").innerHTML = "<span><b>" + S.plural(s.traces, "trace") + "</b>, <b>" + S.plural(s.spans, "span") + "</b> in " + esc(win) +
        (q.get("operation") ? " touching " + esc(q.get("operation")) : "") + "</span>" +
        (s.traces ? "<span>p50 <b>" + S.fmtNs(s.latency.p50_ns) + "</b>, p99 <b>" + S.fmtNs(s.latency.p99_ns) + "</b></span><span><b>" +
          S.count(s.failed_traces) + "</b> failed</span>" : "") +
        '<a class="ss-link" href="/api/v1/analysis?' + esc(q.toString()) + '">JSON</a>';
      if (!s.traces) {
        $("headline").innerHTML = '<p class="none">No traces of this service in ' + esc(win) + ": choose a longer window.</p>";
        $("sections").innerHTML = "";
        return;
      }
      $("headline").innerHTML = headline(d.headline);
      $("sections").innerHTML = fixFirst(d) + flame(q) + endpoints(d) + slowest(d) + errors(d) + antiPatterns(d) + traits(d);
    });
  }
  S.page(run);
})();
