// Random identifiers for events, sessions and anonymous visitors.

export function uuid() {
  const c = window.crypto;
  if (c && c.randomUUID) return c.randomUUID(); // secure contexts only
  const bytes = c && c.getRandomValues ? c.getRandomValues(new Uint8Array(16)) : new Uint8Array(16).map(() => Math.random() * 256);
  bytes[6] = (bytes[6] & 15) | 64; // version 4
  bytes[8] = (bytes[8] & 63) | 128; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => (b + 256).toString(16).slice(1)).join("");
  return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
}
