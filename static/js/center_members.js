// A center's Agents & Admins: type-ahead suggestions (name or email) for "add agent".
// The suggestions fill a <datalist>; picking one puts the email in the box, and Enter adds.
(function () {
  "use strict";
  var input = document.getElementById("member-search");
  var list = document.getElementById("member-suggestions");
  if (!input || !list || !input.dataset.suggestUrl || !window.fetch) {
    return;
  }
  var timer = null;
  var asked = "";

  function show(results) {
    list.replaceChildren();
    results.forEach(function (person) {
      var option = document.createElement("option");
      option.value = person.email;
      option.label = person.name ? person.name + " · " + person.email : person.email;
      option.textContent = option.label;
      list.appendChild(option);
    });
  }

  function ask() {
    var term = input.value.trim();
    if (term.length < 2 || term === asked) {
      return;
    }
    asked = term;
    var url = input.dataset.suggestUrl + "?q=" + encodeURIComponent(term);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (data) {
        if (input.value.trim() === term) {
          show(data.results || []);
        }
      })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 200);
  });
})();
