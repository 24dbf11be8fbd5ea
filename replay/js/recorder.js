// The session recorder (rrweb), loaded by the snippet only for sessions the server chose to
// record (tracking/js/recording.js). It defines window.sightlineRecorder(options).
//
// Privacy: every input is masked unless the project unmasks inputs, and passwords are masked
// even then; the project can mask all text; elements with class sl-block are blocked (a
// placeholder of the same size), sl-ignore inputs are not recorded, sl-mask text is masked,
// and sl-no-capture / data-sl-no-capture regions are blocked like everywhere in the snippet.
// No canvas, no cross-origin iframes, no scripts or comments in the snapshot.
import { record } from "@rrweb/record";
import { createSender } from "./sender.js";

const FULL_SNAPSHOT_EVERY_MS = 5 * 60 * 1000;
const IDLE_MS = 5 * 60 * 1000;
const TOUCH_EVERY_MS = 10000;
// A page that adds this many nodes in one mutation batch is pathological (an endless
// list, a runaway script): recording it would cost the visitor more than it is worth.
const MAX_ADDED_NODES = 10000;
// rrweb incremental sources that are the visitor's own input: mouse move, mouse
// interaction, scroll, input, touch move, drag.
const INPUT_SOURCES = [1, 2, 3, 5, 6, 12];
const INCREMENTAL = 3;
const META = 4;
const FULL_SNAPSHOT = 2;
const CUSTOM = 5;

function start({ endpoint, apiKey, config, ids, touch, optedOut }) {
  let stopRecording = null;
  let stopped = false;
  let lastInput = Date.now();
  let lastTouch = 0;
  let idle = false;
  let waking = false;
  let href = location.href;

  const snapshot = () => {
    try {
      if (!stopped) record.takeFullSnapshot(true);
    } catch (e) {
      // not recording (any more)
    }
  };

  function stop() {
    stopped = true;
    if (stopRecording) setTimeout(stopRecording);
  }

  const sender = createSender({
    endpoint,
    apiKey,
    ids,
    onStop: stop,
    onNewSession: () => setTimeout(snapshot),
  });

  const custom = (tag, payload) => ({ type: CUSTOM, data: { tag, payload }, timestamp: Date.now() });

  function emit(event) {
    if (stopped) return;
    if (optedOut()) {
      stop();
      sender.stop();
      return;
    }
    const now = Date.now();
    const data = event.data || {};
    const incremental = event.type === INCREMENTAL;
    if (incremental && data.source === 0 && data.adds && data.adds.length > MAX_ADDED_NODES) {
      // Kill switch: say why in the recording, send what we have, record nothing more.
      sender.push(custom("sightline/recording-stopped", { reason: "mutation flood", added: data.adds.length }));
      sender.flush();
      stop();
      return;
    }
    const input = incremental && INPUT_SOURCES.indexOf(data.source) >= 0;
    if (input && now - lastTouch > TOUCH_EVERY_MS) {
      lastTouch = now;
      touch(); // input keeps the analytics session alive, like a captured event does
    }
    if (idle) {
      // Idle: nothing is sent. The first input asks for a fresh full snapshot (what
      // changed meanwhile was not sent), and recording resumes with its meta event.
      if (event.type === META && waking) {
        idle = waking = false;
        lastInput = now;
      } else {
        if (input && !waking) {
          waking = true;
          setTimeout(snapshot);
        }
        return;
      }
    } else if (input) {
      lastInput = now;
    } else if (now - lastInput > IDLE_MS) {
      idle = true;
      sender.flush();
      return;
    }
    if (event.type === META) {
      href = data.href;
    } else if (location.href !== href) {
      // rrweb has no event for a single-page-app navigation: note it for the page count
      href = location.href;
      sender.push(custom("$url", { href }));
    }
    sender.push(event);
    // A page's first snapshot goes at once, while the page is surely still there.
    if (event.type === FULL_SNAPSHOT) sender.flush();
  }

  const maskAllInputs = config.mask_all_inputs !== false;
  stopRecording = record({
    emit,
    checkoutEveryNms: FULL_SNAPSHOT_EVERY_MS,
    maskAllInputs,
    // with inputs unmasked, passwords still are
    maskInputOptions: maskAllInputs ? undefined : { password: true },
    maskTextClass: "sl-mask",
    maskTextSelector: config.mask_all_text ? "*" : undefined,
    blockClass: "sl-block",
    blockSelector: ".sl-no-capture,[data-sl-no-capture]",
    ignoreClass: "sl-ignore",
    slimDOMOptions: "all",
    recordCanvas: false,
    recordCrossOriginIframes: false,
    collectFonts: false,
    inlineImages: false,
    sampling: { mousemove: 50, mouseInteraction: true, scroll: 150, media: 800, input: "last" },
  });
  if (!stopRecording) return;
  addEventListener("pagehide", () => sender.leaving());
  addEventListener("visibilitychange", () => document.visibilityState === "hidden" && sender.flush());
}

window.sightlineRecorder = (options) => {
  if (window.sightlineRecorder.started) return;
  window.sightlineRecorder.started = true;
  try {
    start(options);
  } catch (e) {
    // the page must never break because its recording did
  }
};
