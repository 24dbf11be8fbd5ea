// The survey widget: a small form in the bottom corner showing one question at a time
// (its intro above the first), then the thank-you text. Questions may be skipped; only
// answered ones are sent.
import { h, text, ui } from "./dom.js";
import { questionField, validQuestion } from "./questions.js";

const THANKS_MS = 5000;

/**
 * Show `survey`; `report(event, extra)` records `$survey_response` (with `$answers`) or
 * `$survey_dismissed`, `removed()` runs once it is gone. Returns `remove()`, or null for
 * a survey without a question this snippet can show.
 */
export function showSurvey(survey, report, removed) {
  const fields = (Array.isArray(survey.questions) ? survey.questions : []).filter(validQuestion).map(questionField);
  if (!fields.length) return null;

  let step = 0;
  let answered = false;
  let el = null;
  const remove = () => {
    if (!el) return;
    el.remove();
    el = null;
    removed();
  };
  const submit = h("button", { class: "btn", type: "submit" });
  const counter = h("span", { class: "step" });
  const status = h("p", { class: "thanks", role: "status" });
  const intro = survey.intro ? h("p", { class: "intro" }, text(survey.intro)) : null;
  const form = h(
    "form",
    { novalidate: true },
    intro,
    fields.map((field) => field.fieldset),
    h("div", { class: "actions" }, counter, submit),
  );
  const close = () => {
    if (!answered) report("$survey_dismissed");
    answered = true;
    remove();
  };

  function show() {
    if (intro) intro.hidden = step > 0;
    fields.forEach((field, i) => (field.fieldset.hidden = i !== step));
    submit.textContent = step === fields.length - 1 ? "Submit" : "Next";
    counter.textContent = fields.length > 1 ? step + 1 + " / " + fields.length : "";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (step < fields.length - 1) {
      step++;
      show();
      const first = fields[step].fieldset.querySelector("input,textarea");
      if (first) first.focus();
      return;
    }
    const answers = {};
    for (const field of fields) {
      const value = field.answer();
      if (value !== undefined) answers[field.key] = value;
    }
    // Nothing answered at all is a dismissal, not a response.
    if (!Object.keys(answers).length) return close();
    answered = true;
    report("$survey_response", { $answers: answers });
    form.hidden = true;
    status.textContent = text(survey.thank_you) || "Thank you!";
    setTimeout(remove, THANKS_MS);
  });

  show();
  el = h(
    "section",
    { class: "survey", role: "region", "aria-label": "Survey" },
    h("button", { class: "x", type: "button", "aria-label": "Close survey", onclick: close }, "×"),
    form,
    status,
  );
  ui().root.append(el);
  return remove;
}
