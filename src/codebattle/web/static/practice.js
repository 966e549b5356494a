// The practice page: the editor (language and code remembered per problem), run examples,
// run with a custom input, submit; results stream in test by test.
(function () {
  "use strict";
  var data = Judging.pageData();
  var text = data.text;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var results = new Judging.Results(text);
  var languageSelect = document.getElementById("language");
  var buttons = ["submit", "run-samples", "run-custom"].map(function (id) { return document.getElementById(id); });

  function draftKey(lang) { return "cb.code." + data.slug + "." + lang; }
  function storedCode(lang) {
    try { return localStorage.getItem(draftKey(lang)); } catch (e) { return null; }
  }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) {} }

  var language = null;
  try { language = localStorage.getItem("cb.language"); } catch (e) {}
  // The remembered language unless this problem does not accept it (problem.yaml `languages`).
  if (!data.templates[language]) language = data.templates.python ? "python" : languageSelect.options[0].value;
  languageSelect.value = language;

  var editor = CodeBattleEditor.create(document.getElementById("editor"), {
    language: language,
    doc: storedCode(language) || data.templates[language],
    onSubmit: function () { send("submit"); },
    onChange: function (code) { store(draftKey(language), code); },
  });
  window.practiceEditor = editor;
  // Editor telemetry over HTTP (this page has no game socket); for the room when it counts.
  var tracker = window.CodeBattleTelemetry ? CodeBattleTelemetry.start({
    editor: document.getElementById("editor"),
    statement: document.getElementById("statement"),
    send: CodeBattleTelemetry.http(data.room ? { problem: data.slug, room: data.room } : { problem: data.slug }),
  }) : null;

  languageSelect.addEventListener("change", function () {
    language = languageSelect.value;
    store("cb.language", language);
    editor.setLanguage(language);
    editor.setValue(storedCode(language) || data.templates[language]);
  });
  document.getElementById("reset-code").addEventListener("click", function () {
    editor.setValue(data.templates[language]);
  });

  function busy(on) { buttons.forEach(function (b) { b.disabled = on; }); }

  // `title`: the language as the menu names it ("Python 3"), as the server-drawn rows do.
  function addHistory(id, kind, title) {
    var body = document.querySelector("#history tbody");
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    var row = document.createElement("tr");
    row.id = "history-" + id;
    var cells = [id, new Date().toLocaleString(), title, text.status_queued];
    cells.forEach(function (value, i) {
      var td = document.createElement("td");
      if (i === 0) {
        var a = document.createElement("a");
        a.href = "/submissions/" + id;
        a.textContent = value;
        td.appendChild(a);
      } else if (i === 2) {
        var name = document.createElement("span");
        name.className = "nowrap";
        name.textContent = value;
        td.appendChild(name);
        if (kind !== "submit") td.appendChild(document.createTextNode(" (" + (kind === "samples" ? text.run_samples : text.run_custom) + ")"));
      } else td.textContent = value;
      row.appendChild(td);
    });
    body.insertBefore(row, body.firstChild);
    return row;
  }

  function send(kind) {
    var body = { problem: data.slug, language: language, code: editor.getValue(), kind: kind };
    var title = languageSelect.options[languageSelect.selectedIndex].textContent;
    if (kind === "custom") body.input = document.getElementById("custom-input").value;
    if (data.room) body.room = data.room; // a submission counts for it; a run queues at its level
    if (tracker) { // the editor's telemetry leaves before the submission
      if (kind !== "submit") tracker.run();
      tracker.flush();
    }
    results.onStatus = null;  // the last submission's row keeps what it has
    results.reset();
    busy(true);
    fetch("/api/submissions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (json) { return { ok: r.ok, json: json }; });
      })
      .then(function (reply) {
        if (!reply.ok) {
          busy(false);
          var error = reply.json.error || {};
          results.error(error.message || text.server_error);
          return;
        }
        var row = addHistory(reply.json.id, kind, title);
        // The row's status follows the results (compiling, running) until its verdict.
        results.onStatus = function (status) {
          if (status !== "done") row.lastChild.textContent = text["status_" + status] || status;
        };
        Judging.follow(reply.json.id, results, function (submission) {
          busy(false);
          results.onStatus = null;
          var cell = row.lastChild;
          cell.textContent = text["v_" + submission.verdict] || submission.verdict;
          cell.className = "v-" + submission.verdict;
          if (kind === "submit" && submission.verdict === "AC") { // accepted: the review is a click away
            var review = document.createElement("a");
            review.href = "/submissions/" + reply.json.id + "/review";
            review.className = "review-link";
            review.textContent = text.review_title;
            cell.appendChild(document.createTextNode(" · "));
            cell.appendChild(review);
          }
        });
      })
      .catch(function () {
        busy(false);
        results.error(text.server_error);
      });
  }

  document.getElementById("submit").addEventListener("click", function () { send("submit"); });
  document.getElementById("run-samples").addEventListener("click", function () { send("samples"); });
  document.getElementById("run-custom").addEventListener("click", function () { send("custom"); });
})();
