// Keeps a region live ([data-live]: the board, the escalations queue): fetches its fragment
// (data-src) every few seconds (data-poll) and swaps it in when it changed. While the viewer is
// working inside the region (focus in a field, a <details> opened, a field changed), it waits, so
// nothing they type or chose is lost, and shows the page's [data-live-paused] note. Keyboard focus
// stays on the same item (the attribute named by data-live, e.g. data-order) and control.
// Holds no words: the server renders them.
(function () {
  "use strict";
  var CONTROLS = "a[href], button, summary, input, select, textarea";

  function changed(field) {
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
      return false;
    }
    if (field.tagName === "SELECT") {
      // With no option marked selected, a single select starts on its first one.
      var first = 0;
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].defaultSelected) { first = i; break; }
      }
      return field.selectedIndex !== first;
    }
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    return field.value !== field.defaultValue;
  }

  function busy(region) {
    var el = document.activeElement;
    if (el && region.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) { return true; }
    if (region.querySelector("details[open]")) { return true; }
    var fields = region.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      if (changed(fields[i])) { return true; }
    }
    return false;
  }

  function live(region) {
    var src = region.getAttribute("data-src");
    var itemAttr = region.getAttribute("data-live");
    var every = (parseInt(region.getAttribute("data-poll"), 10) || 3) * 1000;
    var note = document.querySelector("[data-live-paused]");
    var last = null;  // the last fragment as the server sent it: the DOM's own serialisation differs

    function focused() {
      var el = document.activeElement;
      if (!el || !region.contains(el)) { return null; }
      var item = el.closest("[" + itemAttr + "]");
      if (!item) { return null; }
      var controls = Array.prototype.slice.call(item.querySelectorAll(CONTROLS));
      return { key: item.getAttribute(itemAttr), index: controls.indexOf(el) };
    }

    function restore(focus) {
      if (!focus) { return; }
      var items = region.querySelectorAll("[" + itemAttr + "]");
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute(itemAttr) === focus.key) {
          var target = items[i].querySelectorAll(CONTROLS)[Math.max(focus.index, 0)];
          if (target) { target.focus(); }
          return;
        }
      }
    }

    function poll() {
      if (document.hidden) { return schedule(); }
      var waiting = busy(region);
      if (note) { note.hidden = !waiting; }
      if (waiting) { return schedule(); }
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          // The viewer may have started typing while the fetch was out: theirs wins.
          if (html === null || html === last || busy(region)) { return; }
          var focus = focused();
          region.innerHTML = html;
          last = html;
          restore(focus);
          region.setAttribute("data-updated", String(Date.now()));
        })
        .catch(function () { /* the next poll tries again */ })
        .then(schedule);
    }

    function schedule() { window.setTimeout(poll, every); }
    schedule();
  }

  var regions = document.querySelectorAll("[data-live]");
  for (var i = 0; i < regions.length; i++) { live(regions[i]); }
}());
