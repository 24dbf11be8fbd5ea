// The event queue: batched every few seconds or at 50 events, sent in order, retried
// with jittered exponential backoff on network errors and 5xx, and after Retry-After
// on 429. Other 4xx answers mean the batch can never succeed: it is dropped.
import { post, postWhileLeaving } from "./transport.js";

const BATCH_SIZE = 50;
const INTERVAL_MS = 3000;
const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 60000;

const queue = [];
let endpoint = "";
let apiKey = "";
let ready = Promise.resolve();
let timer = 0;
let sending = null;
let failures = 0;
let blockedUntil = 0;
let stopped = false;
let inFlight = null; // the batch being sent by an ordinary fetch, which an unload would cancel

/** `before` resolves when sending may start (the first decide answer, or a timeout). */
export function configureQueue(url, key, before) {
  endpoint = url;
  apiKey = key;
  ready = before;
}

function body(batch) {
  return JSON.stringify({ api_key: apiKey, sent_at: new Date().toISOString(), batch });
}

function sendIn(ms) {
  clearTimeout(timer);
  timer = setTimeout(flush, ms);
}

export function enqueue(event) {
  if (stopped) return;
  queue.push(event);
  if (queue.length >= BATCH_SIZE) flush();
  else if (!timer) sendIn(INTERVAL_MS);
}

/** Drop what is queued; with `forever`, also refuse everything from now on. */
export function clearQueue(forever) {
  queue.length = 0;
  stopped = stopped || !!forever;
}

const backoff = () => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures) * (0.5 + Math.random() / 2);

/** One POST of one batch: 0 when done with it (stored or refused), else ms to wait before retrying. */
async function attempt(batch) {
  let response;
  inFlight = batch;
  try {
    // A hidden page may be frozen or discarded without another event: only then keepalive.
    response = await post(endpoint, body(batch), true, document.hidden);
  } catch (e) {
    return backoff();
  } finally {
    inFlight = null;
  }
  if (response.status === 429) {
    // Retry-After is readable cross-origin only when the API exposes it.
    const seconds = parseFloat(response.headers.get("Retry-After"));
    const wait = seconds >= 0 ? seconds * 1000 : backoff();
    blockedUntil = Date.now() + wait; // even flush() waits: the server asked for it
    return wait || 1;
  }
  return response.status >= 500 ? backoff() : 0;
}

async function drain() {
  await ready;
  while (queue.length && !stopped) {
    const wait = blockedUntil - Date.now();
    if (wait > 0) return sendIn(wait);
    const batch = queue.splice(0, BATCH_SIZE);
    const delay = await attempt(batch);
    if (!delay) {
      failures = 0;
    } else if (++failures < MAX_ATTEMPTS) {
      queue.unshift(...batch); // keep the order: this batch goes first again
      return sendIn(delay);
    } else {
      failures = 0; // give up on this batch, carry on with the next
    }
  }
}

/** Send everything queued now; resolves once the queue is empty or waiting to retry. */
export function flush() {
  clearTimeout(timer);
  timer = 0;
  if (!sending) {
    const done = () => {
      sending = null;
    };
    sending = drain().then(done, done);
  }
  return sending;
}

/**
 * The page is being hidden or going away: hand everything queued to the browser to deliver,
 * with the batch in flight, if any (its plain fetch dies with the page; the server stores
 * an event once by its uuid, so a batch that arrives twice is harmless).
 */
export function flushWhileLeaving() {
  clearTimeout(timer);
  timer = 0;
  if (inFlight && !stopped) postWhileLeaving(endpoint, body(inFlight));
  inFlight = null;
  while (queue.length && !stopped) postWhileLeaving(endpoint, body(queue.splice(0, BATCH_SIZE)));
}
