"use strict";
// Served as a file (the page's policy allows no inline script).
(function () {
  const container = document.getElementById("redoc-container");
  const settings = {{ settings|safe }};
  settings.nonce = container.dataset.styleNonce;
  Redoc.init(container.dataset.specUrl, settings, container);
})();
