// The arena: one match, live over its WebSocket (docs/protocol.md). The game's state is
// derived from the logged events (kept by sequence number and resumed after a reconnect);
// typing activity, judging progress and chat are shown as they come. Players get the editor;
// spectators see the same page without it, and never anyone's code.
import { FEED, fmt } from "/static/battle.js";
const data = JSON.parse(document.getElementById("page-data").textContent);
const text = data.text;
const matchId = data.match.id;
const me = data.me;
const isPlayer = data.role === "player";
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

// The statement is rendered on the server; its math here, with KaTeX.
if (window.CodeBattleEditor) window.CodeBattleEditor.renderMath($("statement"));

// ---- The game's state, derived from the event log.

const game = {
  state: "waiting",
  startsAt: null,
  endsAt: null,
  decideBy: null, // in "judging": the verdicts of submissions made in time are awaited until then
  winner: null,
  reason: "",
  rated: null, // the `rated` event's changes
  voided: false, // an operator voided the game: its rating changes were reversed
  rematchOffers: new Set(),
  rematchMatch: null,
  players: new Map(),
};
for (const p of data.match.players) {
  game.players.set(p.id, {
    ...p, passed: 0, connected: true, gave_up: false, activity: null, judging: null,
    judgingOf: null, stage: null, // the submission being judged and its stage ("compiling", "running")
  });
}
const events = new Map(); // seq -> event
let lastSeq = 0;
let liveFrom = null; // events after this seq happened while the page was open
let caughtUp = false;
let clockOffset = 0; // server time minus local time, in seconds

const nameOf = (id) => (game.players.has(id) ? game.players.get(id).nickname : "?");
const serverNow = () => Date.now() / 1000 + clockOffset;

function applyEvent(event, seq) {
  const player = game.players.get(event.user);
  switch (event.type) {
    case "joined":
      if (player) player.connected = true;
      break;
    case "countdown":
      game.state = "countdown";
      game.startsAt = event.starts_at;
      break;
    case "started":
      game.state = "running";
      game.endsAt = event.ends_at;
      codeChanged();
      break;
    case "submitted":
      if (player) {
        player.judging = 0;
        player.judgingOf = event.submission;
        player.stage = null;
      }
      break;
    case "result":
      if (player) {
        player.passed = Math.max(player.passed, event.passed);
        player.judging = null;
      }
      break;
    case "gave_up":
      if (player) player.gave_up = true;
      break;
    case "disconnected":
      if (player) {
        player.connected = false;
        player.graceEndsAt = event.grace_ends_at;
      }
      break;
    case "reconnected":
      if (player) player.connected = true;
      break;
    case "awaiting_verdicts":
      game.state = "judging";
      game.decideBy = event.until;
      break;
    case "finished":
      game.state = "finished";
      game.winner = event.winner;
      game.reason = event.reason;
      break;
    case "cancelled":
      game.state = "cancelled";
      game.reason = event.reason;
      break;
    case "rated":
      game.rated = event.changes;
      game.points = event.points || {}; // {user id: points earned} (progress/earning.py)
      break;
    case "voided":
      game.voided = true;
      break;
    case "restored":
      game.voided = false;
      break;
    case "rematch_offered":
    case "rematch_accepted":
      game.rematchOffers.add(event.user);
      break;
    case "rematch_created":
      game.rematchMatch = event.match;
      if (isPlayer && liveFrom !== null && seq > liveFrom) location.assign("/matches/" + event.match);
      break;
  }
  addFeed(event);
  // Other scripts of the page (static/report.js) follow the game through this.
  document.dispatchEvent(new CustomEvent("match:event", { detail: { event, seq } }));
}

// ---- Rendering.

function two(n) {
  return String(n).padStart(2, "0");
}

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return Math.floor(s / 60) + ":" + two(s % 60);
}

