// Banners at the top push the host page down instead of covering its header.
//
// The banner stack sits at the very top of the document (not of the viewport) and the
// page's root element gets that much more top padding, so the site's own header, sticky
// or not, starts below the banners and scrolls up to the top as usual; the banners
// scroll away with the page like any announcement bar. Only CSSOM properties are set:
// a site whose Content-Security-Policy forbids inline styles allows them.

let stack = null;
let basePadding = null;
let observer = null;

function layout() {
  const html = document.documentElement;
  const height = stack && stack.isConnected ? stack.getBoundingClientRect().height : 0;
  if (basePadding === null) basePadding = parseFloat(getComputedStyle(html).paddingTop) || 0;
  if (height) html.style.setProperty("padding-top", `${basePadding + height}px`, "important");
  else html.style.removeProperty("padding-top");
  if (!stack) return;
  // The stack is positioned against the document's top; a positioned or offset body would
  // move it, so measure where it landed and correct by the difference.
  stack.style.top = "0px";
  const offset = stack.getBoundingClientRect().top + window.scrollY;
  if (Math.abs(offset) >= 1) stack.style.top = `${-offset}px`;
}

/** Keep the page pushed down by the height of `top`, the banner stack, as it changes. */
export function pushPage(top) {
  if (stack === top) return layout();
  stack = top;
  if (typeof ResizeObserver === "function") {
    observer = new ResizeObserver(layout);
    observer.observe(top);
  }
  window.addEventListener("resize", layout);
  layout();
}

/** Re-measure now (a banner came or went). */
export const relayout = layout;
