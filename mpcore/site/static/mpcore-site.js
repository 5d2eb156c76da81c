/* The course site (python -m mpcore site): a display formula wider than the page scrolls
   sideways; while it does, it takes a tab stop so a keyboard user can scroll it too (as the
   theme does for code blocks and outputs; WCAG 2.1.1). */
(function () {
  function update() {
    document.querySelectorAll("div.math").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth) {
        el.tabIndex = 0;
        el.setAttribute("role", "group");
        el.setAttribute("aria-label", "formula, scrolls sideways");
      } else {
        el.removeAttribute("tabindex");
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
      }
    });
  }
  var timer = null;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update); else update();
})();
