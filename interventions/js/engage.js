// In-app nudges and surveys. The snippet loads this bundle (tracking/js/engage_loader.js)
// only when a decide answer has some, calls `window.sightlineEngage(api)` with its public
// API, and passes every decide answer to the function that returns.
//
// What is on screen follows the page: an entry shows when its URL rule matches
// location.href, and re-checks on every single-page-app navigation. Each entry shows at
// most once per page load (the server's frequency rules decide the next page loads);
// a held-out entry shows nothing and records `$<kind>_held_out` once. At most one modal
// and one survey are on screen at a time; the next waits for it to close. Banners stack.
// An entry marked `preview` (decide adds it for a preview link) shows and records nothing.
import { onNavigate } from "./navigation.js";
import { showNudge } from "./nudges.js";
import { showSurvey } from "./survey.js";
import { urlMatches } from "./urls.js";

// How long after a page view a tooltip waits for its anchor to appear (apps render late).
const ANCHOR_WAIT_MS = 2000;

const entries = (list, prefix) =>
  (Array.isArray(list) ? list : []).filter((item) => item && typeof item.id === "number").map((item) => [prefix + item.id, item]);

function start(api) {
  let items = new Map(); // "n12" / "s3" -> entry of the latest answer
  const handled = new Set(); // shown or reported held out during this page load
  const visible = new Map(); // key -> {item, slot, remove}
  let href = location.href;
  let anchorsUntil = Date.now() + ANCHOR_WAIT_MS;
  let timer = 0;

  const later = () => {
    if (!timer) timer = setTimeout(check, 50);
  };
  const observer = new MutationObserver(() => (Date.now() < anchorsUntil ? later() : observer.disconnect()));

  function report(event, properties, extra) {
    api.capture(event, Object.assign({}, properties, extra));
    // An answer is the point of a survey: it leaves now rather than with the next batch.
    if (event === "$survey_response") api.flush();
  }

  function check() {
    clearTimeout(timer);
    timer = 0;
    const url = location.href;
    let waiting = false;
    for (const view of visible.values()) if (!urlMatches(view.item, url)) view.remove();
    for (const [key, item] of items) {
      if (handled.has(key) || !urlMatches(item, url)) continue;
      const nudge = key[0] === "n";
      const properties = nudge ? { $nudge_id: item.id } : { $survey_id: item.id, $survey: item.key };
      if (item.held_out) {
        handled.add(key);
        report(nudge ? "$nudge_held_out" : "$survey_held_out", properties);
        continue;
      }
      const slot = nudge ? (item.kind === "modal" ? "modal" : "") : "survey";
      if (slot && Array.from(visible.values()).some((view) => view.slot === slot)) continue;
      // A preview (from a team member's preview link) shows but records nothing at all.
      const preview = item.preview === true;
      const remove = (nudge ? showNudge : showSurvey)(
        item,
        (event, extra) => preview || report(event, properties, extra),
        () => {
          visible.delete(key);
          later(); // whatever waited for this slot may show now
        },
      );
      if (!remove) {
        waiting = waiting || item.kind === "tooltip";
        continue;
      }
      handled.add(key);
      visible.set(key, { item, slot, remove });
      if (!preview) report(nudge ? "$nudge_shown" : "$survey_shown", properties);
    }
    if (waiting && Date.now() < anchorsUntil) observer.observe(document.documentElement, { childList: true, subtree: true });
    else observer.disconnect();
  }

  onNavigate(() => {
    if (location.href === href) return;
    href = location.href;
    anchorsUntil = Date.now() + ANCHOR_WAIT_MS;
    check();
  });

  // The latest answer is the whole truth (after identify, the previous visitor's entries
  // no longer apply); what is already on screen stays until closed or off its page.
  return (answer) => {
    items = new Map(entries(answer.nudges, "n").concat(entries(answer.surveys, "s")));
    check();
  };
}

if (!window.sightlineEngage) window.sightlineEngage = start;
