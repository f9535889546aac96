/* spanscope Quality page: /api/v1/lint for the chosen service and window, drawn as the
 * verdict, a bar per service (its score: the share of spans with no error or warning) and a
 * card per rule that found something, worst first, with its examples linked to their traces.
 * Uses window.SS (helpers.js). */
(function () {
  "use strict";
  var S = window.SS, $ = S.$, esc = S.esc;

  function scores(services) {
    var W = 760, label = 220, value = 70, rowH = 24, track = W - label - value;
    var out = services.map(function (s, i) {
      var y = i * rowH + 4, level = s.score >= 0.99 ? "" : s.score >= 0.9 ? " mid" : " low";
      return '<g class="service" data-service="' + esc(s.service) + '" data-score="' + s.score + '"><title>' + esc(s.service || "(no service)") + ": " +
        S.count(s.spans) + " spans, " + S.count(s.spans_with_errors) + " with errors, " + S.count(s.spans_with_warnings) + " with warnings</title>" +
        '<text x="' + (label - 10) + '" y="' + (y + 12) + '" text-anchor="end">' + esc(s.service || "(no service)") + "</text>" +
        '<rect class="track" x="' + label + '" y="' + (y + 2) + '" width="' + track + '" height="12" rx="3"/>' +
        '<rect class="score' + level + '" x="' + label + '" y="' + (y + 2) + '" width="' + Math.max(1, s.score * track).toFixed(1) + '" height="12" rx="3"/>' +
        '<text class="soft" x="' + (label + track + 8) + '" y="' + (y + 12) + '">' + S.pct(s.score) + "</text></g>";
    });
    var H = services.length * rowH + 8, svg = $("scores");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("height", H);
    svg.innerHTML = out.join("");
  }
  function list(counts, shown) {
    var keys = Object.keys(counts);
    var text = keys.slice(0, shown).map(function (k) { return '<span class="chip">' + esc(k || "(no service)") + " ×" + S.count(counts[k]) + "</span>"; });
    if (keys.length > shown) text.push('<span class="faint">and ' + (keys.length - shown) + " more</span>");
    return '<div class="chips">' + text.join("") + "</div>";
  }
  function ruleCard(r) {
    var examples = r.examples.map(function (e) {
      var where = e.trace_id ? S.traceLink(e.trace_id, e.trace_id.slice(0, 16) + "…") + " " : "";
      return "<div>" + where + esc(e.service + (e.name ? ": " + e.name : "")) + ' <span class="faint">(' + esc(e.detail) + ")</span></div>";
    }).join("");
    return '<div class="card rule-card" data-rule="' + esc(r.id) + '" data-severity="' + esc(r.severity) + '"><div class="card-head"><div class="rule-head">' +
      '<span class="badge ' + esc(r.severity) + '">' + esc(r.severity) + "</span><code>" + esc(r.id) + "</code><span>" + esc(r.title) + '</span><span class="faint">' +
      S.plural(r.spans, "span") + (r.traces ? " in " + S.plural(r.traces, "trace") : "") + '</span></div></div><div class="card-body"><dl class="rule">' +
      "<dt>where</dt><dd>" + list(r.services, 6) + "</dd><dt>what</dt><dd>" + list(r.details, 6) + "</dd>" +
      (examples ? "<dt>e.g.</dt><dd>" + examples + "</dd>" : "") + "<dt>why</dt><dd>" + esc(r.why) + "</dd><dt>fix</dt><dd>" + esc(r.fix) + "</dd></dl></div></div>";
  }
  function run(p) {
    // A search's own range and operation come along ("Check instrumentation" on the search page).
    var search = S.insightSearch(p), q = search.q;
    var job = S.working("Reading and checking the traces of " + q.get("service") + " in " + search.win);
    return S.ask("/api/v1/lint?" + q.toString()).then(function (asked) {
      if (!job.done()) return; // a newer run is under way: this answer is stale
      var r = asked.body;
      var scoresCard = $("scores").closest(".card");
      scoresCard.hidden = !r.traces;
      if (!r.traces) { // a score of 100% for nothing would read as a clean bill of health
        $("verdict").innerHTML = '<span class="muted">No traces touch <b>' + esc(p.get("service") || "") + "</b> in " +
          esc(search.win) + ": nothing to check. Choose a longer window or another service.</span>";
        $("rules").innerHTML = "";
        return;
      }
      var level = r.score >= 0.99 ? "better" : r.score >= 0.9 ? "" : "worse";
      $("verdict").innerHTML = '<span class="big ' + level + '">' + S.pct(r.score) + '</span><span class="muted">of ' + S.plural(r.spans, "span") +
        " in " + S.plural(r.traces, "trace") + (q.get("operation") ? " touching " + esc(q.get("operation")) : "") +
        " have no error or warning</span><span>" + '<span class="badge error">' + S.plural(r.counts.error, "error rule") +
        '</span> <span class="badge warning">' + S.plural(r.counts.warning, "warning rule") + '</span> <span class="badge info">' + S.plural(r.counts.info, "info rule") + "</span></span>" +
        S.capNote(asked.sample, +q.get("limit"));
      scores(r.services);
      $("rules").innerHTML = r.rules.length ? r.rules.map(ruleCard).join("") : '<div class="card"><div class="card-body none">Nothing found: these traces pass every rule.</div></div>';
    }, function (e) {
      if (job.done()) throw e;
    });
  }
  S.page(run);
})();
