// A contact-list import's page follows its progress until it finishes, then reloads
// once to show the report (the server renders the rejected rows).
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "1") return;
  const bar = document.getElementById("import-bar");
  const percent = document.getElementById("import-percent");
  const state = document.getElementById("import-state");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { window.setTimeout(poll, 2000); return; }
        bar.value = s.percent;
        percent.textContent = s.percent;
        state.firstChild.textContent = s.status_label + " — ";
        if (s.finished) { window.location.reload(); return; }
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
