// Refresh the incident board's rows every 15 seconds without reloading the page.
(function () {
  var rows = document.getElementById("rows");
  if (!rows) { return; }
  setInterval(function () {
    fetch(rows.dataset.src, { credentials: "same-origin" }).then(function (resp) {
      if (resp.ok) { return resp.text(); }
      throw new Error(resp.status);
    }).then(function (html) { rows.innerHTML = html; }).catch(function () {});
  }, 15000);
})();
