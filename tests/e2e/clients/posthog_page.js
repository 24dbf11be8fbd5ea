// A customer's page instrumented with the real posthog-js, pointed at Sightline.
// The recorder is bundled in: posthog-js would otherwise fetch it from the API
// host's /static/, where Sightline serves its own files.
import posthog from "posthog-js";
import "posthog-js/dist/lazy-recorder";

const config = window.COMPAT_CONFIG;
posthog.init(config.key, {
  api_host: config.host,
  autocapture: true,
  capture_pageview: true,
  capture_pageleave: true,
  persistence: "localStorage",
  disable_external_dependency_loading: true,
  disable_surveys: true,
  session_recording: { maskAllInputs: true },
  request_batching: true,
  // Headless Chromium says "HeadlessChrome": posthog-js drops bot traffic unless told not to.
  opt_out_useragent_filter: true,
  debug: !!config.debug,
});
window.posthog = posthog;
