// The replay: a scrubber over the game's time; both players' code and the events as they
// were at that moment. Code comes from the stored snapshots and the submissions.
import { FEED, fmt } from "/static/battle.js";
const data = JSON.parse(document.getElementById("page-data").textContent);
const { match, events, snapshots, submissions } = data.replay;
const text = data.text;
const $ = (id) => document.getElementById(id);
const names = new Map(match.players.map((p) => [p.id, p.nickname]));
const STEP = 10; // scrubber steps per second

// Each player's code over time: snapshots and submitted code, in time order.
const codes = new Map(match.players.map((p) => [p.id, []]));
for (const s of snapshots) codes.get(s.user)?.push(s);
for (const s of submissions) if (s.code !== null) codes.get(s.user)?.push(s);
for (const list of codes.values()) list.sort((a, b) => a.at - b.at);

const moments = [...events, ...snapshots, ...submissions].map((x) => x.at);
const first = Math.min(...moments);
const last = Math.max(...moments);
const started = events.find((e) => e.type === "started");
const zero = started ? started.at : first; // times are shown from the start of play

const scrubber = $("scrubber");
scrubber.max = Math.max(0, Math.ceil((last - first) * STEP));
scrubber.value = scrubber.max;

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
show();
