/* Helpers shared by the spanscope serve pages (window.SS): the page's configuration from the
 * server (SS.config: the time windows offered, SS.config.lookbacks[key] = {text, us}, the
 * default one, SS.config.defaultLookback, and what the page adds), formatting, the
 * same-origin API with its error shapes (Jaeger's and the native one; SS.ask also gives an
 * analysis answer's counts, read of matched, for the note on a sample); for the Compare and
 * Quality pages also the form <-> address round trip, the service list (SS.page) and their
 * API search (SS.insightQuery); the top bar's theme switch (SS.themeSwitch).
 * Plain JS, no build step. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var config = JSON.parse($("spanscope-config").textContent);
  function trimNum(x, digits) {
    var s = x.toPrecision(digits);
    if (s.indexOf("e") >= 0) s = String(Math.round(x));
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  // Times in UTC, as the command line and the search page show them ("2026-11-27 03:05:00"):
  // an SRE lines a chart up with 'query --since' and log lines, not with the browser's zone.
  function utc(ns, withDate) {
    var text = new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 19);
    return withDate ? text : text.slice(11);
  }
  function fmtNs(ns) { // same units as the other pages
    var a = Math.abs(ns);
    if (a >= 1e9) return trimNum(ns / 1e9, 3) + " s";
    if (a >= 1e6) return trimNum(ns / 1e6, 3) + " ms";
    if (a >= 1e3) return trimNum(ns / 1e3, 3) + " µs";
    return Math.round(ns) + " ns";
  }
  // A change of duration, signed, in the unit that suits its size (like fmtNs): a bar of
  // "−6.02 µs" beside one of "+24.7 ms" reads at a glance; "−0.00602 ms" did not.
  function signedNs(ns) { return (ns > 0 ? "+" : ns < 0 ? "−" : "±") + fmtNs(Math.abs(ns)); }
  function pct(x) { return (x * 100).toFixed(x !== 0 && Math.abs(x) < 0.01 ? 2 : 1) + "%"; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function count(n) { return n.toLocaleString("en-US"); }
  function plural(n, word) { return count(n) + " " + word + (n === 1 ? "" : "s"); }
  // A read cut by its limit is a sample spread over the window (the API chose the matching
  // traces by trace id): say so, with how many matched (traces with a matching span in the
  // window: a Compare side then keeps those that start in it), or "1,500 traces in the last hour"
  // reads as every request of the hour. sample: {read, matched} (the answer's counts); limit:
  // the page's; side: "after" or "before" on a page of two sides, else "". The link reads up
  // to the most an analysis page may (config.mostTraces: the server's bound, analyze --db's
  // --limit), a bigger sample.
  function capNote(sample, limit, side) {
    if (!sample || !sample.matched || sample.matched <= sample.read) return "";
    var most = config.mostTraces || 0;
    var more = "";
    if (limit < most) {  // one click reads the window as the command line would
      var wider = new URL(location.href);
      wider.searchParams.set("limit", String(most));
      more = ' <a class="read-more" href="' + esc(wider.pathname + wider.search) + '">read up to ' + count(most) + "</a>";
    }
    return '<span class="capped" title="More traces match than the limit: those read were chosen by trace id, the same ones every time. A larger limit (up to ' +
      count(most) + ') reads a bigger sample">' + (side ? side + ": " : "") + "a sample of " + count(sample.read) + " of " +
      plural(sample.matched, "trace") + " with a matching span in the window, spread over it" + more + "</span>";
  }
  // What an analysis answer says about its read (insight_api: the Spanscope-Traces-* headers).
  function sampleOf(headers) {
    var read = headers.get("Spanscope-Traces-Read"), matched = headers.get("Spanscope-Traces-Matched");
    return read === null || matched === null ? null : { read: +read, matched: +matched };
  }
  // A same-origin API call: resolves to {body, sample} (sample: sampleOf its headers).
  function ask(path) {
    // A fetch that gets no answer at all says only "Failed to fetch": name what did not answer.
    var asked = fetch(path, { headers: { Accept: "application/json" } }).catch(function () {
      throw new Error("spanscope serve at " + location.host + " did not answer: is it still running? (what is shown is from before)");
    });
    return asked.then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) {
          var msg = body && body.errors && body.errors[0] ? body.errors[0].msg
            : body && body.error ? body.error.message : r.status + " " + r.statusText;
          throw new Error(msg);
        }
        return { body: body, sample: sampleOf(r.headers) };
      });
    });
  }
  function api(path) { return ask(path).then(function (answer) { return answer.body; }); }
  function traceLink(traceId, label) {
    return '<a href="/trace/' + encodeURIComponent(traceId) + '">' + esc(label || traceId) + "</a>";
  }
  // The form's fields by name, as URLSearchParams (empty ones left out).
  function formParams(form) {
    var p = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.value !== "") p.set(el.name, el.value);
    });
    return p;
  }
  function applyParams(form, p) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !p.has(el.name)) return;
      if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === p.get(el.name); })) {
        // a service the store does not hold is kept, marked as the Search page marks it
        var option = document.createElement("option");
        option.value = p.get(el.name);
        option.textContent = p.get(el.name) + (el.name === "service" ? " (not stored)" : "");
        if (el.name === "lookback" && p.get(el.name) === "custom" && p.get("start") && p.get("end")) {
          option.textContent = "The search's: " + utc(+p.get("start") * 1000) + " – " + utc(+p.get("end") * 1000) + " UTC";
        }
        el.appendChild(option);
      }
      el.value = p.get(el.name);
    });
  }
  function loadServices(select) {
    return api("/api/services").then(function (body) {
      var names = body.data || [];
      select.innerHTML = names.length ? '<option value="">Choose a service…</option>' : '<option value="">No services stored yet</option>';
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = option.textContent = name;
        select.appendChild(option);
      });
    });
  }
  // The search a Compare or Quality form asks its API for (p: the form, as in the address); the
  // limit's default is the form's (insight.html).
  function insightQuery(p) {
    return new URLSearchParams({
      service: p.get("service"), lookback: p.get("lookback") || config.defaultLookback, limit: p.get("limit") || "1500"
    });
  }
  // The API search of an Analysis, Compare or Quality page and its window in words ("the last
  // hour"): a search's own range ("lookback=custom&start=&end=", microseconds, as a Monitor
  // bucket opens it) and operation come along, so each of the search's links asks about the
  // same requests (Compare and Quality took the last hour instead).
  function insightSearch(p) {
    var q = insightQuery(p), win = "the last " + ((config.lookbacks[q.get("lookback")] || {}).text || q.get("lookback"));
    if (q.get("lookback") === "custom") {
      if (!p.get("start") || !p.get("end")) {
        q.set("lookback", config.defaultLookback);
        win = "the last " + config.lookbacks[config.defaultLookback].text;
      } else {
        q.set("start", p.get("start")); q.set("end", p.get("end"));
        win = utc(+p.get("start") * 1000, true) + " – " + utc(+p.get("end") * 1000, true) + " UTC";
      }
    }
    if (p.get("operation")) q.set("operation", p.get("operation"));
    return { q: q, win: win };
  }
  // While a page's one request runs (reading a large window takes seconds): what is being done
  // and for how long, above the last results, which are dimmed until the new ones replace them
  // (undimmed, the last hour's figures stood under a form already saying 15 minutes).
  // working(text) starts a run; its done() ends it and says whether it is still the latest:
  // an earlier answer that comes late is not drawn.
  var progress = null, clockOfLatest = null, runs = 0;
  function working(text) {
    if (!progress) {
      progress = document.createElement("div");
      progress.id = "progress";
      progress.className = "progress";
      progress.setAttribute("role", "status");
      $("results").insertBefore(progress, $("results").firstChild);
    }
    var mine = ++runs, started = Date.now();
    clearInterval(clockOfLatest);
    function tick() {
      var seconds = Math.floor((Date.now() - started) / 1000);
      progress.innerHTML = '<span class="spinner" aria-hidden="true"></span><span>' + esc(text) + "…" +
        (seconds ? ' <b class="elapsed">' + seconds + " s</b>" : "") + "</span>";
    }
    tick();
    progress.hidden = false;
    $("found").classList.add("stale");
    $("found").setAttribute("aria-busy", "true");
    var clock = clockOfLatest = setInterval(tick, 1000);
    return {
      done: function () {
        clearInterval(clock);
        if (mine !== runs) return false; // a newer run is under way: its line stays
        progress.hidden = true;
        $("found").classList.remove("stale");
        $("found").removeAttribute("aria-busy");
        return true;
      }
    };
  }
  // A page: the form in the address, run(params) when submitted or opened with a service.
  function page(run) {
    var form = $("form"), error = $("form-error"), busy = 0;
    function showError(message) { error.textContent = message; error.hidden = !message; }
    function go(p, push) {
      if (!p.get("service")) { showError("Choose a service."); return; }
      showError("");
      if (push) history.pushState(null, "", "?" + p.toString());
      var ticket = ++busy;
      document.body.dataset.ready = "0";
      run(p).then(function () {
        if (ticket !== busy) return;
        $("empty").hidden = true;
        $("found").hidden = false;
      }, function (e) {
        if (ticket === busy) showError(e.message);
      }).then(function () {
        if (ticket !== busy) return;
        document.body.dataset.ready = "1";
      });
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); go(formParams(form), true); });
    window.addEventListener("popstate", function () {
      var p = new URLSearchParams(location.search);
      applyParams(form, p);
      if (p.get("service")) go(p, false);
    });
    themeSwitch();
    loadServices($("service")).then(function () {
      var p = new URLSearchParams(location.search);
      applyParams(form, p);
      if (p.get("service")) go(p, false);
      else document.body.dataset.ready = "1";
    }, function (e) { showError("Could not list the services: " + e.message); document.body.dataset.ready = "1"; });
  }
  // The top bar's light / dark switch (pages.THEME_SWITCH): the other theme than the one shown.
  function themeSwitch() {
    $("theme").addEventListener("click", function () {
      var root = document.documentElement, dark = root.dataset.theme
        ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
    });
  }
  window.SS = { config: config, themeSwitch: themeSwitch, insightQuery: insightQuery, insightSearch: insightSearch, working: working, capNote: capNote, ask: ask, $: $, trimNum: trimNum, utc: utc, fmtNs: fmtNs, signedNs: signedNs, pct: pct, esc: esc, count: count, plural: plural, api: api, traceLink: traceLink, page: page };
})();
