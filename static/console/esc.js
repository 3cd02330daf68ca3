// The escalations pages after an action. Holds no words: the server renders them.
(function () {
  "use strict";
  // A refusal: the server answered the form's POST with the page the form came from (the
  // queue as filtered, or one escalation). Put that page's own address back in the location
  // bar, so a reload or a bookmark opens the page instead of sending the form again.
  var marker = document.querySelector("[data-page-url]");
  if (marker && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", marker.getAttribute("data-page-url"));
  }
  // Done: the page opens at the next row (#esc-<id>) or the message (#done), where the server
  // put `autofocus`. A browser skips autofocus on a page opened at a #fragment, and going to
  // the fragment moves focus to the viewport: focus the target once that is over.
  // Only while nobody has moved focus yet: a keyboard user who already tabbed on keeps their
  // place (taking it back would make their next Enter press the wrong row's button).
  function focusTarget() {
    var target = document.querySelector("[autofocus]");
    var active = document.activeElement;
    if (target && (!active || active === document.body)) { target.focus(); }
  }
  if (document.readyState === "complete") {
    window.setTimeout(focusTarget, 0);
  } else {
    window.addEventListener("load", function () { window.setTimeout(focusTarget, 0); });
  }
}());
