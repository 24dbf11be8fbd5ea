// Properties every event carries: where it happened and on what screen.

export const VERSION = "1.0.0";

// The page's referrer; after a SPA navigation, the URL navigated from.
let referrer = document.referrer;

export function setReferrer(url) {
  referrer = url;
}

function timezone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return undefined;
  }
}

export function pageProperties() {
  return {
    $current_url: location.href,
    $pathname: location.pathname,
    $host: location.host,
    $referrer: referrer,
    $screen_width: screen.width,
    $screen_height: screen.height,
    $viewport_width: innerWidth,
    $viewport_height: innerHeight,
    $timezone: timezone(),
    $lib: "sightline-js",
    $lib_version: VERSION,
  };
}
