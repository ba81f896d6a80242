// Refresh the incident board's rows every few seconds (data-refresh) without reloading the page.
(function () {
  var rows = document.getElementById("rows");
  if (!rows) { return; }
  var seconds = Number(rows.dataset.refresh) || 15;
  setInterval(function () {
    fetch(rows.dataset.src, { credentials: "same-origin" }).then(function (resp) {
      if (resp.ok) { return resp.text(); }
      throw new Error(resp.status);
    }).then(function (html) { rows.innerHTML = html; }).catch(function () {});
  }, seconds * 1000);
})();
