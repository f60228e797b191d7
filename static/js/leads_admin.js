// The admin's Order Details report: "Show/hide batch updates" (the checkboxes, the Leads
// Agent picker and Assign Leads). Without this script the batch updates simply stay shown.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var button = document.getElementById("toggle-batch");
    var changelist = document.getElementById("changelist");
    if (!button || !changelist) { return; }
    var key = "switchboard.orders.batch";
    function apply(shown) {
      changelist.classList.toggle("batch-hidden", !shown);
      button.setAttribute("aria-expanded", shown ? "true" : "false");
      button.textContent = shown ? "Hide batch updates" : "Show batch updates";
    }
    var shown = false;
    try { shown = window.sessionStorage.getItem(key) === "1"; } catch (e) { shown = false; }
    button.hidden = false;
    apply(shown);
    button.addEventListener("click", function () {
      shown = !shown;
      try { window.sessionStorage.setItem(key, shown ? "1" : "0"); } catch (e) { /* private mode */ }
      apply(shown);
    });
  });
})();
