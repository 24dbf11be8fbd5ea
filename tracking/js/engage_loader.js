// In-app nudges and surveys: when a decide answer has any, load the engage bundle
// (engage.js, served beside this snippet) and hand it this and every later answer.
// Visitors with nothing to see never download it.
import { onDecide } from "./extensions.js";

const any = (list) => Array.isArray(list) && list.length > 0;

export function startEngageLoader(snippetSrc) {
  let latest = null;
  let update = null;
  let requested = false;
  onDecide((answer, api) => {
    latest = answer;
    if (update) return update(answer);
    if (requested || !(any(answer.nudges) || any(answer.surveys))) return;
    requested = true;
    const script = document.createElement("script");
    script.src = new URL("engage.js", snippetSrc).href;
    script.async = true;
    script.onload = () => {
      if (!window.sightlineEngage) return;
      update = window.sightlineEngage(api);
      update(latest);
    };
    document.head.appendChild(script);
  });
}
