// The replay: a scrubber over the game's time; both players' code and the events as they
// were at that moment. The page comes with the log, the submissions and the first page of
// code (snapshots, then submitted code); the rest is fetched page by page (`next`), so a
// long game is never one huge response. The AI opponent's code is never sent.
import { FEED, fmt } from "/static/battle.js";
const data = JSON.parse(document.getElementById("page-data").textContent);
const { match, events, submissions } = data.replay;
const text = data.text;
const $ = (id) => document.getElementById(id);
const names = new Map(match.players.map((p) => [p.id, p.nickname]));
const ai = new Set(match.players.filter((p) => p.ai).map((p) => p.id));
const STEP = 10; // scrubber steps per second

// Each player's code over time (snapshots and submitted code, in time order), as the pages
// arrive.
const codes = new Map(match.players.map((p) => [p.id, []]));
const moments = [...events, ...submissions].map((x) => x.at);
let first = 0;
let last = 0;
const started = events.find((e) => e.type === "started");
let zero = 0; // times are shown from the start of play

function take(items) {
  for (const item of items) {
    if (item.code === null) item.code = text.code_missing_blob;
    codes.get(item.user)?.push(item);
    moments.push(item.at);
    if (item.kind === "submission") {
      const cell = $("submission-code-" + item.id);
      if (cell) cell.textContent = item.code;
    }
  }
  for (const list of codes.values()) list.sort((a, b) => a.at - b.at);
  first = Math.min(...moments);
  last = Math.max(...moments);
  zero = started ? started.at : first;
  const atEnd = Number(scrubber.value) >= Number(scrubber.max);
  scrubber.max = Math.max(0, Math.ceil((last - first) * STEP));
  if (atEnd) scrubber.value = scrubber.max;
}

const scrubber = $("scrubber");

function clock(seconds) {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.round(Math.abs(seconds));
  return sign + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function eventLine(e) {
  const li = document.createElement("li");
  li.className = "ev-" + e.type;
  li.dataset.seq = e.seq;
  const time = document.createElement("time");
  time.textContent = clock(e.at - zero);
  let line = fmt(text[FEED[e.type]] || e.type, {
    name: names.get(e.user) || "?",
    verdict: text["v_" + e.verdict] || e.verdict || "",
    passed: e.passed,
  });
  if (e.type === "finished") line += ": " + (e.winner === null ? text.result_draw : names.get(e.winner) || "?");
  li.append(time, " ", line);
  return li;
}

function show() {
  const moment = first + Number(scrubber.value) / STEP;
  $("replay-time").textContent = clock(moment - zero);
  for (const [user, list] of codes) {
    let current = null;
    for (const c of list) if (c.at <= moment + 1e-6) current = c;
    if (ai.has(user)) continue; // its code is never sent: the page says so
    $("code-" + user).textContent = current ? current.code : text.no_code_yet;
    $("code-lang-" + user).textContent = current ? current.language : "";
  }
  const log = $("replay-events");
  log.textContent = "";
  for (const e of events) if (e.at <= moment + 1e-6) log.append(eventLine(e));
}

// Play: advance one second of game time every 100 ms, from the start if at the end.
let playing = null;
const playButton = $("replay-play");
function stop() {
  clearInterval(playing);
  playing = null;
  playButton.textContent = playButton.dataset.play;
}
playButton.addEventListener("click", () => {
  if (playing) return stop();
  if (Number(scrubber.value) >= Number(scrubber.max)) scrubber.value = 0;
  playButton.textContent = playButton.dataset.pause;
  playing = setInterval(() => {
    scrubber.value = Math.min(Number(scrubber.max), Number(scrubber.value) + STEP);
    show();
    if (Number(scrubber.value) >= Number(scrubber.max)) stop();
  }, 100);
});

scrubber.addEventListener("input", show);
take(data.replay.code);
show();

// The remaining pages of code, one after the other.
async function rest(next) {
  const notice = $("replay-loading");
  while (next !== null) {
    notice.hidden = false;
    notice.textContent = text.replay_loading;
    let page;
    try {
      const url = `/api/matches/${match.id}/replay?after=${encodeURIComponent(next)}`;
      const reply = await fetch(url, { headers: { Accept: "application/json" } });
      if (!reply.ok) throw new Error(String(reply.status));
      page = await reply.json();
    } catch (err) {
      notice.textContent = text.replay_load_failed;
      return;
    }
    take(page.code);
    show();
    next = page.next;
  }
  notice.hidden = true;
  for (const cell of document.querySelectorAll("pre[id^='submission-code-']")) {
    if (cell.textContent === "…") cell.textContent = text.code_missing_blob;
  }
}
rest(data.replay.next);
