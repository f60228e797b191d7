/* Behaviour shared by every page (and the admin): kept in a file so the pages need no inline
   script under the Content-Security-Policy. */
(function () {
  "use strict";

  // Selects that apply at once (presence, company picker): submit their form on change.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  // Keep presence honest while the page stays open: the server counts an agent not seen
  // for a while as offline.
  var pingUrl = document.body && document.body.dataset.pingUrl;
  if (pingUrl) {
    setInterval(function () {
      fetch(pingUrl, { credentials: "same-origin" });
    }, 120000);
  }

  // The top bar's menu button: on narrow screens it shows and hides the navigation.
  var toggle = document.getElementById("nav-toggle");
  var bar = document.getElementById("topbar");
  if (toggle && bar) {
    bar.classList.add("has-toggle");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      bar.classList.toggle("menu-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) {
        toggle.setAttribute("aria-expanded", "false");
        bar.classList.remove("menu-open");
        toggle.focus();
      }
    });
  }
})();
