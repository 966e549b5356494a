// Forms marked data-confirm (appeals: filing, replies, assignment, decisions) ask first in
// the page's <dialog id="appeal-confirm">; its text is the form's data-confirm.
(() => {
  const dialog = document.getElementById("appeal-confirm");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const text = document.getElementById("appeal-confirm-text");
  let pending = null;
  let submitter = null;
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmed === "1") return;
      event.preventDefault();
      pending = form;
      submitter = event.submitter || null;
      text.textContent = form.dataset.confirm;
      dialog.showModal();
    });
  }
  document.getElementById("appeal-confirm-yes").addEventListener("click", () => {
    dialog.close();
    if (!pending) return;
    pending.dataset.confirmed = "1";
    if (pending.requestSubmit) pending.requestSubmit(submitter);
    else pending.submit();
  });
  document.getElementById("appeal-confirm-no").addEventListener("click", () => {
    pending = null;
    dialog.close();
  });
})();
