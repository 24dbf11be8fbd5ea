// A modal takes focus when it opens, keeps Tab and Shift+Tab inside itself, closes on
// Escape, and gives focus back to where it was when it closes.

const FOCUSABLE = "a[href],button:not([disabled]),input:not([disabled]),textarea:not([disabled])";

/** Returns `release()`, which stops trapping and restores focus. */
export function trapFocus(root, dialog, onEscape) {
  // Focus inside our own shadow root shows in the document as the host.
  const previous = document.activeElement === root.host ? root.activeElement : document.activeElement;
  const items = () => Array.from(dialog.querySelectorAll(FOCUSABLE));

  function onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // the modal is on top: the page's own Escape handlers wait
      onEscape();
      return;
    }
    if (event.key !== "Tab") return;
    const list = items();
    const active = root.activeElement;
    const index = list.indexOf(active);
    let next = null;
    if (!active || !dialog.contains(active)) next = event.shiftKey ? list[list.length - 1] : list[0];
    else if (event.shiftKey && index <= 0) next = list[list.length - 1];
    else if (!event.shiftKey && index === list.length - 1) next = list[0];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  }

  function onFocus(event) {
    // Focus that reaches the page behind the modal (a click, assistive technology) comes back.
    if (event.target !== root.host) dialog.focus();
  }

  addEventListener("keydown", onKey, true);
  addEventListener("focusin", onFocus, true);
  dialog.focus();
  return () => {
    removeEventListener("keydown", onKey, true);
    removeEventListener("focusin", onFocus, true);
    if (previous && previous.focus && previous.isConnected) previous.focus();
  };
}
