// Typeset every arithmatex element with the vendored KaTeX, on first load and after each
// Material instant navigation (document$ emits once per page). Parse errors are logged to the
// console (the browser test fails on them) and leave the TeX visible.
(function () {
  function typeset(root) {
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      if (el.dataset.katexDone) return;
      var tex = el.textContent.trim();
      var display = el.tagName === "DIV";
      if (display) {
        tex = tex.replace(/^\\\[/, "").replace(/\\\]$/, "");
      } else {
        tex = tex.replace(/^\\\(/, "").replace(/\\\)$/, "");
      }
      try {
        katex.render(tex, el, { displayMode: display, throwOnError: true, strict: "ignore" });
        el.dataset.katexDone = "1";
      } catch (err) {
        console.error("KaTeX could not render: " + tex + " (" + err.message + ")");
      }
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function (doc) { typeset(doc.body || document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();