function renderTimer() {
  const timer = $("timer");
  if (game.state === "countdown" && game.startsAt) timer.textContent = clock(game.startsAt - serverNow());
  else if (game.state === "running" && game.endsAt) timer.textContent = clock(game.endsAt - serverNow());
  else if (game.state === "judging" && game.decideBy) timer.textContent = clock(game.decideBy - serverNow());
  else timer.textContent = "–:––";
  timer.dataset.state = game.state;
  const now = serverNow();
  for (const [id, p] of game.players) {
    const activity = $("player-" + id).querySelector(".activity");
    let line = "";
    if (!p.connected && p.graceEndsAt && p.graceEndsAt > now && (game.state === "running" || game.state === "countdown"))
      line = fmt(text.offline_grace, { seconds: Math.ceil(p.graceEndsAt - now) });
    else if (p.judging !== null && p.stage === null) line = text.judging_submitted;
    else if (p.judging !== null && p.stage === "compiling") line = text.judging_compiling;
    else if (p.judging) line = fmt(text.judging_progress, { done: p.judging });
    else if (p.judging !== null) line = text.judging_started;
    else if (p.activity && p.activity.until > now) line = text.typing;
    activity.textContent = line;
  }
}

// A submission's progress only moves forward (compiling, then running and its tests), in
// whatever order its messages arrive.
function judgingProgress(p, message) {
  if (p.judgingOf !== message.submission) {
    p.judgingOf = message.submission;
    p.judging = 0;
    p.stage = null;
  }
  p.judging = Math.max(p.judging, message.tests_done || 0);
  if (p.stage !== "running") p.stage = message.stage === "compiling" && !p.judging ? "compiling" : "running";
}

function renderPlayers() {
  for (const [id, p] of game.players) {
    const card = $("player-" + id);
    card.dataset.passed = p.passed;
    card.dataset.connected = p.connected;
    card.classList.toggle("offline", !p.connected);
    card.classList.toggle("gave-up", p.gave_up);
    card.classList.toggle("winner", game.state === "finished" && game.winner === id);
    card.querySelector("progress").value = p.passed;
    card.querySelector(".passed").textContent = p.passed;
    card.querySelector(".conn").textContent = p.gave_up ? text.gave_up_badge : p.connected ? text.online : text.offline;
    if (p.activity) card.dataset.chars = p.activity.chars;
  }
}

// Why the game ended, worded for the reader: "You gave up." to the one who did, "Ann gave up."
// to the other player and to spectators. A win by solving or on time is said of the winner,
// a give-up or a departure of the loser.
const ABOUT_WINNER = new Set(["solved", "time"]);
const ABOUT_LOSER = new Set(["gave_up", "disconnect"]);

function reasonText() {
  let subject = null;
  let prefix = "reason_" + game.reason;
  if (game.state === "finished" && game.winner !== null && ABOUT_WINNER.has(game.reason)) {
    subject = game.winner;
  } else if (game.state === "finished" && game.winner !== null && ABOUT_LOSER.has(game.reason)) {
    subject = [...game.players.keys()].find((id) => id !== game.winner) ?? null;
  } else if (game.state === "cancelled" && game.reason === "gave_up") {
    subject = [...game.players].find(([, p]) => p.gave_up)?.[0] ?? null;
    prefix = "reason_cancel_gave_up";
  }
  if (subject === null) return text["reason_" + game.reason] || game.reason;
  if (isPlayer && subject === me) return text[prefix + "_you"];
  return fmt(text[prefix + "_other"], { name: nameOf(subject) });
}

