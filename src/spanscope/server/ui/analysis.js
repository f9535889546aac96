/* spanscope Analysis page: /api/v1/analysis (the `spanscope analyze --json` report) for the
 * chosen service and window, drawn as cards, most useful first: the headline (the few sentences
 * to read first), what to fix first, the critical-path flame graph, latency per endpoint, the
 * slowest requests with where their critical path went, where errors started, anti-patterns,
 * and what the slowest and the failed requests have in common. Every trace id opens its trace.
 * The report and both flame graphs come in one answer, from one read of the store; while it
 * runs the page says what it is doing and for how long. A search's custom range and operation
 * come along in the address. Uses window.SS (helpers.js). */
(function () {
  "use strict";
  var S = window.SS, $ = S.$, esc = S.esc;
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
  // The critical-path flame graphs of the same search, in the same answer as the report
  // (/api/v1/analysis?flamegraph=slow,all: one read of the store), shown as images from blob
  // URLs: the switch between the slowest 5% and all requests asks the server nothing, and
  // "open on its own" opens the same SVG, whose script zooms on click. The slowest 5% first,
  // where the tail's time goes.
  var flameUrls = {};
  function dropFlames() {
    Object.keys(flameUrls).forEach(function (kind) { URL.revokeObjectURL(flameUrls[kind]); });
    flameUrls = {};
  }
  function flame(graphs) {
    dropFlames();
    Object.keys(graphs).forEach(function (kind) {
      flameUrls[kind] = URL.createObjectURL(new Blob([graphs[kind]], { type: "image/svg+xml" }));
    });
    if (!flameUrls.slow || !flameUrls.all) return "";
    function button(kind, text, on) {
      return '<button type="button" class="btn small' + (on ? " on" : "") + '" data-flame="' + kind + '">' + text + "</button>";
    }
    return card("Critical-path flame graph: the widest box is what to fix first",
      '<div class="flame-head"><span class="seg" role="group" aria-label="Which requests">' +
      button("slow", "slowest 5%", true) + button("all", "all requests", false) + "</span>" +
      '<a id="flame-open" class="ss-link" href="' + flameUrls.slow + '" target="_blank" rel="noopener">open on its own (click a box to zoom)</a></div>' +
      '<img id="flame" class="flame" alt="Critical-path flame graph" data-kind="slow" src="' + flameUrls.slow + '">', "flame-card");
  }
  $("sections").addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-flame]");
    if (!btn || !flameUrls[btn.dataset.flame]) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-flame]"), function (b) { b.classList.toggle("on", b === btn); });
    $("flame").dataset.kind = btn.dataset.flame;
    $("flame").src = $("flame-open").href = flameUrls[btn.dataset.flame];
  });

  function run(p) {
    // A search's own range and operation come along ("Why slow?" on the search page).
    var search = S.insightSearch(p), q = search.q, win = search.win;
    var job = S.working("Reading and analysing the traces of " + q.get("service") + " in " + win);
    var both = new URLSearchParams(q);
    both.set("flamegraph", "slow,all");
    return S.ask("/api/v1/analysis?" + both.toString()).then(function (asked) {
      if (!job.done()) return; // a newer run is under way: this answer is stale
      var answer = asked.body, d = answer.report, s = d.summary;
      $("sides").innerHTML = "<span><b>" + S.plural(s.traces, "trace") + "</b>, <b>" + S.plural(s.spans, "span") + "</b> in " + esc(win) +
        (q.get("operation") ? " touching " + esc(q.get("operation")) : "") + "</span>" +
        (s.traces ? "<span>p50 <b>" + S.fmtNs(s.latency.p50_ns) + "</b>, p99 <b>" + S.fmtNs(s.latency.p99_ns) + "</b></span><span><b>" +
          S.count(s.failed_traces) + "</b> failed</span>" : "") +
        '<a class="ss-link" href="/api/v1/analysis?' + esc(q.toString()) + '">JSON</a>' +
        S.capNote(asked.sample, +q.get("limit"));
      if (!s.traces) {
        $("headline").innerHTML = '<p class="none">No traces of this service in ' + esc(win) + ": choose a longer window.</p>";
        $("sections").innerHTML = "";
        dropFlames();
        return;
      }
      $("headline").innerHTML = headline(d.headline);
      $("sections").innerHTML = fixFirst(d) + flame(answer.flamegraphs) + endpoints(d) + slowest(d) + errors(d) + antiPatterns(d) + traits(d);
    }, function (e) {
      if (job.done()) throw e; // an earlier run's failure is as stale as its answer
    });
  }
  S.page(run);
})();
