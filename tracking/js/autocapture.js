// Autocapture: clicks, changes and submits, recorded in the capture phase so the chain
// describes the page as the visitor saw it, before the site's own handlers change it.
import { elementChain } from "./elements.js";

/**
 * `onClick(event, elements)` also sees clicks that were not captured (elements null),
 * so rage and dead click detection can use the same stream.
 */
export function startAutocapture(capture, onClick) {
  for (const type of ["click", "change", "submit"]) {
    addEventListener(
      type,
      (event) => {
        const elements = elementChain(event.target);
        // For a change, only that the field changed: its value is never read.
        if (elements) capture("$autocapture", { $event_type: type, $elements: elements });
        if (type === "click") onClick(event, elements);
      },
      true,
    );
  }
}
