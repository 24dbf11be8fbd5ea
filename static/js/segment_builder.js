// The segment builder's small enhancements; the builder works without them.
//
// - Switches: a control inside [data-switch] shows only the parts that apply to
//   its value ([data-case="a b"] shown for a or b, [data-case-not="a"] hidden for a):
//   the time window's days or dates, an event name or an action, a value unless
//   the comparison is "is set". Without JavaScript every part stays visible and
//   the server reads only the parts that apply.
// - The live preview keeps the JSON textarea in step with the conditions, but
//   never replaces it while someone is typing in it.

function ownSwitch(node) {
  return node.closest("[data-switch]");
}

function applySwitch(container) {
  const control = Array.from(container.querySelectorAll("[data-switch-control]")).find((c) => ownSwitch(c) === container);
  let value;
  if (control) {
    value = control.value;
  } else {
    const checked = Array.from(container.querySelectorAll("input[type=radio]:checked")).find((r) => ownSwitch(r) === container);
    if (!checked) return;
    value = checked.value;
  }
  container.querySelectorAll("[data-case], [data-case-not]").forEach((part) => {
    if (ownSwitch(part) !== container) return;
    const shown = part.hasAttribute("data-case")
      ? part.getAttribute("data-case").split(" ").includes(value)
      : !part.getAttribute("data-case-not").split(" ").includes(value);
    part.hidden = !shown;
  });
}

function applyAll(root) {
  root.querySelectorAll("[data-switch]").forEach(applySwitch);
}

document.addEventListener("change", (event) => {
  const container = ownSwitch(event.target);
  if (container) applySwitch(container);
});

document.addEventListener("DOMContentLoaded", () => applyAll(document));
document.addEventListener("htmx:afterSettle", (event) => applyAll(event.detail.elt || document));
document.addEventListener("htmx:oobAfterSwap", (event) => applyAll(event.detail.target || document));

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const target = event.detail.target;
  if (target && target.id === "definition-json" && document.activeElement === target) {
    event.detail.shouldSwap = false;
  }
});
