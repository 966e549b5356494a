// After a game: "Report opponent" (a dialog: a reason, optional words) and the note that a
// result is under review. arena.js hands every match event it applies, live or replayed
// from the log on (re)connecting, to `match:event` listeners; this file reacts to two of
// them: `finished` shows the report button, `rating_held` the review note (until a later
// `rated`). Its texts come from the page (templates/_report_dialog.html, arena.html).
const $ = (id) => document.getElementById(id);
const box = $("report-box");
const dialog = $("report-dialog");
const held = $("rating-held");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
let checked = false;

document.addEventListener("match:event", (e) => {
  const event = e.detail && e.detail.event;
  if (!event) return;
  if (event.type === "rating_held" && held) held.hidden = false;
  // An operator decided: rated after all, or voided (the feed says so).
  if ((event.type === "rated" || event.type === "voided") && held) held.hidden = true;
  if (event.type === "finished" && box && !checked) {
    checked = true;
    showReport();
  }
});

async function showReport() {
  try { // already reported (another tab, an earlier visit): say so instead of offering it
    const reply = await fetch("/api/matches/" + box.dataset.match + "/report", { headers: { Accept: "application/json" } });
    const json = reply.ok ? await reply.json() : {};
    if (json.reported) return done(false);
  } catch (err) { /* offered anyway: the server refuses a second report */ }
  box.hidden = false;
}

function done(focus) {
  box.hidden = false;
  $("report-open").hidden = true;
  $("report-done").hidden = false;
  if (focus) $("report-done").focus();
}

function showError(message) {
  const line = $("report-error");
  line.textContent = message;
  line.hidden = false;
}

if (box && dialog) {
  $("report-open").addEventListener("click", () => {
    $("report-error").hidden = true;
    dialog.showModal();
    const first = dialog.querySelector('input[name="reason"]');
    if (first) first.focus();
  });
  $("report-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if ($("report-open").hidden) $("report-done").focus();
    else $("report-open").focus();
  });
  $("report-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = dialog.querySelector('input[name="reason"]:checked');
    if (!chosen) {
      showError(dialog.dataset.choose);
      $("report-reasons").querySelector("input").focus();
      return;
    }
    const send = $("report-send");
    send.disabled = true;
    const label = send.textContent;
    send.textContent = dialog.dataset.sending;
    try {
      const reply = await fetch("/api/matches/" + box.dataset.match + "/report", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ reason: chosen.value, text: $("report-text").value }),
      });
      const json = await reply.json().catch(() => ({}));
      const code = json.error && json.error.code;
      if (reply.ok || code === "already_reported") {
        done(false);
        dialog.close();
        return;
      }
      showError((json.error && json.error.message) || dialog.dataset.failed);
    } catch (err) {
      showError(dialog.dataset.failed);
    } finally {
      send.disabled = false;
      send.textContent = label;
    }
  });
}
