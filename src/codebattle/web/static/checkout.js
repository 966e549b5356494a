// The checkout page: opens the provider's payment window (PortOne's browser SDK, or the
// built-in fake's) to issue a billing key; the window comes back to /checkout/complete.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var status = document.getElementById("checkout-status");
  var error = document.getElementById("checkout-error");
  var button = document.getElementById("open-window");

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
    status.textContent = "";
    button.disabled = false;
  }

  function back(response) {
    // Without redirect (a window in an iframe), the SDK answers here: go where the
    // redirect would have gone, with the same query parameters.
    var query = new URLSearchParams();
    ["transactionType", "billingKey", "code", "message"].forEach(function (name) {
      if (response && response[name]) { query.set(name, response[name]); }
    });
    window.location.assign(data.redirect + "&" + query.toString());
  }

  function open() {
    if (!window.PortOne || !window.PortOne.requestIssueBillingKey) {
      fail(data.text.failed);
      return;
    }
    button.disabled = true;
    status.textContent = data.text.opening;
    error.hidden = true;
    window.PortOne.requestIssueBillingKey(data.request).then(function (response) {
      if (response) { back(response); }
    }, function () { fail(data.text.failed); });
  }

  button.addEventListener("click", open);
  open();
})();
