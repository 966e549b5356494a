// The review page: while the review is being prepared, polls its JSON and shows the page
// again once it is ready (or failed). The page's texts come from #page-data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  if (data.status !== "pending") return;
  var url = "/api/submissions/" + data.submission + "/review";
  var delay = 1500;
  var box = document.getElementById("review-pending");

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok && response.status !== 202) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (json) {
        if (json.status === "pending") {
          delay = Math.min(delay * 1.3, 8000);
          setTimeout(poll, delay);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        if (box) box.textContent = data.text.server_error;
        setTimeout(poll, 8000);
      });
  }
  setTimeout(poll, delay);
})();
