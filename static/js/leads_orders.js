// Order Details' batch updates: a "select every order on this page" box in the header.
// Without this script each order is still picked by its own checkbox.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var all = document.getElementById("select-all-orders");
    var form = document.getElementById("batch-assign");
    if (!all || !form) { return; }
    var boxes = form.querySelectorAll("input[type=checkbox][name=orders]");
    function sync() {
      var checked = 0;
      boxes.forEach(function (box) { if (box.checked) { checked += 1; } });
      all.checked = checked > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      sync();
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });
})();
