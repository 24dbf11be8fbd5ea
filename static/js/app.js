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

// Background queries: a page that waits for a job tells the server when it stops waiting
// (the page is left, or the panel is replaced by another query), so the job is cancelled
// unless another page still waits for it. The CSRF token is the one htmx sends.
function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (error) {
    return "";
  }
}

function releaseJob(url) {
  const body = new FormData();
  body.append("csrfmiddlewaretoken", csrfToken());
  if (navigator.sendBeacon) navigator.sendBeacon(url, body);
  else fetch(url, { method: "POST", body, keepalive: true, credentials: "same-origin" });
}

window.addEventListener("pagehide", () => {
  document.querySelectorAll("[data-job-release]").forEach((panel) => releaseJob(panel.dataset.jobRelease));
});

document.addEventListener("htmx:beforeCleanupElement", (event) => {
  const panel = event.target;
  if (!(panel instanceof Element) || !panel.dataset.jobRelease) return;
  const { jobId, jobRelease } = panel.dataset;
  // a poll replaces the panel with the same job's: only a panel that does not come back is released
  setTimeout(() => {
    if (!document.querySelector(`[data-job-id="${jobId}"]`) && !document.querySelector(`[data-job-done="${jobId}"]`)) {
      releaseJob(jobRelease);
    }
  }, 0);
});
