// The element chain of an interaction, target first, up to <body>, in the wire format
// of tracking/elements.py: {tag, id, classes, nth_child, nth_of_type, attrs, text}.
import { isExcluded, isSecretField, looksSecret } from "./privacy.js";

const MAX_DEPTH = 30;
const MAX_TEXT = 255;
const ATTRIBUTES = ["href", "name", "type", "role", "aria-label", "title", "alt", "for", "placeholder"];

/** The element's own text (direct text nodes only), unless it could be typed or secret. */
function ownText(el) {
  if (el.isContentEditable || el.tagName === "TEXTAREA") return "";
  let text = "";
  for (const node of el.childNodes) if (node.nodeType === 3) text += node.nodeValue;
  text = text.replace(/\s+/g, " ").trim().slice(0, MAX_TEXT);
  return looksSecret(text) ? "" : text;
}

function describe(el) {
  let nthChild = 1;
  let nthOfType = 1;
  for (let sibling = el.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
    nthChild++;
    if (sibling.tagName === el.tagName) nthOfType++;
  }
  const element = { tag: el.tagName.toLowerCase(), nth_child: nthChild, nth_of_type: nthOfType };
  if (el.id) element.id = el.id;
  const classes = Array.from(el.classList);
  if (classes.length) element.classes = classes;
  const attrs = {};
  for (const { name, value } of Array.from(el.attributes)) {
    if ((ATTRIBUTES.includes(name) || name.startsWith("data-")) && !looksSecret(value)) attrs[name] = value.slice(0, 1000);
  }
  if (Object.keys(attrs).length) element.attrs = attrs;
  const text = ownText(el);
  if (text) element.text = text;
  return element;
}

/** The chain for an event target, or null when the target must not be captured. */
export function elementChain(target) {
  const body = document.body;
  if (!target || target.nodeType !== 1 || target === body || !body || !body.contains(target) || isExcluded(target)) {
    return null;
  }
  const chain = [];
  for (let el = target; el && chain.length < MAX_DEPTH; el = el.parentElement) {
    if (isSecretField(el)) return null;
    chain.push(describe(el));
    if (el === body) break;
  }
  return chain;
}
