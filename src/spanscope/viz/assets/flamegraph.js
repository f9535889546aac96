/* Click-to-zoom and hover details for spanscope flame graphs. Runs when the SVG is opened
 * directly; as an <img> the image is static, which is fine. Frames carry their extent in the
 * graph's own units (data-x0/x1); zooming maps a frame's extent to the full width. Opened
 * directly, the graph also takes the window's width (the file says 1200 px, for <img>). */
(function () {
  "use strict";
  var svg = document.documentElement;
  var total = +svg.getAttribute("data-total"), inner = +svg.getAttribute("data-width"), pad = +svg.getAttribute("data-pad");
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  var details = document.getElementById("details"), reset = document.getElementById("reset");
  var initial = details.textContent, initialY = +details.getAttribute("y");
  var bg = document.querySelector("rect.bg"), shown = [0, total];
  var labelPad = +svg.getAttribute("data-label-pad"); // px between a label and its box's sides

  // Labels are fitted with the widths of the font the browser draws them in (the file's cut
  // used an upper bound of the usual fonts). ``measurer(el)``: a width function for the font
  // of ``el``, a canvas measuring whole strings, kerning included, that remembers each one,
  // as names repeat and zooming fits them all.
  function measurer(el) {
    var context = null, widths = new Map();
    return function (text) {
      var w = widths.get(text);
      if (w === undefined) {
        if (!context) {
          var style = getComputedStyle(el);
          context = document.createElementNS("http://www.w3.org/1999/xhtml", "canvas").getContext("2d");
          context.font = style.fontStyle + " " + style.fontWeight + " " + style.fontSize + " " + style.fontFamily;
        }
        w = context.measureText(text).width;
        if (widths.size < 100000) widths.set(text, w);
      }
      return w;
    };
  }
  var measure = measurer(frames.length ? frames[0].querySelector("text") : details);
  // The longest prefix of ``name`` (whole code points) with an ellipsis within ``room`` px, as
  // ``widthOf`` measures; "" if not even one character and the ellipsis fit.
  function cut(name, room, widthOf) {
    var chars = Array.from(name), lo = 0, hi = chars.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (widthOf(chars.slice(0, mid).join("") + "\u2026") <= room) lo = mid; else hi = mid - 1;
    }
    return lo ? chars.slice(0, lo).join("").replace(/\s+$/, "") + "\u2026" : "";
  }
  // A box's label: its name, or cut to the box's ``width`` less the padding. The name and its
  // width are kept on the box: zooming fits every box again.
  function fit(g, width) {
    var room = width - 2 * labelPad;
    if (room <= 0) return "";
    var name = g._name;
    if (name === undefined) { name = g._name = g.getAttribute("data-name"); g._full = measure(name); }
    return g._full <= room ? name : cut(name, room, measure);
  }
  // The title keeps clear of the reset button, whatever the window's width.
  var title = document.querySelector("text.title"), titleName = title.getAttribute("data-name");
  var titleWidth = measurer(title), titleGap = +title.getAttribute("data-gap");
  var titleText = title.firstChild; // the text before the tooltip a cut title has
  if (!titleText || titleText.nodeType !== Node.TEXT_NODE) titleText = title.insertBefore(document.createTextNode(""), titleText);
  function fitTitle(width) {
    var room = width - 2 * pad - reset.getComputedTextLength() - titleGap;
    titleText.nodeValue = titleWidth(titleName) <= room ? titleName : cut(titleName, room, titleWidth);
  }

  function zoom(z0, z1) {
    shown = [z0, z1];
    var scale = inner / Math.max(1, z1 - z0);
    frames.forEach(function (g) {
      var x0 = +g.getAttribute("data-x0"), x1 = +g.getAttribute("data-x1");
      var rect = g.querySelector("rect"), text = g.querySelector("text");
      if (x1 <= z0 || x0 >= z1) { g.style.display = "none"; return; }
      g.style.display = "";
      var a = Math.max(x0, z0), b = Math.min(x1, z1), px = pad + (a - z0) * scale, w = (b - a) * scale;
      rect.setAttribute("x", px.toFixed(2));
      rect.setAttribute("width", Math.max(w, 0.05).toFixed(2));
      text.setAttribute("x", (px + labelPad).toFixed(2));
      var label = fit(g, w);
      if (g._shown === undefined) g._shown = text.textContent;
      if (g._shown !== label) { text.textContent = label; g._shown = label; } // a write costs
      g.querySelectorAll("rect.cp").forEach(function (cp) {
        var c0 = Math.max(+cp.getAttribute("data-x0"), z0), c1 = Math.min(+cp.getAttribute("data-x1"), z1);
        cp.style.display = c1 > c0 ? "" : "none";
        cp.setAttribute("x", (pad + (c0 - z0) * scale).toFixed(2));
        cp.setAttribute("width", Math.max((c1 - c0) * scale, 0.5).toFixed(2));
      });
    });
    reset.setAttribute("visibility", z0 <= 0 && z1 >= total ? "hidden" : "visible");
  }

  function showDetails(g) {
    details.textContent = g.querySelector("title").textContent.replace(/\n/g, " \u00b7 ");
    // scrolled down a tall graph: show the details at the top of the window
    details.setAttribute("y", Math.max(initialY, (window.scrollY || 0) + 16));
  }
  function hideDetails() { details.textContent = initial; details.setAttribute("y", initialY); }
  function zoomTo(g) { zoom(+g.getAttribute("data-x0"), +g.getAttribute("data-x1")); }
  frames.forEach(function (g) {
    g.tabIndex = 0; // the keyboard too: Tab reads a box, Enter zooms to it, Escape resets
    g.addEventListener("click", function () { zoomTo(g); });
    g.addEventListener("mouseover", function () { showDetails(g); });
    g.addEventListener("mouseout", hideDetails);
    g.addEventListener("focus", function () { showDetails(g); });
    g.addEventListener("blur", hideDetails);
    g.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); zoomTo(g); }
    });
  });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") zoom(0, total); });
  reset.addEventListener("click", function () { zoom(0, total); });

  // The window's width (without its scrollbar), but never narrower than the legend.
  function fitWindow() {
    var legendRight = 0, height = +svg.getAttribute("height");
    document.querySelectorAll("text.legend").forEach(function (t) { var b = t.getBBox(); legendRight = Math.max(legendRight, b.x + b.width); });
    var room = window.visualViewport ? window.visualViewport.width : window.innerWidth;
    var width = Math.max(Math.ceil(legendRight + pad), Math.floor(room), 320);
    if (width === +svg.getAttribute("width")) return;
    inner = width - 2 * pad;
    svg.setAttribute("width", width);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("data-width", inner);
    bg.setAttribute("width", width);
    reset.setAttribute("x", width - pad);
    fitTitle(width);
    zoom(shown[0], shown[1]);
  }
  fitWindow();
  window.addEventListener("resize", fitWindow);
  svg.setAttribute("data-ready", "1");
})();
