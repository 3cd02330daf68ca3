// An import's page while it runs (issue 19 §4): polls the import's small JSON answer
// (data-src, every data-poll seconds), moves the progress bar and its words, and reloads the
// page once the import has finished, so the result and the report link come from the server.
// Holds no words: the server sends them.
(function () {
  "use strict";
  var region = document.getElementById("import-live");
  if (!region || region.getAttribute("data-finished")) { return; }
  var bar = region.querySelector("progress");
  var words = region.querySelector("[data-words]");
  var every = (parseInt(region.getAttribute("data-poll"), 10) || 2) * 1000;

  function poll() {
    fetch(region.getAttribute("data-src"), { credentials: "same-origin",
                                             headers: { "Accept": "application/json" } })
      .then(function (resp) {
        if (resp.redirected || !resp.ok) { window.location.reload(); return null; }
        return resp.json();
      })
      .then(function (data) {
        if (!data) { return; }
        bar.max = Math.max(data.total, 1);
        bar.value = data.processed;
        bar.textContent = data.processed + " / " + data.total;
        if (words.textContent !== data.words) { words.textContent = data.words; }
        if (data.finished) { window.location.replace(window.location.pathname); return; }
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, every * 2); });
  }
  window.setTimeout(poll, every);
}());
