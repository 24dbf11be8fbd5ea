// Navigations of single-page apps, seen the way the snippet sees them for `$pageview`
// (history.pushState / replaceState, back and forward), plus hash changes, since
// page rules match the whole URL.

export function onNavigate(callback) {
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    history[method] = function () {
      const result = original.apply(this, arguments);
      callback();
      return result;
    };
  }
  addEventListener("popstate", callback);
  addEventListener("hashchange", callback);
}
