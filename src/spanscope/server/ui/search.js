/* spanscope search page. Plain JS, no build step; talks only to the same-origin Jaeger API.
 *
 * The form becomes the query string of /api/traces (service, operation, tags in logfmt,
 * minDuration, maxDuration, lookback or start/end in microseconds, limit). The same string is
 * the page's own address, so a search can be shared, reloaded and walked with Back/Forward; it is
 * also kept in sessionStorage for the "Search" links of the trace pages. Each Jaeger trace is
 * summarised here (root, duration, spans, services, error spans by spanscope's analysis rules)
 * and shown as a sortable table and a duration-over-time scatter.
 */
(function () {
  "use strict";

  // helpers.js, loaded before this script
  var CONFIG = window.SS.config;
  var trimNum = window.SS.trimNum, esc = window.SS.esc, fmtCount = window.SS.count, api = window.SS.api;
  var $ = window.SS.$;
  var LOOKBACK_US = {}, LOOKBACK_TEXT = {};  // the windows of the form, from the server
  Object.keys(CONFIG.lookbacks).forEach(function (key) {
    LOOKBACK_US[key] = CONFIG.lookbacks[key].us;
    LOOKBACK_TEXT[key] = "in the last " + CONFIG.lookbacks[key].text;
  });
  var UNKNOWN = "(unknown service)";
  var colors = {};
  var results = [];     // trace summaries of the last search
  var sortKey = "start", sortAsc = false;
  var searching = 0;    // id of the search in flight; older answers are dropped

  // ---- formatting ---------------------------------------------------------------------------
  function fmtDur(us) { // same units and precision as the waterfall page
    var a = Math.abs(us);
    if (a >= 6e7) { var m = Math.floor(us / 6e7); return m + " min " + trimNum((us - m * 6e7) / 1e6, 3) + " s"; }
    if (a >= 1e6) return trimNum(us / 1e6, 3) + " s";
    if (a >= 1e3) return trimNum(us / 1e3, 3) + " ms";
    if (a >= 1) return trimNum(us, 3) + " µs";
    return Math.round(us * 1000) + " ns";
  }
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // Times in UTC, as on the Monitor page (whose chart points open this page) and the command
  // line: in the browser's zone, a Monitor bucket at 11:45 UTC opened as "from 12:45" in Berlin.
  function fmtClock(d, ms) {
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + (ms ? "." + pad(d.getUTCMilliseconds(), 3) : "");
  }
  function fmtWhen(us) {
    var d = new Date(us / 1000), now = new Date();
    var day = d.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? "" : MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + " ";
    return day + fmtClock(d, true);
  }
  function fmtAgo(us) {
    var s = (Date.now() - us / 1000) / 1000;
    if (s < 0) return "in the future";
    if (s < 60) return Math.floor(s) + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    if (s < 86400) return Math.floor(s / 3600) + "h ago";
    return Math.floor(s / 86400) + "d ago";
  }
  function isoUtc(us) { return new Date(us / 1000).toISOString().replace("T", " ").replace("Z", " UTC"); }

  // The From / To fields hold UTC too (their labels say so): "2026-11-27T11:45:00".
  function toUtcInput(ms) { return new Date(ms).toISOString().slice(0, 19); }
  function fromUtcInput(text) { return text ? Date.parse(text + "Z") : NaN; }

  // ---- the API ------------------------------------------------------------------------------


  // ---- one Jaeger trace, summarised -----------------------------------------------------------
  function tagMap(tags) {
    var out = {};
    if (tags) for (var i = 0; i < tags.length; i++) if (!(tags[i].key in out)) out[tags[i].key] = tags[i].value;
    return out;
  }
  function asInt(v) {
    if (typeof v === "number") return Number.isInteger(v) ? v : null;
    if (typeof v === "string" && /^\d+$/.test(v)) return +v;
    return null;
  }
  // The rules of spanscope.analysis.errors.is_error_span, over Jaeger's tags and logs.
  function isError(span) {
    var t = tagMap(span.tags);
    if (t["otel.status_code"] === "ERROR" || t.error === true || t.error === "true") return true;
    var http = "http.response.status_code" in t ? t["http.response.status_code"] : t["http.status_code"];
    if (http !== undefined) { var code = asInt(http); if (code !== null && code >= 500) return true; }
    if ("rpc.grpc.status_code" in t) { var g = asInt(t["rpc.grpc.status_code"]); if (g !== null && g !== 0) return true; }
    var logs = span.logs || [];
    for (var i = 0; i < logs.length; i++) {
      var f = logs[i].fields || [];
      if (f.length && f[0].key === "event" && f[0].value === "exception") return true;
    }
    return false;
  }
  function summarize(doc) {
    var spans = doc.spans || [], procs = doc.processes || {}, ids = Object.create(null);
    var i, s, t0 = Infinity, t1 = -Infinity, errors = 0, perService = Object.create(null), root = null;
    for (i = 0; i < spans.length; i++) ids[spans[i].spanID] = true;
    for (i = 0; i < spans.length; i++) {
      s = spans[i];
      var start = s.startTime, end = start + (s.duration || 0);
      if (start < t0) t0 = start;
      if (end > t1) t1 = end;
      var svc = (procs[s.processID] || {}).serviceName || UNKNOWN;
      perService[svc] = (perService[svc] || 0) + 1;
      if (isError(s)) errors++;
      // The first reference is the parent when it names a span of this trace.
      var ref = s.references && s.references[0];
      var hasParent = !!ref && ref.traceID === doc.traceID && ids[ref.spanID] === true;
      if (!hasParent && (!root || start < root.startTime || (start === root.startTime && (s.duration || 0) > (root.duration || 0)))) root = s;
    }
    if (!root && spans.length) root = spans[0];
    var svcs = Object.keys(perService).sort();
    return {
      id: doc.traceID,
      start: spans.length ? t0 : 0,
      dur: spans.length ? Math.max(0, t1 - t0) : 0,
      n: spans.length,
      errors: errors,
      services: svcs,
      perService: perService,
      rootService: root ? (procs[root.processID] || {}).serviceName || UNKNOWN : UNKNOWN,
      rootName: root ? root.operationName : "",
    };
  }

  // ---- form <-> query string ------------------------------------------------------------------
  function formParams() {
    var p = new URLSearchParams();
    p.set("service", $("service").value);
    if ($("operation").value) p.set("operation", $("operation").value);
    var tags = $("tags").value.trim();
    if (tags) p.set("tags", tags);
    var lookback = $("lookback").value;
    p.set("lookback", lookback);
    if (lookback === "custom") {
      var from = fromUtcInput($("start").value), to = fromUtcInput($("end").value);
      if (!isNaN(from)) p.set("start", String(Math.round(from * 1000)));
      if (!isNaN(to)) p.set("end", String(Math.round(to * 1000) + 999999)); // the whole last second
    }
    var min = $("min-duration").value.trim(), max = $("max-duration").value.trim();
    if (min) p.set("minDuration", min);
    if (max) p.set("maxDuration", max);
    p.set("limit", $("limit").value.trim() || "20");
    return p;
  }
  function checkForm(p) {
    if (!p.get("service")) return "Choose a service.";
    if (p.get("lookback") === "custom") {
      if (!p.get("start") || !p.get("end")) return "Give both ends of the custom time range.";
      if (+p.get("start") > +p.get("end")) return "The custom range ends before it starts.";
    }
    var limit = p.get("limit");
    if (!/^\d+$/.test(limit) || +limit < 1 || +limit > 1500) return "Limit must be a number from 1 to 1500.";
    return "";
  }
  function setOption(select, value) {
    if (!value) { select.value = ""; return; }
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      var opt = document.createElement("option");
      opt.value = value; opt.textContent = value + " (not stored)";
      select.appendChild(opt);
    }
    select.value = value;
  }
  function applyParams(p) {
    setOption($("service"), p.get("service") || "");
    $("tags").value = p.get("tags") || "";
    var lookback = p.get("lookback") || (p.get("start") ? "custom" : CONFIG.defaultLookback);
    if (!(lookback in LOOKBACK_US) && lookback !== "custom") {
      var opt = document.createElement("option");
      opt.value = lookback; opt.textContent = "Last " + lookback;
      $("lookback").appendChild(opt);
    }
    $("lookback").value = lookback;
    if (lookback === "custom") {
      if (p.get("start")) $("start").value = toUtcInput(+p.get("start") / 1000);
      if (p.get("end")) $("end").value = toUtcInput(+p.get("end") / 1000);
    }
    $("custom-range").hidden = lookback !== "custom";
    $("min-duration").value = p.get("minDuration") || "";
    $("max-duration").value = p.get("maxDuration") || "";
    $("limit").value = p.get("limit") || "20";
    return loadOperations(p.get("service") || "").then(function () { setOption($("operation"), p.get("operation") || ""); });
  }

  // ---- services and operations ---------------------------------------------------------------
  function loadServices() {
    return api("/api/services").then(function (body) {
      var names = body.data || [];
      names.slice().sort().forEach(function (name, i) { colors[name] = CONFIG.palette[i % CONFIG.palette.length]; });
      $("service").innerHTML = (names.length ? '<option value="">Choose a service…</option>' : '<option value="">No services yet</option>') +
        names.map(function (n) { return '<option value="' + esc(n) + '">' + esc(n) + "</option>"; }).join("");
      $("store-meta").textContent = names.length ? fmtCount(names.length) + (names.length === 1 ? " service" : " services") + " stored" : "";
      if (!names.length) {
        $("empty-title").textContent = "No traces stored yet";
        $("empty-text").innerHTML = "Point your services' OTLP exporter at this server (OTLP/HTTP on port 4318 and OTLP/gRPC on 4317 by default; Zipkin on 9411), or replay a file with <code>spanscope load</code>, then reload this page.";
      }
      return names;
    });
  }
  var opsFor = null;
  function loadOperations(service) {
    if (service === opsFor) return Promise.resolve();
    opsFor = service;
    var select = $("operation");
    select.innerHTML = '<option value="">All operations</option>';
    if (!service) return Promise.resolve();
    return api("/api/services/" + encodeURIComponent(service) + "/operations").then(function (body) {
      if (opsFor !== service) return;
      select.innerHTML = '<option value="">All operations</option>' + (body.data || []).map(function (n) {
        return '<option value="' + esc(n) + '">' + esc(n) + "</option>";
      }).join("");
    }).catch(function (err) { showError("Could not load the operations of " + service + ": " + err.message); });
  }

  // ---- searching ------------------------------------------------------------------------------
  function showError(message) {
    $("form-error").textContent = message;
    $("form-error").hidden = !message;
  }
  function search(p, push) {
    var problem = checkForm(p);
    showError(problem);
    if (problem) return Promise.resolve();
    var qs = "?" + p.toString();
    if (push && location.search !== qs) history.pushState(null, "", "/" + qs);
    try { sessionStorage.setItem("spanscope.search", qs); } catch (e) { /* storage off */ }
    try { localStorage.setItem("spanscope.service", p.get("service")); } catch (e) { /* storage off */ }
    document.title = p.get("service") + (p.get("operation") ? ": " + p.get("operation") : "") + " · Search · spanscope";
    var id = ++searching;
    $("find").disabled = true; $("find").textContent = "Searching…";
    var nowUs = Date.now() * 1000;
    var lookback = p.get("lookback");
    var end = p.get("end") ? +p.get("end") : nowUs;
    var start = p.get("start") ? +p.get("start") : end - (LOOKBACK_US[lookback] || LOOKBACK_US[CONFIG.defaultLookback]);
    return api("/api/traces" + qs).then(function (body) {
      if (id !== searching) return;
      results = (body.data || []).map(summarize);
      var meta = LOOKBACK_TEXT[lookback] || (lookback === "custom" ? "from " + fmtWhen(start) + " to " + fmtWhen(end) + " UTC" : "in the last " + lookback);
      renderResults(p, meta);
    }).catch(function (err) {
      if (id !== searching) return;
      showError(err.message);
    }).then(function () {
      if (id !== searching) return;
      $("find").disabled = false; $("find").textContent = "Find traces";
      document.body.dataset.searched = String(id);
    });
  }

  function renderResults(p, meta) {
    $("empty").hidden = results.length > 0;
    $("found").hidden = results.length === 0;
    if (!results.length) {
      $("empty-title").textContent = "No traces found";
      $("empty-text").textContent = "Nothing matches " + p.get("service") + (p.get("operation") ? ": " + p.get("operation") : "") + " " + meta + ". Widen the time range, or loosen the tags and durations.";
    }
    var limit = +p.get("limit");
    $("result-count").textContent = fmtCount(results.length) + (results.length === 1 ? " trace" : " traces");
    $("result-meta").textContent = meta + (results.length >= limit ? " · the " + fmtCount(limit) + " most recent (raise the limit for more)" : "");
    var api = new URLSearchParams(p);
    $("analysis-link").href = "/api/v1/analysis?" + api.toString();
    // The Analysis, Compare and Quality pages take the search's own window and operation (an
    // incident's range, as a Monitor bucket opens it).
    var why = new URLSearchParams({ service: p.get("service") });
    var lookback = p.get("lookback") || (p.get("start") ? "custom" : "");
    if (lookback) why.set("lookback", lookback);
    if (lookback === "custom") { why.set("start", p.get("start") || ""); why.set("end", p.get("end") || ""); }
    if (p.get("operation")) why.set("operation", p.get("operation"));
    $("why-link").href = "/analysis?" + why.toString();
    $("compare-link").href = "/compare?" + why.toString();
    $("quality-link").href = "/quality?" + why.toString();
    api.set("format", "otlp-json");
    $("export-link").href = "/api/v1/export?" + api.toString();
    $("export-link").setAttribute("download", "traces.json");
    drawTable();
    drawScatter();
  }

  // ---- the table ------------------------------------------------------------------------------
  var KEYS = {
    start: function (r) { return r.start; },
    root: function (r) { return (r.rootService + "\u0001" + r.rootName).toLowerCase(); },
    dur: function (r) { return r.dur; },
    n: function (r) { return r.n; },
    svc: function (r) { return r.services.length; },
    errors: function (r) { return r.errors; },
  };
  function sorted() {
    var key = KEYS[sortKey], dir = sortAsc ? 1 : -1;
    return results.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      return x < y ? -dir : x > y ? dir : (b.start - a.start);
    });
  }
  function dot(name, cls) {
    return '<i class="' + (cls || "sdot") + '" style="background:' + (colors[name] || "#8a94a3") + '"></i>';
  }
  function drawTable() {
    var longest = 1;
    results.forEach(function (r) { if (r.dur > longest) longest = r.dur; });
    document.querySelectorAll("#trace-table th").forEach(function (th) {
      th.classList.toggle("sorted", th.dataset.key === sortKey);
      th.classList.toggle("asc", th.dataset.key === sortKey && sortAsc);
    });
    $("trace-table").tBodies[0].innerHTML = sorted().map(function (r) {
      var svcTitle = r.services.map(function (s) { return s + " (" + r.perService[s] + " spans)"; }).join("\n");
      return '<tr data-trace="' + esc(r.id) + '">' +
        '<td class="when" title="' + esc(isoUtc(r.start)) + '">' + esc(fmtWhen(r.start)) + '<span class="ago">' + esc(fmtAgo(r.start)) + "</span></td>" +
        '<td class="root" title="' + esc(r.rootService + ": " + r.rootName + "\ntrace " + r.id) + '"><a href="/trace/' + esc(r.id) + '">' + dot(r.rootService) +
        '<span class="svc">' + esc(r.rootService) + '</span>: <span class="op">' + esc(r.rootName) + '</span><span class="tid">' + esc(r.id.slice(0, 8)) + "</span></a></td>" +
        '<td class="durcell"><div class="durwrap"><div class="durtrack"><div class="durbar' + (r.errors ? " err" : "") + '" style="width:' + (100 * r.dur / longest).toFixed(2) + '%"></div></div>' +
        '<span class="durtext">' + esc(fmtDur(r.dur)) + "</span></div></td>" +
        '<td class="num">' + fmtCount(r.n) + "</td>" +
        '<td title="' + esc(svcTitle) + '">' + r.services.length + '<span class="svc-dots">' + r.services.slice(0, 12).map(function (s) { return dot(s); }).join("") + "</span></td>" +
        '<td class="num ' + (r.errors ? "err-cell" : "zero") + '">' + fmtCount(r.errors) + "</td></tr>";
    }).join("");
  }

  // ---- the scatter ----------------------------------------------------------------------------
  var NS = "http://www.w3.org/2000/svg";
  var TIME_STEPS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5];
  function niceStep(span, count) {
    var raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function drawScatter() {
    var svg = $("scatter");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!results.length) return;
    var W = svg.clientWidth || 800, H = svg.clientHeight || 190;
    var L = 64, R = 18, T = 12, B = 26, w = W - L - R, h = H - T - B;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    // x: the span of the results, padded, so a burst of traces in a long window is not one dot
    var x0 = Infinity, x1 = -Infinity, maxDur = 1, maxN = 1;
    results.forEach(function (r) {
      if (r.start < x0) x0 = r.start;
      if (r.start > x1) x1 = r.start;
      if (r.dur > maxDur) maxDur = r.dur;
      if (r.n > maxN) maxN = r.n;
    });
    var padX = Math.max((x1 - x0) * 0.04, 5e5);
    x0 -= padX; x1 += padX;
    var yStep = niceStep(maxDur, 4), y1 = Math.ceil(maxDur * 1.08 / yStep) * yStep;
    var sx = function (t) { return L + ((t - x0) / (x1 - x0)) * w; };
    var sy = function (d) { return T + h - (d / y1) * h; };
    var axis = el("g", { class: "axis" }, svg);
    for (var y = 0; y <= y1 + 1e-9; y += yStep) {
      el("line", { x1: L, x2: L + w, y1: sy(y), y2: sy(y), class: y === 0 ? "base" : "" }, axis);
      var label = el("text", { x: L - 8, y: sy(y) + 4, "text-anchor": "end" }, axis);
      label.textContent = y === 0 ? "0" : fmtDur(y);
    }
    var spanMs = (x1 - x0) / 1000, stepMs = TIME_STEPS_MS[TIME_STEPS_MS.length - 1];
    for (var i = 0; i < TIME_STEPS_MS.length; i++) if (spanMs / TIME_STEPS_MS[i] <= Math.max(2, Math.floor(w / 110))) { stepMs = TIME_STEPS_MS[i]; break; }
    // Ticks on round UTC times (whole minutes, hours...), as a clock would show them.
    var first = Math.ceil(x0 / 1000 / stepMs) * stepMs;
    for (var t = first; t * 1000 <= x1; t += stepMs) {
      var px = sx(t * 1000);
      el("line", { x1: px, x2: px, y1: T + h, y2: T + h + 4, class: "base" }, axis);
      var tl = el("text", { x: px, y: H - 6, "text-anchor": "middle" }, axis);
      var d = new Date(t);
      tl.textContent = stepMs >= 864e5 ? MONTHS[d.getUTCMonth()] + " " + d.getUTCDate()
        : stepMs >= 6e4 ? pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes())
        : fmtClock(d, stepMs < 1e3);
      // A label centred on a tick near an edge ran past it ("11:45:09.5" cut off): keep it in.
      var box = tl.getBBox();
      if (box.x + box.width > W) tl.setAttribute("text-anchor", "end");
      else if (box.x < L - 8) tl.setAttribute("text-anchor", "start");
    }
    var dots = el("g", { class: "dots" }, svg);
    // Longest first, so short traces drawn later stay clickable on top.
    results.slice().sort(function (a, b) { return b.n - a.n; }).forEach(function (r) {
      el("circle", {
        cx: sx(r.start).toFixed(1), cy: sy(r.dur).toFixed(1), r: (3.5 + 5 * Math.sqrt(r.n / maxN)).toFixed(1),
        class: r.errors ? "err" : "", "data-trace": r.id,
      }, dots);
    });
  }
  function byId(id) {
    for (var i = 0; i < results.length; i++) if (results[i].id === id) return results[i];
    return null;
  }
  function showTooltip(r, ev) {
    var tip = $("tooltip");
    tip.innerHTML = '<div class="tt-title">' + esc(r.rootService) + ": " + esc(r.rootName) + "</div><table>" +
      "<tr><td>Duration</td><td>" + esc(fmtDur(r.dur)) + "</td></tr>" +
      "<tr><td>Start</td><td>" + esc(fmtWhen(r.start)) + " UTC</td></tr>" +
      "<tr><td>Spans</td><td>" + fmtCount(r.n) + " in " + r.services.length + " services</td></tr>" +
      (r.errors ? '<tr><td>Errors</td><td style="color:var(--error)">' + fmtCount(r.errors) + " spans</td></tr>" : "") +
      '<tr><td>Trace</td><td class="mono">' + esc(r.id) + "</td></tr></table>";
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > innerWidth - 8) x = ev.clientX - tip.offsetWidth - 10;
    if (y + tip.offsetHeight > innerHeight - 8) y = ev.clientY - tip.offsetHeight - 10;
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
  function hot(id) {
    document.querySelectorAll(".hot").forEach(function (n) { n.classList.remove("hot"); });
    if (!id) return;
    document.querySelectorAll('[data-trace="' + CSS.escape(id) + '"]').forEach(function (n) { n.classList.add("hot"); });
  }
  function openTrace(id, ev) {
    var url = "/trace/" + encodeURIComponent(id);
    if (ev && (ev.ctrlKey || ev.metaKey || ev.button === 1)) window.open(url, "_blank");
    else location.href = url;
  }

  // ---- events ---------------------------------------------------------------------------------
  function bind() {
    $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); search(formParams(), true); });
    $("service").addEventListener("change", function () { loadOperations($("service").value); });
    $("lookback").addEventListener("change", function () {
      var custom = $("lookback").value === "custom";
      $("custom-range").hidden = !custom;
      if (custom && !$("start").value) {
        $("start").value = toUtcInput(Date.now() - 36e5);
        $("end").value = toUtcInput(Date.now());
      }
    });
    $("trace-table").tHead.addEventListener("click", function (ev) {
      var th = ev.target.closest("th");
      if (!th) return;
      if (sortKey === th.dataset.key) sortAsc = !sortAsc;
      else { sortKey = th.dataset.key; sortAsc = sortKey === "root"; }
      drawTable();
    });
    var body = $("trace-table").tBodies[0];
    body.addEventListener("click", function (ev) {
      if (ev.target.closest("a")) return; // the link itself navigates (and middle-clicks work)
      var tr = ev.target.closest("tr");
      if (tr) openTrace(tr.dataset.trace, ev);
    });
    body.addEventListener("mouseover", function (ev) { var tr = ev.target.closest("tr"); hot(tr ? tr.dataset.trace : null); });
    body.addEventListener("mouseleave", function () { hot(null); });
    var svg = $("scatter");
    svg.addEventListener("mousemove", function (ev) {
      var c = ev.target.closest("circle"), r = c && byId(c.getAttribute("data-trace"));
      if (!r) { $("tooltip").hidden = true; hot(null); return; }
      hot(r.id); showTooltip(r, ev);
    });
    svg.addEventListener("mouseleave", function () { $("tooltip").hidden = true; hot(null); });
    svg.addEventListener("click", function (ev) {
      var c = ev.target.closest("circle");
      if (c) openTrace(c.getAttribute("data-trace"), ev);
    });
    var resizeTimer = 0;
    window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawScatter, 100); });
    window.addEventListener("popstate", function () { fromAddress(); });
    window.SS.themeSwitch();
  }

  function fromAddress() {
    var p = new URLSearchParams(location.search);
    if (!p.get("service")) return Promise.resolve();
    // A hand-written address may leave things out: the form's defaults fill them in.
    if (!p.get("limit")) p.set("limit", "20");
    if (!p.get("lookback")) p.set("lookback", p.get("start") ? "custom" : CONFIG.defaultLookback);
    return applyParams(p).then(function () { return search(p, false); });
  }

  bind();
  loadServices().then(function (names) {
    if (new URLSearchParams(location.search).get("service")) return fromAddress();
    var last = null;
    try { last = localStorage.getItem("spanscope.service"); } catch (e) { /* storage off */ }
    var pick = last && names.indexOf(last) >= 0 ? last : names.length === 1 ? names[0] : "";
    if (pick) { $("service").value = pick; return loadOperations(pick); }
  }).catch(function (err) {
    showError("Could not load the services: " + err.message);
  }).then(function () {
    document.body.dataset.ready = "1";
  });

  // A small, stable surface for tests.
  window.spanscope = { results: function () { return results; }, search: function () { return search(formParams(), true); } };
})();
