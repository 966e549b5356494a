// What the arena and the replay share: message templates and the match events' texts.

// "{name} solved" with {name: "ana"} -> "ana solved"; unknown fields stay as they are.
export const fmt = (s, params) => s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));

// The translation key of each match event's line in the feed.
export const FEED = {
  joined: "ev_joined", ready: "ev_ready", countdown: "ev_countdown", started: "ev_started",
  submitted: "ev_submitted", result: "ev_result", gave_up: "ev_gave_up",
  disconnected: "ev_disconnected", reconnected: "ev_reconnected", finished: "ev_finished",
  cancelled: "ev_cancelled", rated: "ev_rated", rematch_offered: "ev_rematch_offered",
  rematch_accepted: "ev_rematch_accepted", rematch_created: "ev_rematch_created",
  awaiting_verdicts: "ev_awaiting_verdicts", rating_held: "ev_rating_held",
  voided: "ev_voided", restored: "ev_restored",
};
