/* The workload page (templates/contacts/workload.html): the counts, the chart and the tables
   follow the company's workload live (docs/live_pages.md; the swapping is live_parts.js). */
(function () {
  "use strict";
  if (window.SwitchboardLiveParts) {
    window.SwitchboardLiveParts.follow(document.getElementById("workload-page"));
  }
})();
