// The order page's live side (issue 18 §5), and where focus goes on the order forms' pages:
// on the element marked [data-focus] (after an action, the "done" message, and the ?done=
// leaves the address so a reload does not say it again; after a refusal, the refusal at its
// form; on the new-order form, the error summary or the past-promise warning). Live: polls the order's change mark (#order-live data-src) every few
// seconds; when it moved, the status line says "changed" with a reload link (the words come
// from the page's <template id="order-changed">). While the order is still being set up, and
// nothing has been typed, the page reloads itself instead. Holds no words: the server renders them.
(function () {
  "use strict";

  var first = document.querySelector("[data-focus]");
  if (first) { first.focus(); }
  if (document.querySelector("[data-testid=done]") && window.history.replaceState) {
    var url = new URL(window.location.href);
    url.searchParams.delete("done");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  var status = document.getElementById("order-live");
  var words = document.getElementById("order-changed");
  if (!status || !words) { return; }
  var src = status.getAttribute("data-src");
  var mark = status.getAttribute("data-mark");
  var every = (parseInt(status.getAttribute("data-poll"), 10) || 5) * 1000;
  var settingUp = status.hasAttribute("data-setting-up");

  function typed() {
    var fields = document.querySelectorAll("main input, main select, main textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden" || f.type === "submit") { continue; }
      if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) { return true; }
        }
      } else if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) { return true; }
      } else if (f.type === "file") {
        if (f.files && f.files.length) { return true; }
      } else if (f.value !== f.defaultValue) { return true; }
    }
    return false;
  }

  function changed() {
    if (settingUp && !typed()) { window.location.reload(); return; }
    status.innerHTML = words.innerHTML;
    status.classList.add("changed");
    status.setAttribute("data-changed", "1");
  }

  function poll() {
    if (document.hidden) { return schedule(); }
    fetch(src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        // Signed out: the guard sent the poll to the sign-in page; reloading goes there too.
        if (response.status === 401 || response.redirected) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && body.mark && body.mark !== mark) { changed(); return; }
        schedule();
      })
      .catch(schedule);
  }

  function schedule() { window.setTimeout(poll, every); }
  schedule();
}());
