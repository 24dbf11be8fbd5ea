// One survey question as a fieldset whose legend is the prompt: radios (single choice),
// checkboxes (multiple choice), a 0–10 scale or 1–5 stars (rating), or a text area
// (open text). `answer()` reads the visitor's answer in the wire format of `$answers`,
// undefined when the question was left unanswered.
import { h, text, uid } from "./dom.js";

const MAX_TEXT = 1000;
const TYPES = ["single", "multiple", "rating", "open"];

export const validQuestion = (q) => !!q && typeof q.key === "string" && TYPES.includes(q.type);

function option(type, name, value) {
  const id = uid();
  return h("div", { class: "opt" }, h("input", { type, id, name, value }), h("label", { for: id }, value));
}

function rating(fieldset, name, scale) {
  const stars = scale === 5;
  const row = h("div", { class: stars ? "scale stars" : "scale" });
  for (let n = stars ? 1 : 0; n <= scale; n++) {
    const id = uid();
    const label = stars ? [h("span", { "aria-hidden": "true" }, "★"), h("span", { class: "sr" }, n + " of 5")] : String(n);
    row.append(h("input", { type: "radio", class: "sr", id, name, value: n }), h("label", { for: id }, label));
  }
  if (stars) {
    // Every star up to the chosen one lights up.
    row.addEventListener("change", (event) => {
      row.querySelectorAll("label").forEach((label, i) => label.classList.toggle("on", i < Number(event.target.value)));
    });
  }
  fieldset.append(row);
  if (!stars) fieldset.append(h("div", { class: "ends", "aria-hidden": "true" }, h("span", {}, "Not likely"), h("span", {}, "Very likely")));
}

export function questionField(question) {
  const name = uid();
  const legendId = uid();
  const fieldset = h("fieldset", {}, h("legend", { id: legendId }, text(question.prompt)));
  const checked = () => Array.from(fieldset.querySelectorAll("input:checked"), (input) => input.value);
  let answer;
  if (question.type === "open") {
    const area = h("textarea", { rows: 3, maxlength: MAX_TEXT, "aria-labelledby": legendId });
    fieldset.append(area);
    answer = () => area.value.trim().slice(0, MAX_TEXT) || undefined;
  } else if (question.type === "rating") {
    rating(fieldset, name, question.scale === 5 ? 5 : 10);
    answer = () => (checked().length ? Number(checked()[0]) : undefined);
  } else {
    const type = question.type === "single" ? "radio" : "checkbox";
    for (const choice of question.choices || []) fieldset.append(option(type, name, text(choice)));
    answer = () => {
      const values = checked();
      if (!values.length) return undefined;
      return type === "radio" ? values[0] : values;
    };
  }
  return { key: question.key, fieldset, answer };
}
