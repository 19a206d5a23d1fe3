// The waiting room reloads itself every few seconds (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var room = document.getElementById("salle-attente");
  if (!room) return;
  var seconds = parseInt(room.getAttribute("data-refresh-seconds"), 10) || 10;
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
