// The notifications page: "mark all read" asks first in a <dialog>; confirming sends the
// form with confirm=yes. Without this script the server asks on the page instead.
(function () {
  "use strict";
  var form = document.getElementById("mark-all-read");
  var dialog = document.getElementById("notifications-dialog");
  if (!form || !dialog || typeof dialog.showModal !== "function") return;
  var confirm = form.querySelector("input[name=confirm]");
  form.addEventListener("submit", function (event) {
    if (confirm.value === "yes") return;
    event.preventDefault();
    dialog.showModal();
  });
  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "yes") {
      confirm.value = "yes";
      form.submit();
    }
  });
})();
