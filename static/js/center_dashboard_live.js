/* A contact center's dashboard (templates/agents/centers/dashboard.html): members, queue, ring
   activity and alerts follow the center live (docs/live_pages.md; the swapping is
   live_parts.js). */
(function () {
  "use strict";
  if (window.SwitchboardLiveParts) {
    window.SwitchboardLiveParts.follow(document.getElementById("center-dashboard"));
  }
})();