function renderResult() {
  const state = $("state");
  state.dataset.state = game.state;
  state.textContent = text["state_" + game.state] || game.state;
  const over = game.state === "finished" || game.state === "cancelled";
  const result = $("result");
  result.hidden = !over;
  if (!over) return;
  const title = $("result-title");
  if (game.state === "cancelled") {
    result.dataset.winner = "none";
    title.textContent = text.match_cancelled;
  } else if (game.winner === null) {
    result.dataset.winner = "draw";
    title.textContent = text.result_draw;
  } else {
    result.dataset.winner = game.winner;
    if (isPlayer) title.textContent = game.winner === me ? text.you_won : text.you_lost;
    else title.textContent = fmt(text.winner_is, { name: nameOf(game.winner) });
  }
  $("result-reason").textContent = reasonText();
  const changes = $("rating-changes");
  changes.textContent = "";
  for (const c of game.rated || []) {
    const delta = (c.delta > 0 ? "+" : "") + c.delta;
    let line = fmt(text.rating_change, { name: nameOf(c.user), before: c.before, after: c.after, delta });
    if (c.weight !== undefined && c.weight < 1) { // why the change is smaller (docs/ratings.md)
      const why = [];
      if (c.opponent_provisional) why.push(text.weight_provisional);
      if (c.repeat > 1) why.push(fmt(text.weight_repeat, { repeat: c.repeat }));
      line += " · " + fmt(text.rating_weight, { weight: Math.round(c.weight * 100) / 100 }) + ": " + why.join(", ");
    }
    const earned = game.voided ? 0 : (game.points || {})[c.user] || 0; // a void takes them back
    if (earned > 0) line += " · " + fmt(text["rank.points_earned"], { points: earned });
    const li = el("li", game.voided ? "voided" : c.delta >= 0 ? "up" : "down", line);
    li.dataset.user = c.user;
    changes.append(li);
  }
  $("game-voided").hidden = !game.voided;
  $("replay-link").hidden = false;
  const rematch = $("rematch");
  if (rematch) {
    rematch.hidden = game.state !== "finished" || game.rematchMatch !== null;
    rematch.disabled = game.rematchOffers.has(me);
  }
  const others = [...game.rematchOffers].filter((id) => id !== me);
  let status = "";
  if (game.rematchOffers.has(me)) status = text.rematch_waiting;
  else if (others.length) status = fmt(text.rematch_offered, { name: nameOf(others[0]) });
  $("rematch-status").textContent = game.rematchMatch === null ? status : "";
  const link = $("rematch-link");
  link.hidden = game.rematchMatch === null;
  if (game.rematchMatch !== null) link.href = "/matches/" + game.rematchMatch;
}

function render() {
  renderPlayers();
  renderResult();
  renderTimer();
  renderControls();
}

setInterval(renderTimer, 250);

function addFeed(event) {
  const key = FEED[event.type];
  if (!key) return;
  const li = el("li", "ev-" + event.type, fmt(text[key], {
    name: nameOf(event.user),
    verdict: text["v_" + event.verdict] || event.verdict || "",
    passed: event.passed,
  }));
  li.prepend(el("time", "", new Date(event.at * 1000).toLocaleTimeString()), " ");
  $("feed").prepend(li);
}

let messageTimer = null;
function showMessage(message) {
  const box = $("message");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// ---- Chat.

function addChat(message) {
  const id = "chat-" + message.id;
  if ($(id)) return;
  const li = el("li", "chat-" + message.channel);
  li.id = id;
  if (!isPlayer) li.append(el("span", "chat-channel", text["channel_" + message.channel] || message.channel), " ");
  li.append(el("strong", "", message.nickname), " ", el("span", "chat-text", message.text));
  const log = $("chat-log");
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("chat-input");
  const value = input.value.trim();
  if (!value || !send({ type: "chat", text: value })) return;
  input.value = "";
});

// ---- The socket: hello with the last seen seq; reconnect with backoff.

let socket = null;
let attempts = 0;

function send(message) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/ws/matches/" + matchId);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", last_seq: lastSeq }));
  socket.onmessage = (e) => {
    let message;
    try { message = JSON.parse(e.data); } catch (err) { return; }
    receive(message);
  };
  socket.onclose = (e) => {
    socket = null;
    renderControls();
    if (window.socketRefused(e.code)) { // refused: reconnecting will not help
      $("connection").hidden = true;
      return;
    }
    $("connection").hidden = false;
    // 4429: opened too often; the server lets it in again after its window (10 s by default).
    const delay = e.code === 4429 ? 10000 * (1 + Math.random() / 2)
      : Math.min(10000, 500 * 2 ** attempts) * (0.75 + Math.random() / 2);
    attempts++;
    setTimeout(connect, delay);
  };
}

