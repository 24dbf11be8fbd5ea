// First-party persistence: localStorage, falling back to a cookie where storage is
// blocked, and to memory when both are (the page still works, ids just do not persist).

export function load(name) {
  let raw = null;
  try {
    raw = localStorage.getItem(name);
  } catch (e) {
    // storage disabled: try the cookie
  }
  if (raw == null) {
    const match = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    raw = match && decodeURIComponent(match[1]);
  }
  try {
    return JSON.parse(raw) || {};
  } catch (e) {
    return {};
  }
}

export function save(name, value) {
  const raw = JSON.stringify(value);
  try {
    localStorage.setItem(name, raw);
    return;
  } catch (e) {
    // fall through to the cookie
  }
  document.cookie = name + "=" + encodeURIComponent(raw) + ";path=/;max-age=31536000;SameSite=Lax";
}
