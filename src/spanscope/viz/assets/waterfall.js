/* spanscope waterfall page. Plain JS, no build step, no network.
 *
 * Data: two JSON blocks written by spanscope.viz.payload. #spanscope-data is parsed at load;
 * #spanscope-details (attributes, events, ...) only when first needed. Rows are kept in
 * depth-first order, so a span's subtree is the contiguous range [i, end[i]) and collapsing,
 * filtering and drawing are single passes over typed arrays. Only the rows on screen exist in
 * the DOM (a small pool re-filled on scroll), which keeps 50,000-span traces smooth.
 */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("spanscope-data").textContent);
  var DETAILS = null;
  var F = { ERROR: 1, CRITICAL: 2, ORPHAN: 4, SKEW: 8, UNCLOSED: 16, WARNING: 32, FOLLOWS: 64, NEGATIVE: 128, DUP: 256 };
  var KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"];
  var STATUS = ["unset", "ok", "error"];
  var ROW_H = 24;
  var OVERSCAN = 8;
  var $ = function (id) { return document.getElementById(id); };

  // The details block is [tables, part, ...]: a part holds DETAILS.chunk spans' details (all
  // traces' rows one after another) and tables.at says where each starts in the text (see
  // spanscope.viz.waterfall.details_block), so a part is parsed from its own slice when first
  // needed. Parsing the whole block (4 MiB on 50,000 spans) took 40-90 ms, paid by a details
  // panel opened before the idle warm-up had done it, and a long task in that warm-up.
  var TEXT = null, PARSED = [], OFFSETS = null;
  function details() {
    if (!DETAILS) {
      TEXT = document.getElementById("spanscope-details").textContent;
      var at = JSON.parse(TEXT.slice(7, TEXT.indexOf("]", 7) + 1));  // it starts [{"at":[
      DETAILS = JSON.parse(TEXT.slice(1, at[0] - 1));
      OFFSETS = [0];
      for (var t = 0; t < DATA.traces.length; t++) OFFSETS.push(OFFSETS[t] + DATA.traces[t].n);
    }
    return DETAILS;
  }
  function detailOf(ti, i) {
    var size = details().chunk, row = OFFSETS[ti] + i, k = Math.floor(row / size);
    var part = PARSED[k] || (PARSED[k] = JSON.parse(TEXT.slice(DETAILS.at[k], DETAILS.at[k + 1] - 1)));
    return part[row - k * size] || {};
  }
  // Attributes come as [key index, value, ...]: a number is an index into the string table,
  // anything else the value itself wrapped in a one-element list (see spanscope.viz.payload).
  function attrs(flat) {
    var out = {}, keys = DETAILS.keys, strs = DETAILS.strs;
    if (!flat) return out;
    for (var k = 0; k < flat.length; k += 2) {
      var v = flat[k + 1];
      out[keys[flat[k]]] = typeof v === "number" ? strs[v] : v[0];
    }
    return out;
  }
  function attrText(flat) {
    var out = "", keys = DETAILS.keys, strs = DETAILS.strs;
    if (!flat) return out;
    for (var k = 0; k < flat.length; k += 2) {
      var v = flat[k + 1];
      out += " " + keys[flat[k]] + "=" + (typeof v === "number" ? strs[v] : typeof v[0] === "string" ? v[0] : JSON.stringify(v[0]));
    }
    return out;
  }

  // ---- formatting ---------------------------------------------------------------------------
  function trimNum(x, digits) {
    var s = x.toPrecision(digits);
    if (s.indexOf("e") >= 0) s = String(Math.round(x));
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function fmtDur(ns) {
    var a = Math.abs(ns);
    if (a >= 60e9) { var m = Math.floor(ns / 60e9); return m + " min " + trimNum((ns - m * 60e9) / 1e9, 3) + " s"; }
    if (a >= 1e9) return trimNum(ns / 1e9, 3) + " s";
    if (a >= 1e6) return trimNum(ns / 1e6, 3) + " ms";
    if (a >= 1e3) return trimNum(ns / 1e3, 3) + " µs";
    return Math.round(ns) + " ns";
  }
  function fmtTick(t, step, top) {
    // One unit for the whole ruler, picked from its largest value, so labels read alike.
    var unit = top >= 1e9 ? [1e9, "s"] : top >= 1e6 ? [1e6, "ms"] : top >= 1e3 ? [1e3, "µs"] : [1, "ns"];
    var ratio = step / unit[0];
    var decimals = ratio < 1 ? Math.min(6, Math.ceil(-Math.log10(ratio) - 1e-9)) : 0;
    return (t / unit[0]).toFixed(decimals) + " " + unit[1];
  }
  function fmtCount(n) { return n.toLocaleString("en-US"); }
  function fmtStart(startNs) {
    var ms = Number(BigInt(startNs) / 1000000n);
    var d = new Date(ms);
    if (isNaN(d.getTime())) return startNs;
    // No break inside the time, so a narrow column wraps only between the date and the time.
    return d.toISOString().replace("T", " ").replace("Z", "\u00a0UTC");
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function highlight(text, q) {
    if (!q) return esc(text);
    var lower = text.toLowerCase(), at = lower.indexOf(q);
    if (at < 0) return esc(text);
    return esc(text.slice(0, at)) + "<mark>" + esc(text.slice(at, at + q.length)) + "</mark>" + esc(text.slice(at + q.length));
  }
  function svcName(i) { return DATA.services[i]; }
  function svcColor(i) { return DATA.colors[i]; }

  // ---- one trace, prepared for drawing -------------------------------------------------------
  var T = null; // the open trace
  var V = null; // its view state

  function prepare(ti) {
    var tr = DATA.traces[ti], c = tr.cols, n = c.sid.length;
    var depth = new Int32Array(n), end = new Int32Array(n), kids = new Int32Array(n);
    var par = c.par, i, p;
    for (i = 0; i < n; i++) { p = par[i]; depth[i] = p < 0 ? 0 : depth[p] + 1; if (p >= 0) kids[p]++; end[i] = i + 1; }
    for (i = n - 1; i >= 0; i--) { p = par[i]; if (p >= 0 && end[p] < end[i]) end[p] = end[i]; }
    var cpRows = new Map(), cpTotal = new Float64Array(n), cp = tr.cp;
    for (i = 0; i < cp.length; i += 3) {
      var list = cpRows.get(cp[i]);
      if (!list) cpRows.set(cp[i], (list = []));
      list.push(cp[i + 1], cp[i + 2]);
      cpTotal[cp[i]] += cp[i + 2] - cp[i + 1];
    }
    cpRows.forEach(function (list, row) {  // in time order, which cpLines relies on
      for (var k = 2; k < list.length; k += 2) {
        if (list[k] < list[k - 2]) {
          var pairs = [];
          for (var m = 0; m < list.length; m += 2) pairs.push([list[m], list[m + 1]]);
          pairs.sort(function (a, b) { return a[0] - b[0]; });
          cpRows.set(row, [].concat.apply([], pairs));
          return;
        }
      }
    });
    var maxDepth = 0;
    for (i = 0; i < n; i++) if (depth[i] > maxDepth) maxDepth = depth[i];
    return {
      index: ti, tr: tr, c: c, n: n, depth: depth, end: end, kids: kids, maxDepth: maxDepth,
      t: c.t, d: c.d, fl: c.fl, svc: c.svc, name: c.name, cpRows: cpRows, cpTotal: cpTotal,
      span: Math.max(tr.dur, 1), hay: null,
    };
  }

  function hayOf(tr, i) {
    var dd = detailOf(tr.index, i), extra = "";
    if (dd.a) extra += attrText(dd.a);
    if (dd.m) extra += " " + dd.m;
    if (dd.e) for (var k = 0; k < dd.e.length; k++) extra += " " + dd.e[k][1];
    return (DATA.names[tr.name[i]] + "\u0001" + svcName(tr.svc[i]) + "\u0001" + tr.c.sid[i] + "\u0001" + extra).toLowerCase();
  }
  function haystack() {
    if (T.hay) return T.hay;
    var hay = T.hayPart || new Array(T.n);
    for (var i = T.hayDone || 0; i < T.n; i++) hay[i] = hayOf(T, i);
    T.hay = hay;
    return hay;
  }
  // The search text of every span, built in idle moments after the trace is drawn, a slice at
  // a time, so the first search of a 50,000-span trace does not pay for it (it took 180-380 ms).
  // A slice parses the details part it reaches (about 2 ms), never the whole block.
  function warmSearch() {
    if (!window.requestIdleCallback) return;
    var tr = T;
    function step(deadline) {
      if (T !== tr || tr.hay) return; // another trace opened, or a search built it already
      var hay = tr.hayPart || (tr.hayPart = new Array(tr.n));
      var i = tr.hayDone || 0;
      while (i < tr.n && deadline.timeRemaining() > 2) {
        for (var end = Math.min(tr.n, i + 500); i < end; i++) hay[i] = hayOf(tr, i);
      }
      tr.hayDone = i;
      if (i < tr.n) requestIdleCallback(step); else tr.hay = hay;
    }
    requestIdleCallback(step, { timeout: 5000 });
  }

  function newView() {
    return {
      v0: 0, v1: T.span, collapsed: new Uint8Array(T.n), keep: null, query: "", service: -1,
      errorsOnly: false, cpOnly: false, visible: null, count: 0, selected: -1, version: 0, pool: [], W: 0,
    };
  }

  function filterActive() { return V.query !== "" || V.service >= 0 || V.errorsOnly || V.cpOnly; }

  function computeVisible() {
    var n = T.n, end = T.end, col = V.collapsed, vis = new Int32Array(n), k = 0, i;
    V.keep = null;
    var matches = 0;
    if (filterActive()) {
      var keep = new Uint8Array(n), q = V.query, sv = V.service, eo = V.errorsOnly, co = V.cpOnly;
      var hay = q ? haystack() : null;
      for (i = 0; i < n; i++) {
        if (sv >= 0 && T.svc[i] !== sv) continue;
        if (eo && !(T.fl[i] & F.ERROR)) continue;
        if (co && !(T.fl[i] & F.CRITICAL)) continue;
        if (q && hay[i].indexOf(q) < 0) continue;
        keep[i] = 1; matches++;
        for (var p = T.c.par[i]; p >= 0 && !keep[p]; p = T.c.par[p]) keep[p] = 2;
      }
      V.keep = keep;
      for (i = 0; i < n;) {
        if (!keep[i]) { i = end[i]; continue; }
        vis[k++] = i; i = col[i] ? end[i] : i + 1;
      }
    } else {
      for (i = 0; i < n;) { vis[k++] = i; i = col[i] ? end[i] : i + 1; }
    }
    V.visible = vis; V.count = k; V.matches = matches; V.version++;
    $("rows-inner").style.height = k * ROW_H + "px";
    $("match-count").textContent = filterActive()
      ? fmtCount(matches) + " of " + fmtCount(n) + " spans match"
      : fmtCount(n) + " spans";
    // An empty grid alone looks broken: say which filters left nothing, and offer the way back.
    var none = filterActive() && matches === 0;
    $("no-match").hidden = !none;
    if (none) $("no-match-text").textContent = noMatchText();
  }

  function noMatchText() {
    var parts = [];
    if (V.query) parts.push("matches \u201c" + $("search").value.trim() + "\u201d");
    if (V.service >= 0) parts.push("is of " + svcName(V.service));
    if (V.errorsOnly) parts.push("has an error");
    if (V.cpOnly) parts.push("is on the critical path");
    return "No span of this trace " + parts.join(", ") + ".";
  }

  function clearFilters() {
    $("search").value = ""; $("service-filter").value = "";
    $("errors-only").checked = false; $("cp-only").checked = false;
    applyFilter();
  }

  // ---- drawing --------------------------------------------------------------------------------
  function x(t) { return ((t - V.v0) / (V.v1 - V.v0)) * V.W; }

  // The only place that reads sizes: callers write the DOM after it, never read between
  // writes, so a change (the details panel opening) costs one layout, not one per read.
  function measure() {
    V.W = $("ruler").clientWidth || 1;
    V.MW = $("minimap").clientWidth || 1;
    V.MH = $("minimap").clientHeight || 1;
  }

  function niceStep(range, target) {
    var raw = range / Math.max(1, target), pow = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / pow;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * pow;
  }

  function drawRuler() {
    var ruler = $("ruler"), grid = $("gridlines"), range = V.v1 - V.v0;
    var step = niceStep(range, V.W / 110), first = Math.ceil(V.v0 / step) * step;
    var ticks = "", lines = "";
    for (var t = first; t <= V.v1 + step * 1e-6; t += step) {
      var px = x(t);
      if (px > V.W - 40) break;
      ticks += '<div class="tick" style="left:' + px.toFixed(1) + 'px">' + fmtTick(t, step, V.v1) + "</div>";
      lines += '<div class="gridline" style="left:' + px.toFixed(1) + 'px"></div>';
    }
    var brush = $("ruler-brush");
    ruler.innerHTML = ticks;
    ruler.appendChild(brush);
    grid.innerHTML = lines;
  }

  var SKELETON = '<div class="label"><button class="toggle"></button><span class="dot"></span>' +
    '<span class="svc"></span><span class="op"></span><span class="badges"></span><span class="kids"></span>' +
    '</div><div class="track"><div class="bar"></div><span class="cps"></span><span class="dur"></span></div>';

  function badgesHTML(fl) {
    var h = "";
    if (fl & F.ERROR) h += '<span class="badge error" title="error">!</span>';
    if (fl & F.ORPHAN) h += '<span class="badge problem" title="orphan: its parent is not in the trace">orphan</span>';
    if (fl & F.SKEW) h += '<span class="badge problem" title="clock skew adjusted">skew</span>';
    if (fl & F.UNCLOSED) h += '<span class="badge problem" title="never ended: drawn to the end of the trace">unclosed</span>';
    if ((fl & F.WARNING) && !(fl & (F.ORPHAN | F.SKEW | F.UNCLOSED))) h += '<span class="badge problem" title="data problem: see details">⚠</span>';
    return h;
  }

  // Fill a pooled row element for span row i. The element keeps its children from one span to
  // the next; only text, classes and a few style properties change, which is what keeps
  // scrolling cheap (rebuilding rows with innerHTML costs several times more).
  function fillRow(el, i) {
    if (!el._parts) {
      el.innerHTML = SKELETON;
      var label = el.firstChild, track = el.lastChild;
      el._parts = {
        label: label, toggle: label.children[0], dot: label.children[1], svc: label.children[2],
        op: label.children[3], badges: label.children[4], kids: label.children[5],
        bar: track.children[0], cps: track.children[1], dur: track.children[2],
      };
    }
    var p = el._parts, fl = T.fl[i], depth = T.depth[i], sv = T.svc[i], q = V.query;
    var open = !V.collapsed[i];
    p.label.style.paddingLeft = 10 + Math.min(depth, 30) * 14 + Math.max(0, depth - 30) * 3 + "px";
    if (T.kids[i]) {
      p.toggle.className = "toggle";
      p.toggle.dataset.toggle = i;
      p.toggle.textContent = open ? "▼" : "▶";
      p.toggle.setAttribute("aria-label", open ? "collapse" : "expand");
    } else {
      p.toggle.className = "toggle leaf";
      p.toggle.removeAttribute("data-toggle");
      p.toggle.textContent = "";
    }
    var color = svcColor(sv);
    p.dot.style.background = color;
    if (q) { p.svc.innerHTML = highlight(svcName(sv), q); p.op.innerHTML = highlight(DATA.names[T.name[i]], q); }
    else { p.svc.textContent = svcName(sv); p.op.textContent = DATA.names[T.name[i]]; }
    var badges = fl & (F.ERROR | F.ORPHAN | F.SKEW | F.UNCLOSED | F.WARNING) ? badgesHTML(fl) : "";
    if (p.badges._html !== badges) { p.badges.innerHTML = badges; p.badges._html = badges; }
    p.kids.textContent = open ? "" : fmtCount(T.end[i] - i - 1);

    var t0 = T.t[i], t1 = t0 + T.d[i], l = x(t0), r = x(t1);
    var lc = Math.max(-4, l), rc = Math.min(V.W + 4, r);
    p.bar.className = "bar" + (fl & F.ERROR ? " error" : "") + (fl & F.UNCLOSED ? " unclosed" : "") + (fl & F.FOLLOWS ? " follows" : "");
    p.bar.style.left = lc.toFixed(1) + "px";
    p.bar.style.width = Math.max(2, rc - lc).toFixed(1) + "px";
    p.bar.style.backgroundColor = color;
    var segs = T.cpRows.get(i);
    var cps = segs ? cpLines(segs) : "";
    if (p.cps._html !== cps) { p.cps.innerHTML = cps; p.cps._html = cps; }
    var text = fl & F.UNCLOSED ? "unclosed" : fmtDur(T.d[i]), st = p.dur.style;
    p.dur.textContent = text;
    var inside = false;
    if (r + 70 < V.W) { st.left = (Math.max(r, 0) + 5).toFixed(1) + "px"; st.right = ""; }
    else if (l > 70) { st.left = ""; st.right = (V.W - l + 5).toFixed(1) + "px"; }
    else { inside = true; st.left = ""; st.right = (V.W - Math.min(r, V.W) + 6).toFixed(1) + "px"; }
    // No room on either side (the root, or a span zoomed past both edges): the figure goes
    // on the bar's visible end, on a chip of the page's background so it reads on any colour.
    p.dur.className = inside ? "dur inside" : "dur";
  }

  // The critical-path lines of one row, [start, end, ...] in time order. Sections less than
  // a pixel apart are drawn as one line (data-s/data-e are the first start and the last end):
  // a batch root waits in thousands of gaps between its children, and 2,500 lines of a pixel,
  // each with its own shadow, made the row cost 50 ms to build, lay out and paint; the eye
  // cannot tell them from one line anyway. So a row has at most about W/2 lines.
  function cpLines(segs) {
    var out = "", s0 = -1, e0 = -1, l0 = 0, r0 = 0, lim = V.W + 4;
    for (var k = 0; k <= segs.length; k += 2) {
      var sl = 0, sr = 0;
      if (k < segs.length) {
        sl = Math.max(-4, x(segs[k])); sr = Math.min(lim, x(segs[k + 1]));
        if (sr < -4 || sl > lim) continue;
        sr = Math.max(sr, sl + 1);
        if (s0 >= 0 && sl - r0 < 1) { e0 = segs[k + 1]; r0 = Math.max(r0, sr); continue; }
      }
      if (s0 >= 0) {
        out += '<div class="cp" data-s="' + s0 + '" data-e="' + e0 + '" style="left:' + l0.toFixed(1) + "px;width:" + (r0 - l0).toFixed(1) + 'px"></div>';
      }
      if (k < segs.length) { s0 = segs[k]; e0 = segs[k + 1]; l0 = sl; r0 = sr; }
    }
    return out;
  }

  var frame = 0;
  function schedule() { if (!frame) frame = requestAnimationFrame(function () { frame = 0; drawRows(); }); }

  function drawRows() {
    var rows = $("rows"), inner = $("rows-inner");
    var top = rows.scrollTop, height = rows.clientHeight;
    var first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    var last = Math.min(V.count, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    var need = last - first, pool = V.pool;
    while (pool.length < need) {
      var el = document.createElement("div");
      el.className = "row";
      el._key = ""; el._pos = -1;
      inner.appendChild(el);
      pool.push(el);
    }
    // Each list position has a fixed slot (position modulo pool size), so scrolling by a few
    // rows rebuilds only the rows that came into view; the others just stay where they are.
    var size = pool.length, used = new Uint8Array(size);
    for (var pos = first; pos < last; pos++) {
      var slot = pos % size, el2 = pool[slot], i = V.visible[pos];
      var key = i + ":" + V.version;
      used[slot] = 1;
      if (el2._key !== key) {
        el2._key = key;
        fillRow(el2, i);
        el2.dataset.row = i;
        el2.dataset.spanId = T.c.sid[i];
        var cls = "row";
        if (T.fl[i] & F.ERROR) cls += " err";
        if (T.fl[i] & F.CRITICAL) cls += " on-cp";
        if (V.keep && V.keep[i] === 2) cls += " dim";
        if (i === V.selected) cls += " selected";
        el2.className = cls;
      }
      if (el2._pos !== pos) {
        if (el2._pos < 0) el2.style.display = "";
        el2._pos = pos;
        el2.style.transform = "translateY(" + pos * ROW_H + "px)";
      }
    }
    for (var k = 0; k < size; k++) {
      if (!used[k] && pool[k]._pos >= 0) { pool[k].style.display = "none"; pool[k]._pos = -1; pool[k]._key = ""; }
    }
  }

  // Rows first: drawRows reads the scroll position, which makes the browser lay out if
  // anything was written before it (the ruler's ticks were, and cost a second layout).
  function redraw() { V.version++; drawRows(); drawRuler(); drawWindow(); }

  // ---- minimap -----------------------------------------------------------------------------
  // Every span as a rectangle of its colour, errors on top, rasterised into one ImageData:
  // spans are whole device pixels (a 50,000-span trace has many spans per pixel row anyway),
  // and each pixel row of a span is one typed-array fill. It replaced a fillRect per span,
  // 45 ms on 50,000 spans, paid again each time the details panel opened or closed.
  var rgbaCache = new Map();
  function rgba32(g, colour) {
    var hit = rgbaCache.get(colour);
    if (hit !== undefined) return hit;
    g.fillStyle = "#000"; g.fillStyle = colour;  // the canvas normalises any CSS colour
    var s = g.fillStyle, r, gr, b, a = 255, m;
    if (s.charAt(0) === "#") { r = parseInt(s.substr(1, 2), 16); gr = parseInt(s.substr(3, 2), 16); b = parseInt(s.substr(5, 2), 16); }
    else { m = s.match(/[\d.]+/g) || [0, 0, 0, 1]; r = +m[0]; gr = +m[1]; b = +m[2]; a = Math.round((m.length > 3 ? +m[3] : 1) * 255); }
    var value = ((a << 24) | (b << 16) | (gr << 8) | r) >>> 0;  // ImageData bytes are RGBA: little-endian
    rgbaCache.set(colour, value);
    return value;
  }
  function drawMinimap() {
    var canvas = $("minimap-canvas"), dpr = window.devicePixelRatio || 1;
    var w = V.MW, h = V.MH, W = Math.max(1, Math.round(w * dpr)), H = Math.max(1, Math.round(h * dpr));
    canvas.width = W; canvas.height = H;
    var g = canvas.getContext("2d"), img = g.createImageData(W, H), px = new Uint32Array(img.data.buffer);
    var n = T.n, scale = (W / T.span), rowH = Math.max(1, Math.min(4, (h - 4) / n)), yScale = (h - 4 - rowH) / Math.max(1, n - 1);
    var rows = Math.max(1, Math.round(rowH * dpr)), colours = new Uint32Array(DATA.services.length);
    for (var s = 0; s < colours.length; s++) colours[s] = rgba32(g, svcColor(s));
    var errColour = rgba32(g, getComputedStyle(document.documentElement).getPropertyValue("--error").trim());
    for (var pass = 0; pass < 2; pass++) {
      for (var j = 0; j < n; j++) {
        var err = T.fl[j] & F.ERROR;
        if (pass === 0 ? err : !err) continue;
        var x0 = Math.floor(T.t[j] * scale), x1 = Math.max(x0 + 1, Math.round((T.t[j] + T.d[j]) * scale));
        if (x0 < 0) x0 = 0;
        if (x1 > W) x1 = W;
        if (x0 >= x1) continue;
        var y0 = Math.min(H - 1, Math.floor((2 + j * yScale) * dpr)), y1 = Math.min(H, y0 + rows);
        var colour = err ? errColour : colours[T.svc[j]];
        for (var y = y0; y < y1; y++) px.fill(colour, y * W + x0, y * W + x1);
      }
    }
    g.putImageData(img, 0, 0);
    drawWindow();
  }

  // After the next frame is painted: until then the canvas shows its old picture stretched to
  // the new box, right in time if softer, and the change being made (the details panel
  // opening, a drag of the splitter) is on screen a frame earlier. Calls in between coalesce.
  var miniPending = 0;
  function drawMinimapSoon() {
    if (miniPending) return;
    miniPending = requestAnimationFrame(function () {
      setTimeout(function () { miniPending = 0; if (T) drawMinimap(); });
    });
  }

  function drawWindow() {
    var win = $("minimap-window"), w = V.MW;
    var full = V.v0 <= 0 && V.v1 >= T.span;
    win.hidden = full;
    win.style.left = (V.v0 / T.span) * w + "px";
    win.style.width = Math.max(3, ((V.v1 - V.v0) / T.span) * w) + "px";
  }

  // ---- zoom and pan ----------------------------------------------------------------------------
  function setView(v0, v1) {
    var minRange = Math.max(1, T.span / 1e6);
    if (v1 - v0 < minRange) { var mid = (v0 + v1) / 2; v0 = mid - minRange / 2; v1 = mid + minRange / 2; }
    var range = Math.min(v1 - v0, T.span);
    if (v0 < 0) v0 = 0;
    if (v0 + range > T.span) v0 = T.span - range;
    V.v0 = v0; V.v1 = v0 + range;
    redraw();
  }
  function zoomAt(factor, center) {
    var c = center === undefined ? (V.v0 + V.v1) / 2 : center;
    setView(c - (c - V.v0) * factor, c + (V.v1 - c) * factor);
  }
  function resetZoom() { setView(0, T.span); }

  function brush(el, brushEl, toTime, done) {
    el.addEventListener("mousedown", function (ev) {
      if (ev.button !== 0 || ev.target.id === "minimap-window") return;
      var rect = el.getBoundingClientRect(), start = ev.clientX - rect.left, moved = false;
      function move(e) {
        var cur = Math.max(0, Math.min(rect.width, e.clientX - rect.left));
        if (Math.abs(cur - start) > 3) moved = true;
        brushEl.hidden = !moved;
        brushEl.style.left = Math.min(start, cur) + "px";
        brushEl.style.width = Math.abs(cur - start) + "px";
      }
      function up(e) {
        window.removeEventListener("mousemove", move); window.removeEventListener("mouseup", up);
        brushEl.hidden = true;
        var cur = Math.max(0, Math.min(rect.width, e.clientX - rect.left));
        done(moved, toTime(Math.min(start, cur), rect.width), toTime(Math.max(start, cur), rect.width));
      }
      window.addEventListener("mousemove", move); window.addEventListener("mouseup", up);
      ev.preventDefault();
    });
  }

  // ---- selection, tooltip, details -----------------------------------------------------------
  function select(i, scroll) {
    V.selected = i;
    V.version++;
    if (scroll && i >= 0) {
      var pos = indexOfVisible(i), rows = $("rows");
      if (pos >= 0) {
        var top = pos * ROW_H;
        if (top < rows.scrollTop) rows.scrollTop = top;
        else if (top + ROW_H > rows.scrollTop + rows.clientHeight) rows.scrollTop = top + ROW_H - rows.clientHeight;
      }
    }
    drawRows();
    if (!$("details").hidden && i >= 0) showDetails(i);
  }
  function indexOfVisible(i) {
    var vis = V.visible, lo = 0, hi = V.count - 1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (vis[mid] === i) return mid; if (vis[mid] < i) lo = mid + 1; else hi = mid - 1; }
    return -1;
  }

  function problemsText(fl) {
    var out = [];
    if (fl & F.ORPHAN) out.push("orphan");
    if (fl & F.SKEW) out.push("clock skew adjusted");
    if (fl & F.UNCLOSED) out.push("never ended");
    if (fl & F.NEGATIVE) out.push("ends before it starts");
    if (fl & F.DUP) out.push("duplicate span id");
    return out;
  }

  function showTooltip(i, ev) {
    var tip = $("tooltip"), fl = T.fl[i];
    var rows = [
      ["Service", esc(svcName(T.svc[i]))],
      ["Duration", fl & F.UNCLOSED ? "never ended" : fmtDur(T.d[i])],
      ["Starts at", fmtDur(T.t[i])],
      ["Self time", fmtDur(T.c.self[i])],
    ];
    if (T.cpTotal[i] > 0) rows.push(["Critical path", fmtDur(T.cpTotal[i]) + " (" + ((T.cpTotal[i] / T.span) * 100).toFixed(1) + "% of trace)"]);
    if (fl & F.ERROR) rows.push(["Status", '<span class="status-error">error</span>']);
    var probs = problemsText(fl);
    if (probs.length) rows.push(["Data", '<span style="color:var(--warn)">' + esc(probs.join(", ")) + "</span>"]);
    tip.innerHTML = '<div class="tt-title">' + esc(DATA.names[T.name[i]]) + "</div><table>" +
      rows.map(function (r) { return "<tr><td>" + r[0] + "</td><td>" + r[1] + "</td></tr>"; }).join("") + "</table>";
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight, px = ev.clientX + 14, py = ev.clientY + 16;
    if (px + w > window.innerWidth - 8) px = ev.clientX - w - 14;
    if (py + h > window.innerHeight - 8) py = ev.clientY - h - 12;
    tip.style.left = Math.max(4, px) + "px"; tip.style.top = Math.max(4, py) + "px";
  }
  function hideTooltip() { $("tooltip").hidden = true; }

  // A dotted attribute key may wrap after any of its separators, so a narrow column shows
  // "network.local." + "address" instead of cutting a word ("addres" + "s").
  function breakable(key) { return esc(key).replace(/([._\/-])/g, "$1<wbr>"); }

  function kvTable(obj, keepOrder) {
    var keys = Object.keys(obj || {});
    if (!keys.length) return '<div class="muted">none</div>';
    if (!keepOrder) keys.sort();
    return '<table class="kv">' + keys.map(function (k) {
      return "<tr><td>" + breakable(k) + "</td><td>" + esc(fmtValue(obj[k])) + "</td></tr>";
    }).join("") + "</table>";
  }

  function showDetails(i) {
    var all = details(), dd = detailOf(T.index, i), fl = T.fl[i], c = T.c;
    var status = STATUS[c.st[i]] || String(c.st[i]);
    $("details-title").innerHTML = '<div class="muted"><span class="dot" style="background:' + svcColor(T.svc[i]) + '"></span> ' +
      esc(svcName(T.svc[i])) + '</div><div class="op-name">' + esc(DATA.names[T.name[i]]) + "</div>";
    var facts = {
      "span id": c.sid[i],
      "parent": c.par[i] >= 0 ? c.sid[c.par[i]] : dd.p ? dd.p + " (not in the trace)" : "none (root)",
      "kind": KINDS[c.kind[i]] || String(c.kind[i]),
      "starts at": fmtDur(T.t[i]) + " after trace start",
      "duration": fl & F.UNCLOSED ? "never ended" : fmtDur(T.d[i]),
      "self time": fmtDur(c.self[i]),
      "critical path": T.cpTotal[i] > 0 ? fmtDur(T.cpTotal[i]) + " (" + ((T.cpTotal[i] / T.span) * 100).toFixed(1) + "% of trace)" : "not on it",
      "status": status + (dd.m ? ": " + dd.m : ""),
    };
    if (dd.sc) facts.scope = dd.sc;
    if (fl & F.FOLLOWS) facts.relation = "follows from parent (parent does not wait)";
    var h = "";
    if (dd.w && dd.w.length) {
      h += "<h3>Data problems</h3><ul class=\"problem-list\">" + dd.w.map(function (w) { return "<li>" + esc(w) + "</li>"; }).join("") + "</ul>";
    }
    if (c.par[i] >= 0) h += '<button class="btn link-go parent-go" data-goto-trace="' + T.index + '" data-goto-row="' + c.par[i] + '">Go to parent</button>';
    h += "<h3>Span</h3>" + kvTable(facts, true).replace("<td>" + esc(status), '<td class="' + (c.st[i] === 2 || (fl & F.ERROR) ? "status-error" : "") + '">' + esc(status));
    h += "<h3>Attributes</h3>" + kvTable(attrs(dd.a));
    if (dd.e && dd.e.length) {
      h += "<h3>Events (" + dd.e.length + ")</h3>" + dd.e.map(function (e) {
        return '<div class="event"><div><span class="when">+' + fmtDur(e[0] - T.t[i]) + "</span> <b>" + esc(e[1]) + "</b></div>" +
          (e[2] && e[2].length ? kvTable(attrs(e[2])) : "") + "</div>";
      }).join("");
    }
    if (dd.l && dd.l.length) {
      h += "<h3>Links (" + dd.l.length + ")</h3>" + dd.l.map(function (l) {
        var at = findSpan(l[0], l[1]), go = at
          ? ' <button class="btn link-go" data-goto-trace="' + at[0] + '" data-goto-row="' + at[1] + '">' + (at[0] === T.index ? "show" : "open") + "</button>"
          : ' <span class="muted">(not in this file)</span>';
        return '<div class="event mono">trace ' + esc(l[0]) + "<br>span " + esc(l[1]) + go + "</div>" + (l[2] && l[2].length ? kvTable(attrs(l[2])) : "");
      }).join("");
    }
    h += "<h3>Resource</h3>" + kvTable(dd.r !== undefined ? all.resources[dd.r] : null);
    $("details-body").innerHTML = h;
    if ($("details").hidden) { $("details").hidden = false; relayout(); }
  }
  function findSpan(traceId, spanId) {
    for (var ti = 0; ti < DATA.traces.length; ti++) {
      if (DATA.traces[ti].id !== traceId) continue;
      var row = DATA.traces[ti].cols.sid.indexOf(spanId);
      return row >= 0 ? [ti, row] : null;
    }
    return null;
  }
  // Show span `row` of trace `ti`: open that trace if needed, clear a filter that hides it,
  // expand its ancestors, select it and show its details.
  function goToSpan(ti, row) {
    if (ti !== T.index) { history.replaceState(null, "", "#trace=" + DATA.traces[ti].id); openTrace(ti); }
    if (V.keep && !V.keep[row]) {
      $("search").value = ""; $("service-filter").value = ""; $("errors-only").checked = false;
      $("cp-only").checked = false;
      V.query = ""; V.service = -1; V.errorsOnly = false; V.cpOnly = false;
    }
    for (var p = T.c.par[row]; p >= 0; p = T.c.par[p]) V.collapsed[p] = 0;
    computeVisible();
    select(row, true);
    showDetails(row);
  }

  function closeDetails() { if (!$("details").hidden) { $("details").hidden = true; relayout(); } }
  // The detail panel takes room from the time axis: measure again and redraw.
  function relayout() { if (T) { measure(); redraw(); drawMinimapSoon(); } }

  // ---- views: trace list and trace -----------------------------------------------------------
  var sortKey = "dur", sortAsc = false;

  function problemCount(tr) { var s = 0; for (var k in tr.problems) s += tr.problems[k]; return s; }
  function rootLabel(tr) { return svcName(tr.rootSvc) + ": " + DATA.names[tr.rootName]; }

  // The footer lists the keys of the view shown, not the waterfall's everywhere.
  var KEYS = {
    list: "keys: Tab to a trace · ↑↓ move · Enter open · click a header to sort",
    trace: "keys: ↑↓ move · ←→ collapse/expand · Enter details · / search · +/− zoom · 0 reset",
  };
  function showKeys() {
    var el = document.querySelector("#footer .keys");
    if (el) el.textContent = T ? KEYS.trace + (DATA.traces.length > 1 ? " · Backspace all traces" : "") : KEYS.list;
  }

  function showList() {
    T = null; V = null;
    showKeys();
    $("trace-view").hidden = true; $("list-view").hidden = false; $("back").hidden = true;
    $("title").textContent = DATA.title || fmtCount(DATA.traces.length) + " traces";
    var spans = 0, errs = 0;
    DATA.traces.forEach(function (tr) { spans += tr.n; errs += tr.errors ? 1 : 0; });
    $("meta").innerHTML = "<span><b>" + fmtCount(DATA.traces.length) + "</b> traces</span><span><b>" + fmtCount(spans) +
      "</b> spans</span><span><b>" + DATA.services.length + "</b> services</span>" +
      (errs ? '<span class="err"><b>' + fmtCount(errs) + "</b> with errors</span>" : "");
    drawList();
    document.title = $("title").textContent + " · spanscope";
  }

  function drawList() {
    var q = $("list-search").value.trim().toLowerCase();
    var keyFn = {
      root: function (tr) { return rootLabel(tr).toLowerCase(); }, start: function (tr) { return BigInt(tr.start); },
      dur: function (tr) { return tr.dur; }, n: function (tr) { return tr.n; }, svc: function (tr) { return tr.services.length; },
      errors: function (tr) { return tr.errors; }, problems: problemCount,
    }[sortKey];
    var list = DATA.traces.map(function (tr, i) { return i; }).filter(function (i) {
      if (!q) return true;
      var tr = DATA.traces[i];
      if (tr.id.indexOf(q) >= 0 || rootLabel(tr).toLowerCase().indexOf(q) >= 0) return true;
      return tr.services.some(function (s) { return svcName(s).toLowerCase().indexOf(q) >= 0; });
    });
    list.sort(function (a, b) {
      var ka = keyFn(DATA.traces[a]), kb = keyFn(DATA.traces[b]);
      var r = ka < kb ? -1 : ka > kb ? 1 : a - b;
      return sortAsc ? r : -r;
    });
    var maxDur = 1;
    DATA.traces.forEach(function (tr) { if (tr.dur > maxDur) maxDur = tr.dur; });
    var html = list.map(function (i) {
      var tr = DATA.traces[i], probs = problemCount(tr);
      var dots = tr.services.slice(0, 12).map(function (s) { return '<span class="dot" title="' + esc(svcName(s)) + '" style="background:' + svcColor(s) + '"></span>'; }).join("");
      return '<tr tabindex="0" data-trace="' + tr.id + '"><td><span class="dot" style="background:' + svcColor(tr.rootSvc) + '"></span> <b>' +
        esc(svcName(tr.rootSvc)) + "</b> " + esc(DATA.names[tr.rootName]) + ' <span class="muted mono">' + tr.id.slice(0, 8) + "</span></td>" +
        "<td>" + fmtStart(tr.start) + "</td>" +
        '<td class="num"><span class="durbar" style="width:' + Math.max(2, (tr.dur / maxDur) * 80).toFixed(0) + 'px"></span>' + fmtDur(tr.dur) + "</td>" +
        '<td class="num">' + fmtCount(tr.n) + "</td>" +
        '<td class="num">' + tr.services.length + '<span class="svc-dots">' + dots + "</span></td>" +
        // a zero error count reads "0", faint, as on the served Search page (a blank looked unknown)
        '<td class="num ' + (tr.errors ? "err-cell" : "zero") + '">' + fmtCount(tr.errors) + "</td>" +
        '<td class="num' + (probs ? " warn-cell" : "") + '" title="' + esc(Object.keys(tr.problems).join(", ")) + '">' + (probs || "") + "</td></tr>";
    }).join("");
    if (!list.length) {  // headers alone look broken: say what left nothing
      html = '<tr class="none"><td colspan="7">No trace matches \u201c' + esc($("list-search").value.trim()) +
        "\u201d in its id, root operation or services.</td></tr>";
    }
    $("trace-table").tBodies[0].innerHTML = html;
    document.querySelectorAll("#trace-table th").forEach(function (th) {
      th.className = (th.classList.contains("num") ? "num " : "") + (th.dataset.key === sortKey ? "sorted" + (sortAsc ? " asc" : "") : "");
    });
    $("list-count").textContent = list.length === DATA.traces.length ? "" : fmtCount(list.length) + " of " + fmtCount(DATA.traces.length) + " traces";
  }

  // In short: the operations this request waited on most (its critical path summed by service
  // and operation, as the report's profile counts it), how that differs from the typical
  // request of its endpoint when the page holds one, and the span its failure started from.
  // Each name is a button that shows its span (the longest on the path, for an operation
  // called several times).
  var WHY_TOP = 3, WHY_NAME = 120;  // names cut as the report's headline cuts them
  function whyLine() {
    var groups = new Map(), total = 0, i;
    for (i = 0; i < T.n; i++) {
      var t = T.cpTotal[i];
      if (!(t > 0)) continue;
      total += t;
      var key = T.svc[i] + "\u0001" + T.name[i], g = groups.get(key);
      if (!g) groups.set(key, (g = { ns: 0, spans: 0, row: i }));
      g.ns += t; g.spans++;
      if (t > T.cpTotal[g.row]) g.row = i;
    }
    function go(row, text) {
      return '<button class="go" data-goto-row="' + row + '" title="Show this span">' + esc(text) + "</button>";
    }
    function cut(text) { return text.length > WHY_NAME ? text.slice(0, WHY_NAME - 1) + "…" : text; }
    function label(row) { return cut(svcName(T.svc[row])) + " " + cut(DATA.names[T.name[row]]); }
    var top = Array.from(groups.values()).sort(function (a, b) { return b.ns - a.ns || a.row - b.row; }).slice(0, WHY_TOP);
    var parts = [];
    if (total > 0) {
      parts.push("<span>waited on</span>" + top.map(function (g) {
        return "<span>" + go(g.row, label(g.row) + (g.spans > 1 ? " ×" + g.spans : "")) + " <b>" +
          ((g.ns / total) * 100).toFixed(1) + "%</b> (" + fmtDur(g.ns) + ")</span>";
      }).join('<span class="sep">·</span>'));
    }
    var typ = T.tr.typ;
    if (typ) {  // [typical trace, requests, its duration, [service, name, ns, typical ns]...]
      var changes = typ[3].map(function (c) {
        var d = c[2] - c[3];
        return '<span class="' + (d > 0 ? "more" : "less") + '"><b>' + (d > 0 ? "+" : "−") + fmtDur(Math.abs(d)) + "</b> " + esc(cut(svcName(c[0])) + " " + cut(DATA.names[c[1]])) + "</span>";
      });
      // The typical request is in the page, or (spanscope serve) one click away on its own page.
      var shown = DATA.traces.findIndex(function (t) { return t.id === typ[0]; });
      var open = shown >= 0
        ? '<button class="go" data-open-trace="' + shown + '" title="Open the typical request">typical request</button>'
        : '<a class="go" href="/trace/' + esc(typ[0]) + '" title="Open the typical request">typical request</a>';
      parts.push("<span>vs the " + open + " of this endpoint (median of " +
        fmtCount(typ[1]) + ", " + fmtDur(typ[2]) + ")" + (changes.length ? ":" : ": the same critical path") + "</span>" + changes.join('<span class="sep">·</span>'));
    }
    var o = T.tr.origin;
    if (o) {
      var what = [o[1], o[2]].filter(Boolean).join(": ");
      parts.push('<span class="err">' + (o[3] ? "failed at " : "error at ") + go(o[0], label(o[0])) + "</span>" +
        (what ? "<span>" + esc(what.length > 160 ? what.slice(0, 159) + "…" : what) + "</span>" : ""));
    }
    return parts.map(function (part) { return '<div class="why-row">' + part + "</div>"; }).join("");
  }

  function openTrace(ti) {
    hideTooltip(); closeDetails();
    $("list-view").hidden = true; $("trace-view").hidden = false;
    $("back").hidden = DATA.traces.length < 2;
    var pool = document.querySelectorAll("#rows-inner .row");
    pool.forEach(function (el) { el.remove(); });
    T = prepare(ti); V = newView();
    showKeys();
    var tr = T.tr, probs = problemCount(tr);
    $("title").textContent = rootLabel(tr);
    document.title = rootLabel(tr) + " · spanscope";
    var meta = [
      '<span class="mono">' + tr.id + "</span>",
      "<span>" + fmtStart(tr.start) + "</span>",
      "<span>duration <b>" + fmtDur(tr.dur) + "</b></span>",
      "<span><b>" + fmtCount(tr.n) + "</b> spans</span>",
      "<span><b>" + tr.services.length + "</b> services</span>",
      "<span>depth <b>" + (T.maxDepth + 1) + "</b></span>",
    ];
    if (tr.errors) meta.push('<span class="err"><b>' + tr.errors + "</b> error span" + (tr.errors > 1 ? "s" : "") + "</span>");
    if (probs) meta.push('<span class="warn" title="' + esc(Object.keys(tr.problems).map(function (k) { return k + ": " + tr.problems[k]; }).join(", ")) + '"><b>' + probs + "</b> data problem" + (probs > 1 ? "s" : "") + "</span>");
    $("meta").innerHTML = meta.join("");
    $("why").innerHTML = whyLine();
    // legend and service filter: services of this trace, busiest first
    var counts = new Map();
    for (var i = 0; i < T.n; i++) counts.set(T.svc[i], (counts.get(T.svc[i]) || 0) + 1);
    var order = Array.from(counts.keys()).sort(function (a, b) { return counts.get(b) - counts.get(a) || (svcName(a) < svcName(b) ? -1 : 1); });
    $("legend").innerHTML = order.map(function (s) {
      return '<span class="chip" data-svc="' + s + '" title="Show only ' + esc(svcName(s)) + '"><span class="dot" style="background:' + svcColor(s) + '"></span>' +
        esc(svcName(s)) + ' <span class="count">' + fmtCount(counts.get(s)) + "</span></span>";
    }).join("");
    $("service-filter").innerHTML = '<option value="">All services</option>' + order.map(function (s) {
      return '<option value="' + s + '">' + esc(svcName(s)) + "</option>";
    }).join("");
    $("search").value = ""; $("errors-only").checked = false; $("cp-only").checked = false;
    $("rows").scrollTop = 0;
    measure();
    computeVisible();
    drawRuler(); drawRows(); drawMinimap();
    warmSearch();
  }

  function route() {
    var m = /^#trace=([0-9a-f]+)/.exec(location.hash);
    if (DATA.traces.length === 1) return openTrace(0);
    if (m) {
      for (var i = 0; i < DATA.traces.length; i++) if (DATA.traces[i].id === m[1]) return openTrace(i);
    }
    showList();
  }

  // ---- events ----------------------------------------------------------------------------------
  function applyFilter() {
    if (!T) return;
    V.query = $("search").value.trim().toLowerCase();
    V.service = $("service-filter").value === "" ? -1 : +$("service-filter").value;
    V.errorsOnly = $("errors-only").checked;
    V.cpOnly = $("cp-only").checked;
    document.querySelectorAll(".chip").forEach(function (ch) { ch.classList.toggle("active", +ch.dataset.svc === V.service); });
    computeVisible();
    $("rows").scrollTop = 0;
    drawRows();
  }

  function toggle(i, open) {
    if (!T.kids[i]) return;
    V.collapsed[i] = open === undefined ? (V.collapsed[i] ? 0 : 1) : open ? 0 : 1;
    computeVisible(); drawRows();
  }

  function rowFromEvent(ev) {
    var el = ev.target.closest && ev.target.closest(".row");
    return el ? +el.dataset.row : -1;
  }

  function bind() {
    var rows = $("rows");
    rows.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", relayout);
    var dragged = false;
    rows.addEventListener("click", function (ev) {
      if (dragged) { dragged = false; return; }
      var tg = ev.target.closest("[data-toggle]");
      if (tg) { ev.stopPropagation(); toggle(+tg.dataset.toggle); return; }
      var i = rowFromEvent(ev);
      if (i >= 0) {
        // Focus first and hide the tooltip last: focusing and drawing read layout, which
        // costs nothing before any write and a layout more after one.
        rows.focus({ preventScroll: true });
        if ($("details").hidden) { V.selected = i; V.version++; showDetails(i); }  // redraws rows
        else select(i, false);  // shows i's details in the open panel
        hideTooltip();
      }
    });
    rows.addEventListener("dblclick", function (ev) {
      var i = rowFromEvent(ev);
      if (i >= 0 && !ev.target.closest("[data-toggle]") && ev.target.closest(".label")) toggle(i);
    });
    rows.addEventListener("mousemove", function (ev) {
      var i = rowFromEvent(ev);
      if (i < 0 || ev.buttons) return hideTooltip();
      showTooltip(i, ev);
    });
    rows.addEventListener("mouseleave", hideTooltip);
    rows.addEventListener("wheel", function (ev) {
      if (!T) return;
      var rect = $("ruler").getBoundingClientRect();
      var inTrack = ev.clientX >= rect.left;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) {
        ev.preventDefault();
        var center = inTrack ? V.v0 + ((ev.clientX - rect.left) / V.W) * (V.v1 - V.v0) : undefined;
        zoomAt(Math.exp(ev.deltaY * 0.0025), center);
      } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        ev.preventDefault();
        var delta = (ev.shiftKey ? ev.deltaY : ev.deltaX) / V.W * (V.v1 - V.v0);
        setView(V.v0 + delta, V.v1 + delta);
      }
    }, { passive: false });
    // drag on the bars pans the time axis
    rows.addEventListener("mousedown", function (ev) {
      if (ev.button !== 0 || !ev.target.closest(".track")) return;
      var sx = ev.clientX, v0 = V.v0, v1 = V.v1, moving = false;
      function move(e) {
        var dx = e.clientX - sx;
        if (!moving && Math.abs(dx) > 4) { moving = true; hideTooltip(); document.body.style.cursor = "grabbing"; }
        if (moving) { var dt = (-dx / V.W) * (v1 - v0); setView(v0 + dt, v1 + dt); }
      }
      function up() {
        window.removeEventListener("mousemove", move); window.removeEventListener("mouseup", up);
        document.body.style.cursor = "";
        if (moving) dragged = true;
      }
      window.addEventListener("mousemove", move); window.addEventListener("mouseup", up);
    });
    brush($("ruler"), $("ruler-brush"), function (px, w) { return V.v0 + (px / w) * (V.v1 - V.v0); }, function (moved, a, b) {
      if (moved) setView(a, b);
    });
    brush($("minimap"), $("minimap-brush"), function (px, w) { return (px / w) * T.span; }, function (moved, a, b) {
      if (moved) setView(a, b);
      else { var half = (V.v1 - V.v0) / 2; setView(a - half, a + half); }
    });
    $("ruler").addEventListener("dblclick", resetZoom);
    $("minimap").addEventListener("dblclick", resetZoom);
    $("minimap-window").addEventListener("mousedown", function (ev) {
      var sx = ev.clientX, v0 = V.v0, v1 = V.v1, w = $("minimap").clientWidth;
      function move(e) { var dt = ((e.clientX - sx) / w) * T.span; setView(v0 + dt, v1 + dt); }
      function up() { window.removeEventListener("mousemove", move); window.removeEventListener("mouseup", up); }
      window.addEventListener("mousemove", move); window.addEventListener("mouseup", up);
      ev.preventDefault(); ev.stopPropagation();
    });
    $("zoom-in").addEventListener("click", function () { zoomAt(0.5); });
    $("zoom-out").addEventListener("click", function () { zoomAt(2); });
    $("zoom-reset").addEventListener("click", resetZoom);
    $("collapse-all").addEventListener("click", function () {
      for (var i = 0; i < T.n; i++) V.collapsed[i] = T.kids[i] ? 1 : 0;
      computeVisible(); rows.scrollTop = 0; drawRows();
    });
    $("expand-all").addEventListener("click", function () { V.collapsed.fill(0); computeVisible(); drawRows(); });
    var searchTimer = 0;
    $("search").addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(applyFilter, 120); });
    $("search").addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { clearTimeout(searchTimer); applyFilter(); if (V.count) { select(V.visible[0], true); } rows.focus(); }
      if (ev.key === "Escape") { $("search").value = ""; applyFilter(); rows.focus(); }
    });
    $("service-filter").addEventListener("change", applyFilter);
    $("no-match").querySelector("button").addEventListener("click", clearFilters);
    $("errors-only").addEventListener("change", applyFilter);
    $("cp-only").addEventListener("change", applyFilter);
    $("legend").addEventListener("click", function (ev) {
      var chip = ev.target.closest(".chip");
      if (!chip) return;
      $("service-filter").value = +chip.dataset.svc === V.service ? "" : chip.dataset.svc;
      applyFilter();
    });
    $("cp-toggle").addEventListener("change", function () { document.body.classList.toggle("no-cp", !$("cp-toggle").checked); });
    $("details-close").addEventListener("click", closeDetails);
    $("why").addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-goto-row]");
      if (btn) goToSpan(T.index, +btn.dataset.gotoRow);
      var other = ev.target.closest("[data-open-trace]");
      if (other) location.hash = "trace=" + DATA.traces[+other.dataset.openTrace].id;
    });
    $("details-body").addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-goto-row]");
      if (btn) goToSpan(+btn.dataset.gotoTrace, +btn.dataset.gotoRow);
    });
    $("back").addEventListener("click", function () { location.hash = ""; });
    $("list-search").addEventListener("input", drawList);
    function sortBy(th) {
      if (sortKey === th.dataset.key) sortAsc = !sortAsc;
      else { sortKey = th.dataset.key; sortAsc = sortKey === "root" || sortKey === "start"; }
      drawList();
      document.querySelector('#trace-table th[data-key="' + th.dataset.key + '"]').focus();
    }
    $("trace-table").tHead.addEventListener("click", function (ev) {
      var th = ev.target.closest("th");
      if (th) sortBy(th);
    });
    $("trace-table").tBodies[0].addEventListener("click", function (ev) {
      var tr = ev.target.closest("tr[data-trace]");
      if (tr) location.hash = "#trace=" + tr.dataset.trace;
    });
    // The list works without a mouse too: Tab reaches the headers and rows, Enter sorts or
    // opens, the arrows move between rows.
    document.querySelectorAll("#trace-table th").forEach(function (th) { th.tabIndex = 0; });
    $("trace-table").addEventListener("keydown", function (ev) {
      var th = ev.target.closest("th"), tr = ev.target.closest("tbody tr[data-trace]");
      if ((ev.key === "Enter" || ev.key === " ") && (th || tr)) {
        ev.preventDefault();
        if (th) sortBy(th); else location.hash = "#trace=" + tr.dataset.trace;
      } else if (tr && (ev.key === "ArrowDown" || ev.key === "ArrowUp")) {
        ev.preventDefault();
        var next = ev.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
        if (next) next.focus();
      }
    });
    $("theme").addEventListener("click", function () {
      var root = document.documentElement, dark = root.dataset.theme
        ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      if (T) drawMinimap();
    });
    $("splitter").addEventListener("mousedown", function (ev) {
      function move(e) {
        var px = Math.max(180, Math.min(window.innerWidth - 240, e.clientX));
        document.documentElement.style.setProperty("--left", px + "px");
        measure(); redraw(); drawMinimapSoon();
      }
      function up() { window.removeEventListener("mousemove", move); window.removeEventListener("mouseup", up); }
      window.addEventListener("mousemove", move); window.addEventListener("mouseup", up);
      ev.preventDefault();
    });
    window.addEventListener("hashchange", route);
    document.addEventListener("keydown", keydown);
  }

  function keydown(ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    if (!T) return;
    var pos = V.selected >= 0 ? indexOfVisible(V.selected) : -1, page = Math.max(1, Math.floor($("rows").clientHeight / ROW_H) - 1);
    var go = function (p) { if (V.count) select(V.visible[Math.max(0, Math.min(V.count - 1, p))], true); };
    switch (ev.key) {
      case "ArrowDown": go(pos + 1); break;
      case "ArrowUp": go(pos < 0 ? 0 : pos - 1); break;
      case "PageDown": go(pos + page); break;
      case "PageUp": go(pos - page); break;
      case "Home": go(0); break;
      case "End": go(V.count - 1); break;
      case "ArrowLeft":
        if (V.selected < 0) return;
        if (T.kids[V.selected] && !V.collapsed[V.selected]) toggle(V.selected, false);
        else if (T.c.par[V.selected] >= 0) select(T.c.par[V.selected], true);
        break;
      case "ArrowRight":
        if (V.selected < 0) return;
        if (T.kids[V.selected] && V.collapsed[V.selected]) toggle(V.selected, true);
        else if (T.kids[V.selected] && pos + 1 < V.count) go(pos + 1);
        break;
      case "Enter": if (V.selected >= 0) showDetails(V.selected); break;
      case "Escape": if (!$("details").hidden) closeDetails(); else select(-1, false); break;
      case "/": $("search").focus(); break;
      case "+": case "=": zoomAt(0.5); break;
      case "-": zoomAt(2); break;
      case "0": resetZoom(); break;
      case "Backspace": if (DATA.traces.length > 1) location.hash = ""; break;
      default: return;
    }
    ev.preventDefault();
  }

  // ---- start -----------------------------------------------------------------------------------
  bind();
  route();
  $("footer").innerHTML = "<span>spanscope · times are relative to each trace's start · critical path from spanscope analysis</span>" +
    (DATA.note ? '<span class="note">' + esc(DATA.note) + "</span>" : "") +
    '<span class="grow"></span><span class="keys"></span>';
  showKeys();

  // A small, stable surface for tests and the benchmark.
  window.spanscope = {
    data: DATA,
    openTrace: function (id) { location.hash = "#trace=" + id; route(); },
    state: function () {
      return T ? { trace: T.tr.id, n: T.n, visible: V.count, v0: V.v0, v1: V.v1, selected: V.selected, matches: V.matches, width: V.W, searchReady: !!T.hay,
        detailBlocks: [PARSED.filter(Boolean).length, DETAILS ? DETAILS.at.length - 1 : -1] } : null;
    },
    select: function (i) { select(i, true); },
    // Draw the rows for the current scroll position now, layout included; returns the ms taken
    // (the benchmark's measure of scrolling cost, free of the frame clock).
    drawNow: function () {
      var t = performance.now();
      drawRows();
      void $("rows-inner").offsetHeight;
      document.body.getBoundingClientRect();
      return performance.now() - t;
    },
  };
  document.body.dataset.ready = "1";
  window.__spanscopeReady = performance.now();
})();
