/* spanscope serve pages: "Search" links go back to the last search (kept by the search page
   in sessionStorage), the brand leads home, and an open download menu closes on a click
   elsewhere or Escape. */
(function () {
  "use strict";
  function start() {
    var last = "";
    try { last = sessionStorage.getItem("spanscope.search") || ""; } catch (e) { /* storage off */ }
    if (last.charAt(0) === "?") {
      document.querySelectorAll("[data-search-link]").forEach(function (a) { a.setAttribute("href", "/" + last); });
    }
    var brand = document.querySelector(".brand");
    if (brand) {
      brand.setAttribute("data-home", "");
      brand.title = "spanscope home: search traces";
      brand.addEventListener("click", function () { location.href = "/"; });
    }
    function closeMenus(except) {
      document.querySelectorAll("details.ss-menu[open]").forEach(function (d) { if (d !== except) d.open = false; });
    }
    document.addEventListener("click", function (ev) { closeMenus(ev.target.closest && ev.target.closest("details.ss-menu")); });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") closeMenus(null); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
