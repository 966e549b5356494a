// The confirmed forms (the operators' dashboard and the players' appeal pages): a form
// marked data-confirm asks first in a <dialog> (#ops-confirm-dialog); confirming sets its
// hidden confirm=yes and sends it, with the button that was pressed. Without this script
// the server asks instead (a form without confirm=yes changes nothing).
(function () {
  "use strict";
  var dialog = document.getElementById("ops-confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var text = document.getElementById("ops-confirm-text");
  var facts = document.getElementById("ops-confirm-facts");
  var pending = null;
  var submitter = null;

  function describe(form, button) {
    // What the form will do, from its labelled fields (the chosen option's words); a
    // button with a value of its own ("Assign to me") says it instead.
    if (button && button.name) return [button.textContent.trim()];
    var lines = [];
    form.querySelectorAll("select, input[type=number], input[type=radio]:checked, textarea").forEach(function (field) {
      if (!field.name || field.name === "confirm") return;
      var label = field.labels && field.labels[0] ? field.labels[0].textContent.trim() : field.name;
      var value = field.tagName === "SELECT" ? field.options[field.selectedIndex].text : field.value;
      if (field.type === "radio") {
        var legend = field.closest("fieldset") && field.closest("fieldset").querySelector("legend");
        label = legend ? legend.textContent.trim() : field.name;
        value = field.labels && field.labels[0] ? field.labels[0].textContent.trim() : field.value;
      }
      if (field.closest("[hidden]") || field.disabled) return;
      if (value) lines.push(label + ": " + value.trim());
    });
    return lines;
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var confirm = form.querySelector("input[name=confirm]");
      if (!confirm || confirm.value === "yes") return;
      if (!form.checkValidity()) return;
      event.preventDefault();
      pending = form;
      submitter = event.submitter || null;
      text.textContent = form.getAttribute("data-confirm");
      facts.textContent = "";
      describe(form, submitter).forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        facts.appendChild(item);
      });
      dialog.showModal();
    });
  });

  // Suspension days only matter for a suspension: shown with it, hidden otherwise.
  document.querySelectorAll("[data-shown-for]").forEach(function (box) {
    var form = box.closest("form");
    function update() {
      var chosen = form.querySelector("input[name=decision]:checked");
      box.hidden = !chosen || chosen.value !== box.getAttribute("data-shown-for");
    }
    form.addEventListener("change", update);
    update();
  });

  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "yes" && pending) {
      pending.querySelector("input[name=confirm]").value = "yes";
      // requestSubmit sends the pressed button's name and value (submit() would not).
      if (submitter && pending.requestSubmit) pending.requestSubmit(submitter);
      else pending.submit();
    }
    pending = null;
    submitter = null;
  });
})();
