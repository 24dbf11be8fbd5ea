// Progressive enhancements for the app pages; every page works without them.

import { enhancePickers } from "./pickers.js";

function copyText(button) {
  const target = document.getElementById(button.dataset.copyTarget);
  if (!target) return;
  const text = target.innerText.trim();
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(text).then(done, () => selectText(target));
  } else {
    selectText(target);
  }
}

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy[data-copy-target]");
  if (button) copyText(button);
});

document.addEventListener("DOMContentLoaded", () => enhancePickers(document));
// htmx:load fires for every piece of content htmx puts in the page
document.addEventListener("htmx:load", (event) => enhancePickers(event.detail.elt.parentElement || document));
