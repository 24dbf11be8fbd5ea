// Delivery of recording chunks to /i/v1/recording: events are serialised once, as they
// arrive, and cut into chunks every few seconds or at about 1 MB. Chunks go in order,
// gzipped, retried like the event queue (network errors and 5xx with jittered backoff,
// 429 after Retry-After, other 4xx dropped); 401/403 mean the server will take no more
// of this session, so the recorder stops. On pagehide what is left goes by sendBeacon;
// while the page is hidden, chunks go as keepalive fetches, else as plain ones.
import { post, postWhileLeaving } from "../../tracking/js/transport.js";
import { load, save } from "../../tracking/js/storage.js";

const FLUSH_MS = 5000;
const CHUNK_CHARS = 900000; // under the server's 1 MB limit even when sent uncompressed
const BEACON_CHARS = 60000; // browsers cap beacons and keepalive bodies at 64 KB in flight
const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 60000;
const MAX_PENDING = 30;

export function createSender({ endpoint, apiKey, ids, onStop, onNewSession }) {
  const seqKey = "sl_rec_" + apiKey;
  let parts = [];
  let size = 0;
  let timer = 0;
  const pending = [];
  let sending = null;
  let failures = 0;
  let blockedUntil = 0;
  let session = "";
  let stopped = false;

  // One counter per session across pages and tabs (first-party storage), so chunk
  // numbers never repeat within a recording: the server keeps one chunk per seq.
  function nextSeq(sessionId) {
    const state = load(seqKey);
    const seq = state.s === sessionId && state.n >= 0 ? state.n : 0;
    save(seqKey, { s: sessionId, n: seq + 1 });
    return seq;
  }

  function cut() {
    if (!parts.length) return;
    const current = ids();
    // A session that ended while these events were gathered keeps them; the new
    // session's recording starts with a full snapshot of its own.
    if (session && current.session_id !== session) onNewSession();
    const sessionId = session || current.session_id;
    session = current.session_id;
    if (!sessionId) {
      parts = [];
      size = 0;
      return;
    }
    pending.push({
      head:
        '{"api_key":' + JSON.stringify(apiKey) + ',"session_id":' + JSON.stringify(sessionId) +
        ',"distinct_id":' + JSON.stringify(current.distinct_id) + ',"seq":' + nextSeq(sessionId),
      events: parts.join(","),
    });
    parts = [];
    size = 0;
    if (pending.length > MAX_PENDING) stop(); // the server has been unreachable for long
  }

  const body = (chunk) => chunk.head + ',"sent_at":"' + new Date().toISOString() + '","events":[' + chunk.events + "]}";
  const backoff = () => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures) * (0.5 + Math.random() / 2);

  async function attempt(chunk) {
    let response;
    try {
      // keepalive only while the page is hidden: it may be frozen or discarded next
      response = await post(endpoint, body(chunk), true, document.hidden);
    } catch (e) {
      return backoff();
    }
    const status = response.status;
    if (status === 429) {
      const seconds = parseFloat(response.headers.get("Retry-After"));
      const wait = seconds >= 0 ? seconds * 1000 : backoff();
      blockedUntil = Date.now() + wait;
      return wait || 1;
    }
    if (status === 401 || status === 403) stop();
    return status >= 500 ? backoff() : 0;
  }

  async function drain() {
    while (pending.length && !stopped) {
      const wait = blockedUntil - Date.now();
      if (wait > 0) return schedule(wait);
      const delay = await attempt(pending[0]);
      if (!delay) {
        failures = 0;
        pending.shift();
      } else if (++failures < MAX_ATTEMPTS) {
        return schedule(delay);
      } else {
        failures = 0;
        pending.shift(); // give up on this chunk, carry on with the next
      }
    }
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(flush, ms);
  }

  function flush() {
    clearTimeout(timer);
    timer = 0;
    cut();
    if (!sending) {
      const done = () => {
        sending = null;
      };
      sending = drain().then(done, done);
    }
    return sending;
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    pending.length = 0;
    parts = [];
    clearTimeout(timer);
    onStop();
  }

  return {
    push(event) {
      if (stopped) return;
      const text = JSON.stringify(event);
      if (size && size + text.length > CHUNK_CHARS) cut();
      parts.push(text);
      size += text.length;
      if (size >= CHUNK_CHARS) flush();
      else if (!timer) schedule(FLUSH_MS);
    },
    flush,
    stop,
    /** The page is going away: hand what is left to the browser, in beacon-sized chunks. */
    leaving() {
      clearTimeout(timer);
      timer = 0;
      let batch = [];
      let chars = 0;
      const all = parts;
      parts = [];
      for (const text of all) {
        if (chars && chars + text.length > BEACON_CHARS) {
          parts = batch;
          cut();
          batch = [];
          chars = 0;
        }
        batch.push(text);
        chars += text.length;
      }
      parts = batch;
      cut();
      while (pending.length && !stopped) postWhileLeaving(endpoint, body(pending.shift()));
    },
  };
}
