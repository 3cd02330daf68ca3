// The escalations pages after a refused action: the server answers the form's POST with the
// page the form came from (the queue as filtered, or one escalation) and the refusal on it.
// Put that page's own address back in the location bar, so a reload or a bookmark opens the
// page instead of sending the form again. Holds no words: the server renders them.
(function () {
  "use strict";
  var marker = document.querySelector("[data-page-url]");
  if (marker && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", marker.getAttribute("data-page-url"));
  }
}());
