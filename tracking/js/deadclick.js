// A dead click: something that looks clickable was clicked and nothing happened —
// no DOM change, no scroll, no focus moving elsewhere, no input, no navigation —
// within 2.5 seconds.

const CLICKABLE = "a,button,[role=button],input[type=submit],input[type=button],summary,label,[onclick]";
const WAIT_MS = 2500;

let timer = 0;
let clicked = null;
let observer = null;

function stopWatching() {
  clearTimeout(timer);
  timer = 0;
  if (observer) observer.disconnect();
}

/** Anything the page did in response: the pending click was not dead. */
export function pageResponded(event) {
  // Focus landing on the clicked element itself is the click, not a response to it.
  if (timer && !(event && event.type === "focusin" && event.target === clicked)) stopWatching();
}

export function watchForDeadClick(event, elements, report) {
  const target = event.target.closest && event.target.closest(CLICKABLE);
  // A link opening another tab leaves this page as it was, by design.
  if (!target || !elements || (target.target && target.target !== "_self")) return;
  stopWatching();
  clicked = target;
  observer = observer || new MutationObserver(pageResponded);
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  timer = setTimeout(() => {
    stopWatching();
    report(elements);
  }, WAIT_MS);
}

export function startDeadClicks() {
  for (const type of ["scroll", "focusin", "input", "change", "hashchange", "popstate", "pagehide"]) {
    addEventListener(type, pageResponded, { capture: true, passive: true });
  }
}
