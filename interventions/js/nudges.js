// A nudge on screen: a banner at the top of the page, a modal, or a tooltip beside the
// element its `anchor_selector` names. Each has a close button with an accessible name
// and an optional call to action.
import { h, text, ui, uid } from "./dom.js";
import { trapFocus } from "./focus.js";
import { pushPage, relayout } from "./push.js";
import { pin, rendered } from "./tooltip.js";
import { safeUrl } from "./urls.js";

function anchorOf(nudge) {
  try {
    const el = document.querySelector(nudge.anchor_selector);
    return rendered(el) ? el : null;
  } catch (e) {
    return null; // not a valid selector: nothing to point at
  }
}

/** A link (same tab) when the URL is safe to open, else a button that only records the click. */
function callToAction(nudge, onclick) {
  const label = text(nudge.cta_text);
  if (!label) return null;
  const href = safeUrl(nudge.cta_url);
  return href ? h("a", { class: "btn", href, onclick }, label) : h("button", { class: "btn", type: "button", onclick }, label);
}

/**
 * Show `nudge`; `report(event)` records what the visitor did, `removed()` runs once it is
 * gone. Returns `remove()` (taking it away without recording anything), or null when it
 * cannot show: a tooltip whose anchor is not on the page.
 */
export function showNudge(nudge, report, removed) {
  const kind = nudge.kind;
  const anchor = kind === "tooltip" ? anchorOf(nudge) : null;
  if (kind === "tooltip" ? !anchor : kind !== "banner" && kind !== "modal") return null;

  const { root, top } = ui();
  const titleId = uid();
  const bodyId = uid();
  let release = null;
  let el = null;
  const remove = () => {
    if (!el) return;
    el.remove();
    el = null;
    if (kind === "banner") relayout();
    if (release) release();
    removed();
  };
  let acted = false;
  const act = (event) => () => {
    if (acted) return; // one answer per nudge: a second Escape or click records nothing
    acted = true;
    report(event);
    // After the click's default action: a call-to-action link still navigates.
    setTimeout(remove);
  };

  const cta = callToAction(nudge, act("$nudge_clicked"));
  const close = h("button", { class: "x", type: "button", "aria-label": "Close", onclick: act("$nudge_dismissed") }, "×");
  const title = h(kind === "modal" ? "h2" : "strong", { class: "title", id: titleId }, text(nudge.title));
  const body = nudge.body ? h(kind === "banner" ? "span" : "p", { class: "body", id: bodyId }, text(nudge.body)) : null;
  const actions = cta && h("div", { class: "actions" }, cta);
  const content = [close, title, body, actions];

  if (kind === "banner") {
    el = h("div", { class: "banner", role: "region", "aria-labelledby": titleId }, h("div", {}, title, " ", body), actions, close);
    top.append(el);
    pushPage(top);
  } else if (kind === "modal") {
    const dialog = h(
      "div",
      { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": body && bodyId, tabindex: "-1" },
      content,
    );
    el = h("div", { class: "backdrop" }, dialog);
    root.append(el);
    release = trapFocus(root, dialog, act("$nudge_dismissed"));
  } else {
    el = h("div", { class: "tip", role: "tooltip", "aria-labelledby": titleId }, content);
    root.append(el);
    release = pin(el, anchor, remove);
  }
  return remove;
}
