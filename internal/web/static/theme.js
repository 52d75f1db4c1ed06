// Applies the saved theme before the first paint (loaded synchronously in
// <head>). Without a saved choice the page follows prefers-color-scheme.
(function () {
  try {
    var t = localStorage.getItem("aurora-theme");
    if (t === "light" || t === "dark") document.documentElement.setAttribute("data-theme", t);
  } catch (e) { /* storage may be disabled */ }
})();
