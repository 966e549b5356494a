// The rooms page: join by invite code, create a room.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var errorBox = document.getElementById("rooms-error");

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        if (!r.ok) throw new Error((json.error && json.error.message) || r.statusText);
        return json;
      });
    });
  }
  function fail(error) { errorBox.textContent = error.message; errorBox.hidden = false; }
  function open(room) { window.location.href = "/rooms/" + room.id; }

  document.getElementById("join-form").addEventListener("submit", function (event) {
    event.preventDefault();
    post("/api/rooms/join", { code: document.getElementById("join-code").value.trim() }).then(open, fail);
  });
  document.getElementById("create-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = Array.prototype.map.call(document.getElementById("room-problems").selectedOptions, function (o) { return o.value; });
    post("/api/rooms", {
      title: document.getElementById("room-title").value,
      problems: chosen,
      duration_minutes: parseInt(document.getElementById("room-minutes").value, 10),
      size_limit: parseInt(document.getElementById("room-size").value, 10),
      public: document.getElementById("room-public").checked,
    }).then(open, fail);
  });
})();
