// What autocapture must never see. Values are never read at all; these rules keep out
// whole elements (secret fields, opted-out regions) and text that looks like a secret.

// 13 to 19 digits, optionally grouped by spaces or dashes: a payment card number.
const CARD_NUMBER = /\b\d(?:[ -]?\d){12,18}\b/;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/;
// Matched against a field's name, id and autocomplete ("cc-number", "cc-csc", ...).
const SECRET_FIELD = /pass|pwd|secret|card.?(num|no)|cc-|cvc|cvv|csc|ssn|social.?sec/i;
// `sl-block` hides an element from recordings; autocapture leaves it alone as well.
const NO_CAPTURE = ".sl-no-capture,[data-sl-no-capture],.sl-block";

export const looksSecret = (text) => CARD_NUMBER.test(text) || SSN.test(text);

/** A password, hidden or card/SSN-like form field: nothing about it is captured. */
export function isSecretField(el) {
  if (!/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return false;
  const type = (el.getAttribute("type") || "").toLowerCase();
  const names = [el.name, el.id, el.getAttribute("autocomplete")].join(" ");
  return type === "password" || type === "hidden" || SECRET_FIELD.test(names);
}

/** Inside a region the site marked `sl-no-capture` / `data-sl-no-capture` / `sl-block`. */
export const isExcluded = (el) => !!el.closest(NO_CAPTURE);
