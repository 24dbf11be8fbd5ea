// Who is browsing and in which session. State lives in first-party storage under one
// key per project and is re-read on every use, so tabs of the same site agree.
import { uuid } from "./ids.js";
import { load, save } from "./storage.js";

const SESSION_IDLE_MS = 30 * 60 * 1000;

// d: distinct id, s: session id, t: last activity (ms), o: opted out, g: company key (group())
let state = {};
let storageKey = "";

function current() {
  return Object.assign(state, load(storageKey));
}

function update(change) {
  change(current());
  save(storageKey, state);
  return state;
}

export function initIdentity(apiKey) {
  storageKey = "sl_" + apiKey;
  update((s) => {
    if (!s.d) s.d = uuid();
  });
}

export const distinctId = () => current().d;

export const isOptedOut = () => !!current().o;

export function setOptedOut(value) {
  update((s) => {
    s.o = value ? 1 : 0;
  });
}

export function setDistinctId(id) {
  update((s) => {
    s.d = id;
  });
}

export const companyKey = () => current().g;

export function setCompanyKey(key) {
  update((s) => {
    s.g = key;
  });
}

/** The session id for activity now: a new one after 30 minutes without any. */
export function touchSession(now) {
  return update((s) => {
    if (!s.s || !(now - s.t < SESSION_IDLE_MS)) s.s = uuid();
    s.t = now;
  }).s;
}

/** Forget the visitor: a new anonymous id and a new session; the opt-out choice stays. */
export function resetIdentity() {
  update((s) => {
    s.d = uuid();
    s.s = uuid();
    s.t = Date.now();
    delete s.g;
  });
}