function receive(message) {
  if (typeof message.server_time === "number") clockOffset = message.server_time - Date.now() / 1000;
  switch (message.type) {
    case "welcome":
      attempts = 0;
      $("connection").hidden = true;
      if (liveFrom === null) liveFrom = message.seq;
      caughtUp = lastSeq >= message.seq;
      $("chat-log").textContent = "";
      for (const m of message.chat) addChat(m);
      if (caughtUp) render();
      break;
    case "event":
      if (message.seq <= lastSeq) return; // seen already
      if (message.seq > lastSeq + 1) { // a gap: let the server resend from lastSeq
        socket.close();
        return;
      }
      lastSeq = message.seq;
      events.set(message.seq, message.event);
      applyEvent(message.event, message.seq);
      if (lastSeq >= liveFrom) caughtUp = true;
      if (caughtUp) render();
      break;
    case "activity": {
      const p = game.players.get(message.user);
      if (p) p.activity = { chars: message.chars, until: serverNow() + 3 };
      renderPlayers();
      renderTimer();
      break;
    }
    case "judging": {
      const p = game.players.get(message.user);
      if (p && p.judging !== null) judgingProgress(p, message);
      renderTimer();
      break;
    }
    case "chat":
      addChat(message);
      break;
    case "chat_deleted": {
      const li = $("chat-" + message.id);
      if (li) li.remove();
      break;
    }
    case "error":
      // Telemetry's refusals are the collector's business, not the player's.
      if (String(message.code).startsWith("telemetry_")) {
        if (tracker) tracker.refused(message.code);
        break;
      }
      showMessage(message.message);
      break;
    case "resync":
      socket.close();
      break;
  }
}

// ---- The player's editor, submissions and actions.

let editor = null;
let results = null;
let judging = false;
let language = "python";
let codeTimer = null;
let tracker = null; // editor telemetry (telemetry.js), sent on this socket

function renderControls() {
  if (!isPlayer) return;
  const running = game.state === "running" && socket !== null;
  const mine = game.players.get(me);
  const playing = running && mine && !mine.gave_up;
  $("submit").disabled = !playing || judging;
  $("run-samples").disabled = !playing || judging;
  $("give-up").disabled = !playing && !(game.state === "countdown" && socket);
}

function draftKey(lang) {
  return "cb.match." + matchId + "." + lang;
}

function draft(lang) {
  try { return localStorage.getItem(draftKey(lang)); } catch (e) { return null; }
}

// Stores the draft now; tells the server (for the replay; others see only activity) after
// a second without changes.
function codeChanged() {
  if (!editor) return;
  try { localStorage.setItem(draftKey(language), editor.getValue()); } catch (e) { /* full */ }
  clearTimeout(codeTimer);
  codeTimer = setTimeout(() => {
    if (game.state === "running") send({ type: "code", language, code: editor.getValue() });
  }, 1000);
}

async function submit(kind) {
  if ($("submit").disabled) return;
  if (tracker) { // the editor's telemetry leaves before the submission
    if (kind === "samples") tracker.run();
    tracker.flush();
  }
  const body = { problem: data.slug, language, code: editor.getValue(), kind };
  body.match = matchId; // a run in a duel is judged as the race it is part of
  judging = true;
  renderControls();
  results.reset();
  try {
    const reply = await fetch("/api/submissions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const json = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error((json.error && json.error.message) || text.server_error);
    Judging.follow(json.id, results, () => {
      judging = false;
      renderControls();
    });
  } catch (e) {
    judging = false;
    renderControls();
    results.error(e.message || text.server_error);
  }
}

if (isPlayer) {
  results = new Judging.Results(text);
  const select = $("language");
  try { language = localStorage.getItem("cb.language") || language; } catch (e) { /* private */ }
  // The remembered language unless this problem does not accept it (problem.yaml `languages`).
  if (!data.templates[language]) language = data.templates.python ? "python" : select.options[0].value;
  select.value = language;
  editor = CodeBattleEditor.create($("editor"), {
    language,
    doc: draft(language) || data.templates[language] || "",
    onSubmit: () => submit("submit"),
    onChange: codeChanged,
  });
  if (window.CodeBattleTelemetry) {
    tracker = CodeBattleTelemetry.start({
      editor: $("editor"), statement: $("statement"),
      now: () => Date.now() + clockOffset * 1000,
      send: CodeBattleTelemetry.socket(send),
    });
  }
  select.addEventListener("change", () => {
    language = select.value;
    try { localStorage.setItem("cb.language", language); } catch (e) { /* private */ }
    editor.setLanguage(language);
    editor.setValue(draft(language) || data.templates[language] || "");
  });
  $("submit").addEventListener("click", () => submit("submit"));
  $("run-samples").addEventListener("click", () => submit("samples"));
  $("give-up").addEventListener("click", () => {
    const before = game.state === "waiting" || game.state === "countdown";
    if (confirm(before ? text.give_up_confirm_countdown : text.give_up_confirm)) send({ type: "give_up" });
  });
  $("rematch").addEventListener("click", () => {
    if (send({ type: "rematch" })) $("rematch").disabled = true;
  });
}

connect();
