// A customer's page instrumented with the real @segment/analytics-next, pointed at Sightline.
import { AnalyticsBrowser } from "@segment/analytics-next";

const config = window.COMPAT_CONFIG;
const apiHost = config.host.replace(/^https?:\/\//, "") + "/v1";
const protocol = config.host.startsWith("https") ? "https" : "http";
window.analytics = AnalyticsBrowser.load(
  {
    writeKey: config.key,
    // No settings from Segment's CDN: the Segment.io destination is configured here.
    cdnSettings: { integrations: { "Segment.io": { apiKey: config.key, apiHost, protocol } } },
  },
  { integrations: { "Segment.io": { apiHost, protocol } } },
);
