// The lobby: join the ranked queue (and follow it until paired), or start a game against
// the AI. API errors show in #lobby-error.
const data = JSON.parse(document.getElementById("page-data").textContent);
const text = data.text;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const errorBox = $("lobby-error");
let polling = null;

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
  if (!reply.ok) throw new Error((json.error && json.error.message) || text.server_error);
  return json;
}

function busy(on) {
  for (const id of ["ranked", "play-ai", "queue-ai"]) $(id).disabled = on;
}

function openMatch(id) {
  location.assign("/matches/" + id);
}

// Shows where the player stands in the queue; keeps polling while waiting.
function showQueue(status, first = false) {
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
    showError(e.message);
  }
}

$("ranked").addEventListener("click", async () => {
  errorBox.hidden = true;
  busy(true);
  try {
    showQueue(await api("POST", "/api/queue"));
  } catch (e) {
    showError(e.message);
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
