// The Sightline snippet:
//   <script src="https://HOST/static/sightline.js" data-key="pk_…" defer></script>
// Optional data-api-host (defaults to the origin the script came from), and
// data-hash-routes="off" for a site whose "#/…" hashes are not pages (see pageviews.js).
// It exposes window.sightline and autocaptures page views, clicks, changes and submits.
import { startAutocapture } from "./autocapture.js";
import { startDeadClicks, watchForDeadClick } from "./deadclick.js";
import { fetchDecide, getFlag, onFlags } from "./decide.js";
import { startEngageLoader } from "./engage_loader.js";
import { decided } from "./extensions.js";
import { uuid } from "./ids.js";
import {
  companyKey as savedCompanyKey,
  distinctId,
  initIdentity,
  isOptedOut,
  resetIdentity,
  setCompanyKey,
  setDistinctId,
  setOptedOut,
  touchSession,
} from "./identity.js";
import { pageProperties } from "./properties.js";
import { startPageviews } from "./pageviews.js";
import { clearQueue, configureQueue, enqueue, flush, flushWhileLeaving } from "./queue.js";
import { isRageClick } from "./rageclick.js";
import { startRecordingLoader } from "./recording.js";

const FIRST_DECIDE_WAIT_MS = 3000;

function scriptTag() {
  return document.currentScript || document.querySelector("script[data-key]");
}

function capture(event, properties) {
  if (isOptedOut()) return;
  const now = Date.now();
  enqueue({
    uuid: uuid(),
    event,
    distinct_id: distinctId(),
    timestamp: new Date(now).toISOString(),
    session_id: touchSession(now),
    properties: Object.assign(pageProperties(), properties),
  });
}

function doNotTrack() {
  return navigator.doNotTrack === "1" || navigator.globalPrivacyControl === true;
}

function start(script) {
  const apiKey = script.getAttribute("data-key");
  const apiHost = (script.getAttribute("data-api-host") || new URL(script.src, location.href).origin).replace(/\/+$/, "");

  const decide = () =>
    fetchDecide(apiHost, apiKey, distinctId(), touchSession(Date.now()), savedCompanyKey()).then((answer) => {
      const config = answer.config || {};
      // A visitor who asked not to be tracked gets nothing more: no events, no extensions.
      if (config.respect_dnt && doNotTrack()) return clearQueue(true);
      decided(answer, api);
    });

  const api = {
    capture(name, properties) {
      if (typeof name === "string" && name) capture(name, Object.assign({}, properties));
    },
    identify(id, traits) {
      if (id == null || id === "") return;
      const previous = distinctId();
      id = String(id);
      if (id === previous && !traits) return;
      setDistinctId(id);
      capture("$identify", { $anon_distinct_id: previous, $set: Object.assign({}, traits) });
      decide();
    },
    group(companyKey, traits) {
      if (companyKey == null || companyKey === "") return;
      const key = String(companyKey);
      const changed = key !== savedCompanyKey();
      setCompanyKey(key);
      capture("$groupidentify", { $group_key: key, $group_set: Object.assign({}, traits) });
      // flags rolled out by company, or aimed at company segments, answer for the new company
      if (changed) decide();
    },
    reset() {
      resetIdentity();
      decide();
    },
    optOut() {
      setOptedOut(true);
      clearQueue();
    },
    optIn() {
      setOptedOut(false);
    },
    flush,
    isFeatureEnabled: (key) => !!getFlag(key),
    getFlag,
    onFlags,
  };

  initIdentity(apiKey);
  startRecordingLoader(apiHost, apiKey);
  startEngageLoader(script.src);
  // Nothing is sent before the first decide answer (it may say "respect Do Not Track"),
  // but a slow answer does not hold events back for long.
  const firstDecide = decide();
  configureQueue(
    apiHost + "/i/v1/batch",
    apiKey,
    Promise.race([firstDecide, new Promise((resolve) => setTimeout(resolve, FIRST_DECIDE_WAIT_MS))]),
  );
  startDeadClicks();
  startPageviews(capture, flushWhileLeaving, !/^(off|false)$/i.test(script.getAttribute("data-hash-routes")));
  startAutocapture(capture, (event, elements) => {
    if (!elements) return;
    if (isRageClick(event, Date.now())) capture("$rageclick", { $elements: elements });
    watchForDeadClick(event, elements, (chain) => capture("$dead_click", { $elements: chain }));
  });
  addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flushWhileLeaving());
  window.sightline = api;
}

const script = scriptTag();
if (!window.sightline && script && script.getAttribute("data-key")) start(script);
