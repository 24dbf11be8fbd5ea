// A rage click: three clicks within one second, each within 30 px of the latest.

const WINDOW_MS = 1000;
const RADIUS_PX = 30;

let recent = [];

/** Record a click; true exactly once per burst, on its third click. */
export function isRageClick(event, now) {
  const x = event.clientX;
  const y = event.clientY;
  recent = recent.filter((c) => now - c.t <= WINDOW_MS && Math.hypot(c.x - x, c.y - y) <= RADIUS_PX);
  recent.push({ t: now, x, y });
  return recent.length === 3;
}
