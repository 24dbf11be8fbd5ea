// The decide call: which flags are on for this visitor and how the snippet should
// behave. Any failure counts as an empty answer, so a page never waits on it forever.
import { post } from "./transport.js";

let flags = null;
let latest = 0;
const flagListeners = [];

function notify(listener) {
  try {
    listener(Object.assign({}, flags));
  } catch (e) {
    // a site's callback must not break the snippet
  }
}

// A team member's preview link (`?sl_preview=<signed token>`): decide adds that nudge or
// survey, marked as a preview, and nothing about it is recorded.
function previewToken() {
  try {
    return new URLSearchParams(location.search).get("sl_preview") || undefined;
  } catch (e) {
    return undefined;
  }
}

/** Fetch the answer for `distinctId` (at company `companyKey`, if known); resolves with it
 * (possibly `{}`), never rejects. */
export async function fetchDecide(apiHost, apiKey, distinctId, sessionId, companyKey) {
  const call = ++latest;
  let answer = {};
  try {
    const body = { api_key: apiKey, distinct_id: distinctId, session_id: sessionId, preview: previewToken() };
    if (companyKey) body.groups = { company: companyKey };
    const response = await post(apiHost + "/i/v1/decide", JSON.stringify(body));
    if (response.ok) answer = (await response.json()) || {};
  } catch (e) {
    // no answer: no flags, default behaviour
  }
  if (call === latest) {
    // an older answer (before identify) must not overwrite a newer one
    flags = answer.flags && typeof answer.flags === "object" ? answer.flags : {};
    flagListeners.forEach(notify);
  }
  return answer;
}

export const getFlag = (key) => (flags ? flags[key] : undefined);

/** `callback(flags)` whenever flags arrive; at once when they already have. */
export function onFlags(callback) {
  flagListeners.push(callback);
  if (flags) notify(callback);
}
