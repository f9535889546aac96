/* spanscope serve pages: the light / dark choice holds from page to page. Runs in the head,
   before the body is drawn, so a page never flashes the other theme; the pages' own switches
   set the root's data-theme, and a click on one is remembered here (localStorage). */
(function () {
  "use strict";
  var KEY = "spanscope.theme", root = document.documentElement;
  try {
    var saved = localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark") root.dataset.theme = saved;
  } catch (e) { /* storage off: the system's preference, as before */ }
  // Bubbling to the document, this runs after the switch's own handler has changed the theme.
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest || !ev.target.closest("#theme") || !root.dataset.theme) return;
    try { localStorage.setItem(KEY, root.dataset.theme); } catch (e) { /* storage off */ }
  });
})();
