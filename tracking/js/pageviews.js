// Page views and page leaves, including navigations of single-page apps.
import { pageResponded } from "./deadclick.js";
import { setReferrer } from "./properties.js";

let capture;
let href = "";
let pathname = "";
let pageKey = "";
let startedAt = 0;
let maxScroll = 0;

function scrollDepth() {
  const height = document.documentElement.scrollHeight;
  return height ? Math.min(100, Math.round(((scrollY + innerHeight) / height) * 100)) : 100;
}

function onScroll() {
  maxScroll = Math.max(maxScroll, scrollDepth());
}

function pageview() {
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
  if (location.pathname + location.search === pageKey) return; // a hash or state-only change
  pageleave();
  setReferrer(href);
  pageview();
}

/** `leaving()` runs after the last page leave, to send what is queued before the page goes. */
export function startPageviews(captureEvent, leaving) {
  capture = captureEvent;
  for (const method of ["pushState", "replaceState"]) {
    const original = history[method];
    history[method] = function () {
      const result = original.apply(this, arguments);
      navigated();
      return result;
    };
  }
  addEventListener("popstate", navigated);
  addEventListener("scroll", onScroll, { passive: true });
  addEventListener("pagehide", () => {
    pageleave();
    leaving();
  });
  // Back from the back-forward cache: the page is shown again without loading.
  addEventListener("pageshow", (event) => event.persisted && pageview());
  pageview();
}
