// Keeps the board live: fetches the columns fragment every few seconds and swaps it in when it
// changed, keeping keyboard focus on the same order. Holds no words: the server renders them.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var src = board.getAttribute("data-src");
  var every = (parseInt(board.getAttribute("data-poll"), 10) || 3) * 1000;
  var last = board.innerHTML;

  function focusedOrder() {
    var el = document.activeElement;
    if (!el || !board.contains(el)) { return null; }
    var card = el.closest("[data-order]");
    return card ? { order: card.getAttribute("data-order"), cls: el.className } : null;
  }

  function restore(focus) {
    if (!focus) { return; }
    var cards = board.querySelectorAll("[data-order]");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].getAttribute("data-order") === focus.order) {
        var target = cards[i].querySelector("a." + (focus.cls || "order-link").split(" ")[0]);
        if (target) { target.focus(); }
        return;
      }
    }
  }

  function poll() {
    if (document.hidden) { return schedule(); }
    fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== last) {
          var focus = focusedOrder();
          board.innerHTML = html;
          last = board.innerHTML;
          restore(focus);
          board.setAttribute("data-updated", String(Date.now()));
        }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(schedule);
  }

  function schedule() { window.setTimeout(poll, every); }
  schedule();
}());
