// The weekly report's print button (inline handlers are not allowed by the page's CSP).
(function () {
  var button = document.getElementById("print");
  if (button) { button.addEventListener("click", function (e) { e.preventDefault(); window.print(); }); }
})();
