/* A campaign's dashboard (templates/campaigns/dashboard.html): the status, the buttons and the
   progress per agent follow the campaign live (docs/live_pages.md; the swapping is
   live_parts.js). */
(function () {
  "use strict";
  if (window.SwitchboardLiveParts) {
    window.SwitchboardLiveParts.follow(document.getElementById("campaign-dashboard"));
  }
})();
