// Which pages a nudge or survey is for (its `url_matching` rule against location.href),
// and which links a nudge may open.

/** `contains` is case-insensitive, as in actions; `exact` compares the whole URL; an empty rule matches every page. */
export function urlMatches(item, href) {
  const url = typeof item.url === "string" ? item.url : "";
  if (!url) return true;
  if (item.url_matching === "exact") return href === url;
  if (item.url_matching === "regex") {
    // The server accepts expressions valid in Python and PostgreSQL; a leading (?i) is
    // the one common form JavaScript spells differently. Anything else it cannot parse
    // matches nothing rather than everything.
    const insensitive = url.startsWith("(?i)");
    try {
      return new RegExp(insensitive ? url.slice(4) : url, insensitive ? "i" : "").test(href);
    } catch (e) {
      return false;
    }
  }
  return href.toLowerCase().includes(url.toLowerCase());
}

/** The absolute http(s) URL a call to action may open, or "" (javascript:, data: and the like are refused). */
export function safeUrl(value) {
  if (typeof value !== "string" || !value.trim()) return "";
  try {
    const url = new URL(value, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch (e) {
    return "";
  }
}
