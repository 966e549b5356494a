// Shows a submission's results and follows them live: one WebSocket per submission, with a
// polling fallback when the socket cannot be opened or drops. Used by the practice and the
// submission pages.
(function () {
  "use strict";

  function pageData() {
    return JSON.parse(document.getElementById("page-data").textContent);
  }

  function formatMemory(bytes) {
    if (!bytes) return "–";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function Results(text) {
    this.text = text;
    this.el = {
      box: document.getElementById("results"),
      verdict: document.getElementById("verdict"),
      status: document.getElementById("status-line"),
      tests: document.getElementById("tests"),
      compileBox: document.getElementById("compile-box"),
      compile: document.getElementById("compile-output"),
      outputBox: document.getElementById("output-box"),
      output: document.getElementById("run-output"),
      error: document.getElementById("error-line"),
    };
  }

  Results.prototype.reset = function () {
    this.el.box.hidden = false;
    this.el.verdict.textContent = "";
    this.el.verdict.className = "verdict";
    this.el.tests.textContent = "";
    this.el.compileBox.hidden = true;
    this.el.outputBox.hidden = true;
    if (this.el.error) this.el.error.hidden = true;
    this.status("queued");
  };

  Results.prototype.error = function (message) {
    this.el.box.hidden = false;
    if (this.el.error) {
      this.el.error.textContent = message;
      this.el.error.hidden = false;
    }
    this.el.status.textContent = "";
  };

  Results.prototype.status = function (status) {
    this.el.status.textContent = this.text["status_" + status] || status;
    this.el.box.dataset.status = status;
    if (this.onStatus) this.onStatus(status);  // a page's own copy (the practice history)
  };

  // Statuses in the order a submission goes through them (docs/protocol.md).
  var ORDER = ["queued", "compiling", "running", "done"];

  // A live status message: it only moves the status forward (a "compiling" that arrives
  // after the first test leaves "running").
  Results.prototype.advance = function (status) {
    if (ORDER.indexOf(status) < ORDER.indexOf(this.el.box.dataset.status)) return;
    this.status(status);
  };

  Results.prototype.test = function (test) {
    var id = "test-" + test.index;
    var li = document.getElementById(id);
    if (!li) {
      li = document.createElement("li");
      li.id = id;
      li.dataset.index = test.index;
      // In test order, whatever order results arrive in (a job judged again after a
      // worker or the queue was lost sends its tests again, interleaved with the first).
      var next = null;
      for (var node = this.el.tests.firstElementChild; node; node = node.nextElementSibling) {
        if (Number(node.dataset.index) > test.index) { next = node; break; }
      }
      this.el.tests.insertBefore(li, next);
    }
    li.className = "test v-" + test.verdict;
    li.dataset.verdict = test.verdict;
    var label = this.text.test + " " + (test.index + 1) + (test.sample ? " (" + this.text.sample + ")" : "");
    li.textContent = "";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    var verdict = document.createElement("span");
    verdict.className = "test-verdict";
    verdict.textContent = test.verdict;
    verdict.title = this.text["v_" + test.verdict] || test.verdict;
    var figures = document.createElement("span");
    figures.className = "figures";
    figures.textContent = test.time.toFixed(3) + " s · " + formatMemory(test.memory);
    li.append(name, verdict, figures);
    if (test.feedback && test.verdict !== "AC") {
      var feedback = document.createElement("pre");
      feedback.className = "feedback";
      feedback.textContent = test.feedback;
      li.appendChild(feedback);
    } else if (!test.sample && test.verdict !== "AC" && this.text.hidden_test_note) {
      // Secret tests come with their verdict, time and memory only (docs/security.md).
      var note = document.createElement("span");
      note.className = "feedback hidden-note";
      note.textContent = this.text.hidden_test_note;
      li.appendChild(note);
    }
  };

  Results.prototype.show = function (submission) {
    var self = this;
    (submission.tests || []).forEach(function (t) { self.test(t); });
    // Forward only: a slow poll's reply must not step back from "running" to "compiling".
    this.advance(submission.status);
    if (submission.status !== "done") return;
    var v = submission.verdict;
    this.el.verdict.textContent = (this.text["v_" + v] || v);
    this.el.verdict.className = "verdict v-" + v;
    this.el.verdict.dataset.verdict = v;
    if (submission.kind !== "custom" && submission.tests_total) {
      this.el.status.textContent = this.text.passed_of
        .replace("{passed}", submission.tests_passed)
        .replace("{total}", submission.tests_total);
    }
    if (submission.compile_output) {
      this.el.compile.textContent = submission.compile_output;
      this.el.compileBox.hidden = false;
    }
    if (submission.run_output !== null && submission.run_output !== undefined && submission.kind === "custom") {
      this.el.output.textContent = submission.run_output;
      this.el.outputBox.hidden = false;
    }
  };

  // Follows submission `id` until it is done; calls onDone(submission).
  function follow(id, results, onDone) {
    var finished = false;
    var polling = null;

    function finish(submission) {
      if (finished) return;
      finished = true;
      if (polling) clearInterval(polling);
      results.show(submission);
      if (onDone) onDone(submission);
    }

    function stop() {
      if (polling) clearInterval(polling);
      polling = null;
      finished = true;
    }

    function check() {
      fetch("/api/submissions/" + id, { headers: { Accept: "application/json" } })
        .then(function (r) {
          // Signed out (the session ended) or gone: asking again cannot change it, so the
          // page says why, as for a refused socket, instead of judging forever.
          var refusal = { 401: 4401, 404: 4404 }[r.status];
          if (refusal && window.socketRefused(refusal)) { stop(); return null; }
          return r.ok ? r.json() : null;
        })
        .then(function (s) {
          if (!s || finished) return;
          if (s.status === "done") finish(s); else results.show(s);
        })
        .catch(function () {});
    }

    function poll() {
      if (polling || finished) return;
      polling = setInterval(check, 1000);
    }

    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + location.host + "/ws/submissions/" + id);
    } catch (e) {
      poll();
      return;
    }
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "snapshot") {
        if (message.submission.status === "done") finish(message.submission);
        else results.show(message.submission);
      } else if (message.type === "status") {
        results.advance(message.status);
      } else if (message.type === "test") {
        results.advance("running");
        results.test(message.test);
      } else if (message.type === "done") {
        finish(message.submission);
      } else if (message.type === "ping") {
        check();  // a quiet socket: make sure no final result was missed
      }
    };
    socket.onerror = function () { poll(); };
    socket.onclose = function (e) {
      // Refused (docs/protocol.md): polling would be refused too; the page says why.
      if (window.socketRefused(e.code)) {
        stop();
        return;
      }
      if (!finished) poll();
    };
  }

  window.Judging = { pageData: pageData, Results: Results, follow: follow };
})();
