/* Hover highlighting and a sortable table for the spanscope service map page. */
(function () {
  "use strict";
  var svg = document.querySelector("#map svg"), tip = document.getElementById("tip");
  var edges = Array.prototype.slice.call(svg.querySelectorAll("g.edge"));
  var nodes = Array.prototype.slice.call(svg.querySelectorAll("g.node"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("#edges tbody tr[data-from]"));
  // Edge labels sit in a layer above every line; each stands for its edge.
  var labels = Array.prototype.slice.call(svg.querySelectorAll(".elabel"));
  // Native <title> tooltips would double ours: keep their text, then remove them.
  svg.querySelectorAll("title").forEach(function (t) { t.parentNode.setAttribute("data-tip", t.textContent); t.remove(); });

  function focus(match) {
    svg.classList.toggle("focus", !!match);
    var on = {};
    edges.forEach(function (e) {
      var hit = !!match && match(e.getAttribute("data-from"), e.getAttribute("data-to"));
      e.classList.toggle("on", hit);
      if (hit) { on[e.getAttribute("data-from")] = 1; on[e.getAttribute("data-to")] = 1; }
    });
    nodes.forEach(function (n) { n.classList.toggle("on", !!on[n.getAttribute("data-name")]); });
    labels.forEach(function (l) { l.classList.toggle("on", !!match && match(l.getAttribute("data-from"), l.getAttribute("data-to"))); });
    rows.forEach(function (r) { r.classList.toggle("on", !!match && match(r.getAttribute("data-from"), r.getAttribute("data-to"))); });
  }
  function showTip(el, ev) {
    tip.textContent = el.getAttribute("data-tip");
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > innerWidth - 8) x = ev.clientX - tip.offsetWidth - 10;
    if (y + tip.offsetHeight > innerHeight - 8) y = ev.clientY - tip.offsetHeight - 10;
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
  nodes.forEach(function (n) {
    var name = n.getAttribute("data-name");
    n.addEventListener("mouseenter", function () { focus(function (a, b) { return a === name || b === name; }); n.classList.add("on"); });
    n.addEventListener("mousemove", function (ev) { showTip(n, ev); });
    n.addEventListener("mouseleave", function () { focus(null); tip.hidden = true; });
  });
  edges.forEach(function (e) {
    var from = e.getAttribute("data-from"), to = e.getAttribute("data-to");
    e.addEventListener("mouseenter", function () { focus(function (a, b) { return a === from && b === to; }); });
    e.addEventListener("mousemove", function (ev) { showTip(e, ev); });
    e.addEventListener("mouseleave", function () { focus(null); tip.hidden = true; });
  });
  labels.forEach(function (l) {
    var from = l.getAttribute("data-from"), to = l.getAttribute("data-to");
    var edge = edges.filter(function (e) { return e.getAttribute("data-from") === from && e.getAttribute("data-to") === to; })[0];
    l.addEventListener("mouseenter", function () { focus(function (a, b) { return a === from && b === to; }); });
    l.addEventListener("mousemove", function (ev) { if (edge) showTip(edge, ev); });
    l.addEventListener("mouseleave", function () { focus(null); tip.hidden = true; });
  });
  rows.forEach(function (r) {
    var from = r.getAttribute("data-from"), to = r.getAttribute("data-to");
    r.addEventListener("mouseenter", function () { focus(function (a, b) { return a === from && b === to; }); });
    r.addEventListener("mouseleave", function () { focus(null); });
  });
  var sortCol = -1, asc = false, body = document.querySelector("#edges tbody");
  document.querySelector("#edges thead").addEventListener("click", function (ev) {
    var th = ev.target.closest("th");
    if (!th) return;
    var k = +th.getAttribute("data-k");
    asc = sortCol === k ? !asc : k < 2;
    sortCol = k;
    rows.sort(function (a, b) {
      var ca = a.children[k], cb = b.children[k];
      var va = ca.hasAttribute("data-v") ? +ca.getAttribute("data-v") : ca.textContent;
      var vb = cb.hasAttribute("data-v") ? +cb.getAttribute("data-v") : cb.textContent;
      var r = va < vb ? -1 : va > vb ? 1 : 0;
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
  // In spanscope serve (the page names its window), the map leads on: a service opens Search
  // for its traces of the window, a call (line, numbers or table row) the traces of its callee
  // (of its caller when the callee reported nothing), only the failed ones when it failed. A
  // file written by 'spanscope servicemap' has no server to ask, so it stays as it is.
  var searchWindow = document.body.getAttribute("data-search-window");
  if (searchWindow) {
    var traced = {};
    nodes.forEach(function (n) { if (!n.classList.contains("peer")) traced[n.getAttribute("data-name")] = 1; });
    var go = function (service, failed) {
      var q = new URLSearchParams({ service: service, lookback: searchWindow });
      if (failed) q.set("tags", "error=true");
      location.href = "/?" + q.toString();
    };
    var callSearch = function (el) {
      var from = el.getAttribute("data-from"), to = el.getAttribute("data-to");
      var edge = edges.filter(function (e) { return e.getAttribute("data-from") === from && e.getAttribute("data-to") === to; })[0];
      go(traced[to] ? to : from, edge && +edge.getAttribute("data-errors") > 0);
    };
    nodes.forEach(function (n) {
      var name = n.getAttribute("data-name");
      if (!traced[name]) return;
      n.classList.add("link");
      n.addEventListener("click", function () { go(name, false); });
    });
    edges.concat(labels, rows).forEach(function (el) {
      el.classList.add("link");
      el.addEventListener("click", function () { callSearch(el); });
    });
    var footer = document.querySelector("footer");
    if (footer) footer.textContent = "Hover a service to see its calls, a call for its numbers; click either to search its traces (a failing call: its failed ones).";
  }
  document.body.setAttribute("data-ready", "1");
})();
