// A room, live over its WebSocket (docs/protocol.md): the leaderboard from the welcome,
// kept up to date by the logged events (resumed by sequence number after a reconnect);
// the host's start / end / announcements go through the HTTP API.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var room = data.room;
  var text = data.text;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var board = [];
  var lastSeq = 0;
  var offset = 0; // server time minus local time, seconds
  var retry = 500;

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        if (!r.ok) throw new Error((json.error && json.error.message) || r.statusText);
        return json;
      });
    });
  }
  function fail(error) { $("room-error").textContent = error.message; $("room-error").hidden = false; }

  function render() {
    board.sort(function (a, b) { return b.solved - a.solved || a.penalty - b.penalty || a.order - b.order; });
    var body = $("leaderboard").tBodies[0];
    body.textContent = "";
    var rank = 0;
    board.forEach(function (row, i) {
      var prev = board[i - 1];
      if (!prev || prev.solved !== row.solved || prev.penalty !== row.penalty) rank = i + 1;
      var tr = document.createElement("tr");
      tr.id = "row-" + row.user;
      tr.dataset.solved = row.solved;
      if (row.user === data.me) tr.className = "me";
      var cells = [rank, row.nickname, row.solved, Math.round(row.penalty / 60) + " " + text.minutes];
      room.problems.forEach(function (_p, k) {
        var status = row.problems[k];
        cells.push(status && status.solved_at !== null ? "✔" + (status.rejected ? " (+" + status.rejected + ")" : "")
          : status && status.rejected ? "−" + status.rejected : "");
      });
      cells.forEach(function (value, k) {
        var td = document.createElement("td");
        td.textContent = value;
        if (k === 1 && row.tier) td.appendChild(tierLabel(row.tier));
        if (k > 3) td.className = "hide-narrow";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // The player's tier beside the name, in its colour and named (never by colour alone).
  function tierLabel(tier) {
    var label = document.createElement("span");
    var name = (text.tiers || {})[tier.code] || tier.code;
    label.className = "tier-label";
    label.textContent = " " + name;
    label.title = name;
    label.style.color = tier.color;
    label.style.fontSize = ".75rem";
    label.style.marginLeft = ".35rem";
    return label;
  }

  function rowOf(user) {
    for (var i = 0; i < board.length; i++) if (board[i].user === user) return board[i];
    return null;
  }

  function setState(state) {
    room.state = state;
    $("room-state").dataset.state = state;
    $("room-state").textContent = text.states[state];
  }

  function apply(event) {
    if (event.type === "joined" && !rowOf(event.user)) {
      board.push({ user: event.user, nickname: event.nickname, solved: 0, penalty: 0, order: board.length,
                   problems: room.problems.map(function () { return null; }) });
      $("room-members").textContent = board.length + " / " + room.size_limit;
    } else if (event.type === "started") {
      room.ends_at = event.ends_at;
      setState("running");
    } else if (event.type === "ended") {
      setState("ended");
    } else if (event.type === "attempt" || event.type === "solved") {
      var row = rowOf(event.user);
      if (!row) return;
      var status = row.problems[event.problem] || { rejected: 0, solved_at: null };
      if (event.type === "attempt") status.rejected += 1;
      else {
        status.solved_at = 0;
        row.solved = event.solved;
        row.penalty = event.penalty;
      }
      row.problems[event.problem] = status;
    } else if (event.type === "disqualified") { // an operator voided this member's game
      board = board.filter(function (r) { return r.user !== event.user; });
    } else if (event.type === "reinstated" && event.row && !rowOf(event.user)) {
      event.row.order = board.length;
      board.push(event.row);
    } else if (event.type === "announcement") {
      var li = document.createElement("li");
      li.textContent = event.text;
      $("announcements").prepend(li);
    }
  }

  function tick() {
    var el = $("room-timer");
    if (room.state === "running" && room.ends_at) {
      var left = Math.max(0, Math.round(room.ends_at - (Date.now() / 1000 + offset)));
      el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    } else el.textContent = "";
  }
  setInterval(tick, 500);

  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/rooms/" + room.id);
    socket.onopen = function () {
      // The first time, start from the welcome's leaderboard; after that, resume.
      socket.send(JSON.stringify(lastSeq ? { type: "hello", last_seq: lastSeq } : { type: "hello", snapshot: true }));
    };
    socket.onmessage = function (frame) {
      var message = JSON.parse(frame.data);
      if (message.server_time) offset = message.server_time - Date.now() / 1000;
      if (message.type === "welcome") {
        retry = 500;
        $("room-reconnecting").hidden = true;
        if (lastSeq === 0) {
          board = message.leaderboard.map(function (row, i) { row.order = i; return row; });
          room = Object.assign(room, message.room);
          setState(room.state);
          lastSeq = message.seq; // the board already holds everything up to here
        }
        render();
      } else if (message.type === "event" && message.seq > lastSeq) {
        lastSeq = message.seq;
        apply(message.event);
        render();
      } else if (message.type === "resync") socket.close();
    };
    socket.onclose = function (e) {
      if (window.socketRefused(e.code)) { // refused: reconnecting will not help
        $("room-reconnecting").hidden = true;
        return;
      }
      $("room-reconnecting").hidden = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  connect();

  function action(name, body) {
    return function (event) {
      if (event) event.preventDefault();
      post("/api/rooms/" + room.id + "/" + name, body && body()).catch(fail);
    };
  }
  if ($("room-start")) $("room-start").addEventListener("click", action("start"));
  if ($("room-end")) $("room-end").addEventListener("click", action("end"));
  if ($("announce-form")) {
    $("announce-form").addEventListener("submit", action("announce", function () {
      var value = $("announce-text").value;
      $("announce-text").value = "";
      return { text: value };
    }));
  }
  if ($("room-join")) {
    $("room-join").addEventListener("click", function () {
      post("/api/rooms/" + room.id + "/join", {}).then(function () { location.reload(); }, fail);
    });
  }
})();
