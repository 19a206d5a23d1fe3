// The waiting room reloads itself every few seconds (no inline script: the CSP forbids it).
// A phone that switched apps, or a tab in the background, runs timers late or not at all:
// its called ticket keeps its place only for a short grace, so the page reloads as soon
// as it is seen again once its reload is due (and when restored from the back-forward
// cache).
(function () {
  "use strict";
  var room = document.getElementById("salle-attente");
  if (!room) return;
  var seconds = parseInt(room.getAttribute("data-refresh-seconds"), 10) || 10;
  var due = Date.now() + seconds * 1000;
  var reloading = false;
  function reload() {
    if (reloading) return;
    reloading = true;
    window.location.reload();
  }
  window.setTimeout(reload, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && Date.now() >= due) reload();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) reload();
  });
})();
