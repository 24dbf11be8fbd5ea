// Session replay: when the decide answer says this session is recorded, load the recorder
// bundle (rrweb, about 25 KB gzipped) from the Sightline host and hand it what it needs.
// Sessions that are not recorded never download it.
import { onDecide } from "./extensions.js";
import { distinctId, isOptedOut, touchSession } from "./identity.js";
import { load } from "./storage.js";

export function startRecordingLoader(apiHost, apiKey) {
  let requested = false;
  onDecide((answer) => {
    const config = answer.recording;
    if (requested || !config || !config.enabled || !config.script) return;
    requested = true;
    const script = document.createElement("script");
    script.src = new URL(config.script, apiHost + "/").href;
    script.async = true;
    script.onload = () =>
      window.sightlineRecorder &&
      window.sightlineRecorder({
        endpoint: apiHost + "/i/v1/recording",
        apiKey,
        config,
        // The session as identity.js stores it (key "sl_<key>", field s), read without
        // counting as activity (touch() is called on real input); where storage is blocked
        // altogether, from identity.js's memory.
        ids: () => ({ distinct_id: distinctId(), session_id: load("sl_" + apiKey).s || touchSession(Date.now()) }),
        touch: () => touchSession(Date.now()),
        optedOut: isOptedOut,
      });
    document.head.appendChild(script);
  });
}
