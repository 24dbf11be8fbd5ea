// A tooltip stays beside its anchor while the page scrolls or resizes: below it when
// there is room, above it otherwise, always inside the viewport. It hides while the
// anchor is not rendered and goes away when the anchor leaves the page.

const GAP = 8;

/** Whether the element is on the page and rendered (not display:none). */
export const rendered = (el) => !!el && el.isConnected && el.getClientRects().length > 0;

/** Returns `unpin()`; `lost()` runs when the anchor leaves the page. */
export function pin(box, anchor, lost) {
  let frame = 0;

  function place() {
    frame = 0;
    if (!anchor.isConnected) return lost();
    box.hidden = !rendered(anchor);
    if (box.hidden) return;
    const rect = anchor.getBoundingClientRect();
    const width = box.offsetWidth;
    const height = box.offsetHeight;
    const above = rect.top - GAP - height;
    const below = rect.bottom + GAP;
    box.style.left = Math.max(GAP, Math.min(rect.left, innerWidth - width - GAP)) + "px";
    box.style.top = (below + height > innerHeight && above >= 0 ? above : below) + "px";
  }

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(place);
  };
  addEventListener("scroll", schedule, { capture: true, passive: true });
  addEventListener("resize", schedule);
  place();
  return () => {
    cancelAnimationFrame(frame);
    removeEventListener("scroll", schedule, { capture: true });
    removeEventListener("resize", schedule);
  };
}
