// Page views and page leaves, including navigations of single-page apps.
//
// A page is its path and query, plus its hash when the hash is a route: one that starts
// with "#/" or "#!" ("#/active", "#!/item/3"), as hash routers write them; "#/", "#!" and
// no hash at all are the same root route. Any other hash ("#pricing") is an in-page
// anchor: jumping to it changes no page, even from a hash route. A page leave and a page
// view are recorded whenever the page changes, however the change is announced
// (pushState, replaceState, popstate, hashchange: a link to "#/x" fires both popstate
// and hashchange), so one change is never counted twice.
import { pageResponded } from "./deadclick.js";
import { setReferrer } from "./properties.js";

let capture;
let hashRoutes = true;
let href = "";
let pathname = "";
let pageKey = ""; // the path and query of the page viewed
let pageRoute = ""; // and its hash route
let startedAt = 0;
let maxScroll = 0;

function scrollDepth() {
  const height = document.documentElement.scrollHeight;
  return height ? Math.min(100, Math.round(((scrollY + innerHeight) / height) * 100)) : 100;
}

function onScroll() {
  maxScroll = Math.max(maxScroll, scrollDepth());
}

function route() {
  const hash = location.hash;
  if (!hashRoutes) return "";
  if (/^(#[/!]|$)/.test(hash)) return hash.replace(/^#!?\/?/, "");
  // an anchor: still the route it was jumped to from (on another path, the root)
  return location.pathname + location.search === pageKey ? pageRoute : "";
}

function pageview() {
  pageRoute = route();
  href = location.href;
  pathname = location.pathname;
  pageKey = pathname + location.search;
  startedAt = Date.now();
  maxScroll = 0;
  onScroll();
  capture("$pageview", {});
}

function pageleave() {
  onScroll();
  capture("$pageleave", {
    $current_url: href,
    $pathname: pathname,
    $time_on_page: Math.round((Date.now() - startedAt) / 100) / 10,
    $scroll_depth: maxScroll,
  });
}

function navigated() {
  pageResponded();
  // the same page: an anchor, a state-only change, or a second event for one change
  if (location.pathname + location.search === pageKey && route() === pageRoute) return;
  pageleave();
  setReferrer(href);
  pageview();
}

/**
 * `leaving()` runs after the last page leave, to send what is queued before the page goes;
 * `withHashRoutes` false makes hash changes never a new page.
 */
export function startPageviews(captureEvent, leaving, withHashRoutes) {
  capture = captureEvent;
  hashRoutes = withHashRoutes;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    history[method] = function () {
      const result = original.apply(this, arguments);
      navigated();
      return result;
    };
  }
  addEventListener("popstate", navigated);
  addEventListener("hashchange", navigated);
  addEventListener("scroll", onScroll, { passive: true });
  addEventListener("pagehide", () => {
    pageleave();
    leaving();
  });
  // Back from the back-forward cache: the page is shown again without loading.
  addEventListener("pageshow", (event) => event.persisted && pageview());
  pageview();
}
