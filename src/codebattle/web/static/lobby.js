// The lobby: join the ranked queue (and follow it until paired), or start a game against
// the AI. API errors show in #lobby-error.
const data = JSON.parse(document.getElementById("page-data").textContent);
const text = data.text;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const errorBox = $("lobby-error");
let polling = null;
// No game (ranked or vs AI) left today on the player's plan: those buttons stay disabled.
let gamesOut = data.games_out;
const GAME_BUTTONS = ["ranked", "play-ai", "queue-ai"];

function showError(message) {
  errorBox.textContent = message || text.server_error;
  errorBox.hidden = false;
}

// Calls the JSON API; resolves with the body, or rejects with the server's message.
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let reply;
  try {
    reply = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error(text.server_error);
  }
  const json = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const error = new Error((json.error && json.error.message) || text.server_error);
    error.code = json.error && json.error.code;
    throw error;
  }
  return json;
}

function busy(on) {
  for (const id of GAME_BUTTONS) $(id).disabled = on || gamesOut;
}

// The day's games used up (a 429 from the server, or a status saying 0 left): the message
// with the link to the plans, and the game buttons disabled.
function outOfGames(message) {
  gamesOut = true;
  if (message) $("games-out-text").textContent = message;
  $("games-out").hidden = false;
  for (const id of GAME_BUTTONS) {
    $(id).disabled = true;
    $(id).setAttribute("aria-describedby", "games-out");
  }
}

// Games left today, from a queue status (`games_left` null: unlimited).
function showGames(status) {
  if (!("games_left" in status)) return;
  $("games-left").textContent = status.games_left === null
    ? text.games_unlimited
    : text.games_left.replace("{left}", status.games_left).replace("{limit}", status.games_limit);
  if (status.games_left === 0 && status.state !== "waiting" && !gamesOut) outOfGames(null);
}

function failed(e) {
  if (e.code === "daily_games_used" || e.code === "daily_games_used_basic") outOfGames(e.message);
  else showError(e.message);
}

function openMatch(id) {
  location.assign("/matches/" + id);
}

// Shows where the player stands in the queue; keeps polling while waiting.
function showQueue(status, first = false) {
  showGames(status);
  if (status.state === "paired") {
    stopPolling();
    if (!first) openMatch(status.match);
    else { // opened the lobby while in a game: offer the way back
      $("current-game").href = "/matches/" + status.match;
      $("current-game-box").hidden = false;
    }
    return;
  }
  const waiting = status.state === "waiting";
  $("queue").hidden = !waiting;
  $("ranked").hidden = waiting;
  if (!waiting) {
    stopPolling();
    return;
  }
  $("queue-status").textContent = text.queue_status
    .replace("{seconds}", Math.round(status.waited))
    .replace("{rating}", status.rating)
    .replace("{window}", status.window);
  $("queue-ai").hidden = !status.ai_offer;
  if (!polling) polling = setInterval(poll, 1000);
}

function stopPolling() {
  if (polling) clearInterval(polling);
  polling = null;
}

async function poll() {
  try {
    showQueue(await api("GET", "/api/queue"));
  } catch (e) {
    showError(e.message);
  }
}

async function playAi() {
  errorBox.hidden = true;
  busy(true);
  try {
    const created = await api("POST", "/api/matches/ai", { level: $("ai-level").value });
    stopPolling();
    openMatch(created.id);
  } catch (e) {
    busy(false);
    failed(e);
  }
}

$("ranked").addEventListener("click", async () => {
  errorBox.hidden = true;
  busy(true);
  try {
    showQueue(await api("POST", "/api/queue"));
  } catch (e) {
    failed(e);
  }
  busy(false);
});

$("leave-queue").addEventListener("click", async () => {
  stopPolling();
  try {
    showQueue(await api("DELETE", "/api/queue"));
  } catch (e) {
    showError(e.message);
  }
});

$("play-ai").addEventListener("click", playAi);
$("queue-ai").addEventListener("click", playAi);

// Back on the page while queued: pick up where we were.
api("GET", "/api/queue").then((status) => showQueue(status, true), (e) => showError(e.message));
