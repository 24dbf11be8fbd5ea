// HTTP to the ingestion API. Bodies are sent as text/plain so that a cross-origin POST
// is a "simple" request: no CORS preflight, one round trip.
//
// Browser-automation suites (Playwright, Puppeteer) wait for "network idle": every
// request reported finished, which Chromium never reports for a fetch whose answer is
// left unread. So every answer is read, ordinary requests are plain fetches, and only
// what is sent while the page is hidden or going away asks the browser to outlive the
// page (keepalive fetch, sendBeacon), within the 64 KiB browsers allow those in flight.

const KEEPALIVE_LIMIT = 60000; // browsers cap keepalive bodies at 64 KiB in flight

async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * POST `text`, gzipped (flagged by `?compression=gzip`) where the browser can; with
 * `keepalive`, the request outlives the page when its body fits the browser's limit.
 * Resolves with the answer's `ok`, `status`, `headers` and `json()`, its body read.
 */
export async function post(url, text, compress, keepalive) {
  let body = new TextEncoder().encode(text);
  if (compress && window.CompressionStream) {
    try {
      body = await gzip(text);
      url += "?compression=gzip";
    } catch (e) {
      // send it uncompressed
    }
  }
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "Content-Type": "text/plain" },
    credentials: "omit",
    keepalive: !!keepalive && body.length < KEEPALIVE_LIMIT,
  });
  // read even when nobody needs it, or the request never counts as finished (see above)
  const answer = await response.text();
  return { ok: response.ok, status: response.status, headers: response.headers, json: () => JSON.parse(answer) };
}

/** While the page is hidden or unloads: sendBeacon (plain text), else a keepalive fetch. */
export function postWhileLeaving(url, text) {
  const sent = navigator.sendBeacon && navigator.sendBeacon(url, new Blob([text], { type: "text/plain" }));
  if (!sent) post(url, text, false, true).catch(() => {});
}
