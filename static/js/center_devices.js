/* Your devices: "Ring this device" saves as soon as it is ticked or unticked (a file, not
   inline code, so the Content-Security-Policy lets it run). Without JavaScript each row's
   Save button posts the same form; with it, the button is taken away as not needed. */
(function () {
  "use strict";

  var forms = document.querySelectorAll("form[data-ring-form]");
  Array.prototype.forEach.call(forms, function (form) {
    var save = form.querySelector("[data-ring-save]");
    var box = form.querySelector("input[type=checkbox][name=ring]");
    if (!box) {
      return;
    }
    if (save) {
      save.remove(); // not hidden: the stylesheet's button.secondary would show it again
    }
    box.addEventListener("change", function () {
      // An unticked box sends nothing: the server reads its absence as "does not ring".
      form.submit();
    });
  });
})();
