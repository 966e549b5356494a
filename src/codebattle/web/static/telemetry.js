// Editor telemetry for fair play (docs/fairplay.md, "Editor telemetry"; the message is
// docs/protocol.md's "telemetry"). It reports how the code came to be: pastes (their size, and
// whether the text was copied or cut inside this page's editor or statement: never the text
// itself), typing bursts (characters typed and deleted), the page losing and regaining focus,
// and runs of the examples. Batches go every 10 s, before a submission and when the page goes
// away, on the game's socket (arena) or over HTTP (practice, a room's problem page). Nobody
// but operators ever sees them.
//
//   var tracker = CodeBattleTelemetry.start({
//     editor: element, statement: element,        // where typing, pastes and copies happen
//     now: function () { return serverMs; },      // the server's clock (default Date.now)
//     send: CodeBattleTelemetry.socket(fn) | CodeBattleTelemetry.http({problem, room}),
//   });
//   tracker.run(); tracker.flush(); tracker.refused(code);  // code: a socket's error code
(function () {
  "use strict";

  var FLUSH_MS = 10000; // a batch every 10 s
  var BURST_MS = 5000; // a typing burst covers at most 5 s of activity
  var GAP_MS = 1100; // the server takes one batch a second per player and game
  var MAX_BATCH = 100; // events per batch (the server takes TELEMETRY_EVENTS_PER_BATCH, 200)
  var MAX_PENDING = 1000; // events kept while they cannot be sent (the oldest go first)
  var MAX_AGE_MS = 55 * 60 * 1000; // the server refuses events over an hour old
  var COPIES_KEPT = 5; // texts copied in the page that a paste is compared with (kept here)

  function normal(text) {
    return String(text || "").replace(/\r\n?/g, "\n").trim();
  }

  // "a" and "a\n" are one line, "a\nb" two, "" none.
  function lineCount(text) {
    if (!text) return 0;
    var breaks = text.split("\n").length - 1;
    return text.charAt(text.length - 1) === "\n" ? breaks : breaks + 1;
  }

  function clamp(n, max) {
    return Math.max(0, Math.min(max, Math.round(n)));
  }

  // A sender over a socket: `send(message)` returns whether the socket took it.
  function socket(send) {
    return function (events) {
      return send({ v: 1, type: "telemetry", events: events }) ? "ok" : "retry";
    };
  }

  // A preview keeps no telemetry: it refuses the write (403, decision 0030). Its pages say
  // what they are with the preview banner (base.html), so nothing is sent there at all: no
  // refused request in the console, and the tracker stops at its first batch.
  function inPreview() {
    return !!document.getElementById("preview-banner");
  }

  // A sender over HTTP (POST /api/telemetry); `body` names the problem (and the room).
  // keepalive lets the last batch leave with the page.
  function http(body) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var csrf = meta ? meta.content : "";
    return function (events) {
      if (inPreview()) return "stop";
      var payload = {};
      for (var key in body) if (Object.prototype.hasOwnProperty.call(body, key)) payload[key] = body[key];
      payload.events = events;
      return fetch("/api/telemetry", {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(payload),
      }).then(function (reply) {
        if (reply.ok) return "ok";
        if (reply.headers.get("X-Preview") === "1") return "stop"; // a preview refused it
        if (reply.status === 429 || reply.status >= 500) return "retry";
        if (reply.status === 422) return "drop"; // this batch will never be taken
        return "stop"; // full, the game is over, signed out, not a player: no more
      }, function () { return "retry"; });
    };
  }

  function start(options) {
    var editor = options.editor;
    var statement = options.statement || null;
    var now = options.now || Date.now;
    var transport = options.send;
    var pending = [];
    var burst = null; // {at, last, chars, deletes}
    var copies = []; // normalised texts copied or cut in the editor or the statement
    var stopped = false;
    var sending = false;
    var lastSent = 0; // Date.now() of the last batch sent
    var lastBatch = null; // the last batch the socket took (sent again if rate limited)
    var timer = null;
    var keyCounted = 0; // Date.now() of the last keystroke counted from its keydown
    var focused = document.hasFocus();

    function at() {
      return Math.round(now());
    }

    function push(event) {
      if (stopped) return;
      pending.push(event);
      if (pending.length > MAX_PENDING) pending.splice(0, pending.length - MAX_PENDING);
    }

    function closeBurst() {
      if (!burst) return;
      push({
        kind: "typing", at: burst.at, span: clamp(burst.last - burst.at, 60000),
        chars: clamp(burst.chars, 1000000), deletes: clamp(burst.deletes, 1000000),
      });
      burst = null;
    }

    function typed(chars, deletes) {
      if (!chars && !deletes) return;
      var t = at();
      if (burst && t - burst.at >= BURST_MS) closeBurst();
      if (!burst) burst = { at: t, last: t, chars: 0, deletes: 0 };
      burst.chars += chars;
      burst.deletes += deletes;
      burst.last = t;
    }

    function inside(node) {
      return !!node && (editor.contains(node) || (statement !== null && statement.contains(node)));
    }

    function remember(text) {
      var kept = normal(text);
      if (!kept) return;
      copies = copies.filter(function (c) { return c !== kept; });
      copies.push(kept);
      if (copies.length > COPIES_KEPT) copies.shift();
    }

    function pasted(raw) {
      var text = String(raw || "").replace(/\r\n?/g, "\n");
      var kept = normal(text);
      push({
        kind: "paste", at: at(), chars: clamp(text.length, 1000000),
        lines: clamp(lineCount(text), 100000), internal: kept !== "" && copies.indexOf(kept) >= 0,
      });
    }

    function focus(on) {
      if (on === focused) return;
      focused = on;
      push({ kind: on ? "focus" : "blur", at: at() });
    }

    function schedule(delay) {
      if (timer !== null || stopped) return;
      timer = setTimeout(function () { timer = null; flush(false); }, Math.max(0, delay));
    }

    // Sends what is waiting (one batch; the rest a second later). `final`: the page is going
    // away, so no waiting for the gap.
    function flush(final) {
      if (stopped) return;
      closeBurst();
      var oldest = at() - MAX_AGE_MS;
      pending = pending.filter(function (e) { return e.at > oldest; });
      if (!pending.length || (sending && !final)) return;
      var wait = lastSent + GAP_MS - Date.now();
      if (wait > 0 && !final) {
        schedule(wait);
        return;
      }
      var events = pending.splice(0, MAX_BATCH);
      lastSent = Date.now();
      sending = true;
      Promise.resolve(transport(events)).then(function (result) {
        sending = false;
        if (result === "ok") lastBatch = events;
        else if (result === "retry") pending = events.concat(pending);
        else if (result === "stop") stop();
        if (pending.length) schedule(GAP_MS);
      });
    }

    function stop() {
      stopped = true;
      pending = [];
      burst = null;
      clearInterval(interval);
      if (timer !== null) clearTimeout(timer);
    }

    // A socket's error for a batch: the server took none of it.
    function refused(code) {
      if (code === "telemetry_rate_limited" && lastBatch) {
        pending = lastBatch.concat(pending);
        lastBatch = null;
        schedule(GAP_MS);
      } else if (code === "telemetry_full" || code === "telemetry_closed") {
        stop();
      }
    }

    // Typing, counted from the keys (the editor may handle them itself) and, for keyboards
    // that do not name their keys (phones, input methods), from the input they make.
    editor.addEventListener("keydown", function (e) {
      if (e.isComposing || e.ctrlKey || e.metaKey) return;
      if (e.key && (e.key.length === 1 || e.key === "Enter" || e.key === "Tab")) typed(1, 0);
      else if (e.key === "Backspace" || e.key === "Delete") typed(0, 1);
      else return;
      keyCounted = Date.now();
    }, true);
    editor.addEventListener("beforeinput", function (e) {
      if (Date.now() - keyCounted < 100) return; // its key was counted
      var type = e.inputType || "";
      if (type === "insertText" || type === "insertReplacementText") typed((e.data || "").length, 0);
      else if (type === "insertLineBreak" || type === "insertParagraph") typed(1, 0);
      else if (type.indexOf("delete") === 0 && type !== "deleteByCut" && type !== "deleteByDrag") typed(0, 1);
    }, true);
    editor.addEventListener("compositionend", function (e) { typed((e.data || "").length, 0); }, true);

    // Pastes and drops into the editor; copies, cuts and drags out of the editor or statement.
    editor.addEventListener("paste", function (e) {
      pasted(e.clipboardData ? e.clipboardData.getData("text/plain") : "");
    }, true);
    editor.addEventListener("drop", function (e) {
      var text = e.dataTransfer ? e.dataTransfer.getData("text/plain") : "";
      if (text) pasted(text);
    }, true);
    function copied(e) {
      if (!inside(e.target)) return;
      // The editor puts its own text on the clipboard; elsewhere it is the selection.
      var text = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
      remember(text || String(window.getSelection ? window.getSelection() : ""));
    }
    document.addEventListener("copy", copied);
    document.addEventListener("cut", copied);
    document.addEventListener("dragstart", function (e) {
      if (inside(e.target)) remember(String(window.getSelection ? window.getSelection() : ""));
    });

    // Focus: the window, and the tab being hidden or shown.
    window.addEventListener("blur", function () { focus(false); });
    window.addEventListener("focus", function () { focus(true); });
    document.addEventListener("visibilitychange", function () { focus(document.visibilityState === "visible" && document.hasFocus()); });

    window.addEventListener("pagehide", function () { flush(true); });
    var interval = setInterval(function () { flush(false); }, FLUSH_MS);

    return {
      run: function () { push({ kind: "run", at: at() }); },
      flush: function () { flush(false); },
      refused: refused,
      stop: stop,
    };
  }

  window.CodeBattleTelemetry = { start: start, socket: socket, http: http };
})();
