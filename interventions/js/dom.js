// The one shadow root every nudge and survey renders into, and a small element builder.
// Text from the server is only ever added as text nodes: nothing is parsed as HTML.
import { CSS } from "./styles.js";

let host = null;
let root = null;
let top = null;
let count = 0;

/** An id unique within the shadow root, for labels and aria references. */
export const uid = () => "sl" + ++count;

/** `h("button", {type: "button", onclick: f}, "Close")`; children are nodes, strings (as text) or lists of them. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const name in attrs) {
    const value = attrs[name];
    if (value == null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null && child !== false) el.append(child);
  return el;
}

/** The text of a server string: numbers and missing values become text too. */
export const text = (value) => (value == null ? "" : String(value));

function adopt(shadow) {
  // A constructed stylesheet is not an inline <style>: a site whose Content-Security-Policy
  // forbids inline styles still styles the widgets.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    shadow.append(h("style", {}, CSS));
  }
}

/**
 * The shadow root (created on first use) and its banner stack. The host is marked
 * `data-sl-no-capture`: autocapture sees clicks inside a shadow root as clicks on the
 * host, and this keeps them (and the recorder) out altogether.
 */
export function ui() {
  if (!host) {
    host = h("div", { "data-sl-engage": "", "data-sl-no-capture": "" });
    root = host.attachShadow({ mode: "open" });
    adopt(root);
    top = h("div", { class: "top" });
    root.append(top);
  }
  // A single-page app may replace the body's content: come back with it.
  if (!host.isConnected) document.body.append(host);
  return { root, top };
}
