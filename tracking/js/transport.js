// HTTP to the ingestion API. Bodies are sent as text/plain so that a cross-origin POST
// is a "simple" request: no CORS preflight, one round trip.

const KEEPALIVE_LIMIT = 60000; // browsers cap keepalive bodies at 64 KiB in flight

async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** POST `text`, gzipped (flagged by `?compression=gzip`) where the browser can. */
export async function post(url, text, compress) {
  let body = new TextEncoder().encode(text);
  if (compress && window.CompressionStream) {
    try {
      body = await gzip(text);
      url += "?compression=gzip";
    } catch (e) {
      // send it uncompressed
    }
  }
  return fetch(url, {
    method: "POST",
    body,
    headers: { "Content-Type": "text/plain" },
    credentials: "omit",
    keepalive: body.length < KEEPALIVE_LIMIT,
  });
}

/** While the page unloads: sendBeacon (plain text), else a keepalive fetch. */
export function postWhileLeaving(url, text) {
  const sent = navigator.sendBeacon && navigator.sendBeacon(url, new Blob([text], { type: "text/plain" }));
  if (!sent) post(url, text, false).catch(() => {});
}
