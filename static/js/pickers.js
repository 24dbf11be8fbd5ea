// Searchable pickers: long lists of segments, actions, events and properties, made
// findable by typing. Every picker stays a plain form control without JavaScript.
//
// - <select data-picker> with more than MIN_OPTIONS options gets a text box with a
//   datalist of its options' labels (type-ahead in the browser's own suggestion
//   list); choosing or typing a label sets the select, which stays in the form
//   (hidden) and fires its own change event. Enter takes the first match.
// - A fieldset of checkboxes with data-picker gets a filter box that hides the rows
//   that do not match; ticked rows always stay in view.

const MIN_OPTIONS = 8;
let counter = 0;

function norm(text) {
  return text.trim().toLowerCase();
}

function optionLabel(option) {
  return option.label || option.textContent.trim();
}

function realOptions(select) {
  return Array.from(select.options).filter((o) => o.value !== "");
}

function enhanceSelect(select) {
  const options = realOptions(select);
  if (options.length <= MIN_OPTIONS || select.multiple) return;
  counter += 1;
  const id = select.id || `picker-${counter}`;
  const input = document.createElement("input");
  input.type = "text";
  input.className = "picker-input";
  input.id = `${id}-search`;
  input.autocomplete = "off";
  input.spellcheck = false;
  input.setAttribute("list", `${id}-choices`);
  input.placeholder = `Search ${options.length} choices…`;
  const label = select.id && document.querySelector(`label[for="${select.id}"]`);
  input.setAttribute("aria-label", select.getAttribute("aria-label") || (label ? label.textContent.trim() : "Search"));
  if (label) label.htmlFor = input.id;

  // One entry per option; a label that appears in two groups (an event and an action of
  // the same name) is told apart by its group.
  const seen = new Map();
  options.forEach((o) => seen.set(norm(optionLabel(o)), (seen.get(norm(optionLabel(o))) || 0) + 1));
  const byText = new Map();
  const textByOption = new Map();
  const list = document.createElement("datalist");
  list.id = `${id}-choices`;
  options.forEach((o) => {
    const group = o.parentElement && o.parentElement.tagName === "OPTGROUP" ? o.parentElement.label : "";
    const text = seen.get(norm(optionLabel(o))) > 1 && group ? `${optionLabel(o)} (${group})` : optionLabel(o);
    byText.set(norm(text), o);
    textByOption.set(o, text);
    const entry = document.createElement("option");
    entry.value = text;
    list.appendChild(entry);
  });
  const textOf = (option) => (option && option.value !== "" ? textByOption.get(option) || optionLabel(option) : "");
  input.value = textOf(select.selectedOptions[0]);

  const choose = (option) => {
    const value = option ? option.value : "";
    input.value = textOf(option);
    if (select.value !== value) {
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  };
  const firstMatch = () => {
    const typed = norm(input.value);
    if (!typed) return null;
    if (byText.has(typed)) return byText.get(typed);
    for (const [text, o] of byText) if (text.includes(typed)) return o;
    return null;
  };
  // The box's own typing is not a change of the form (htmx forms listen to input and change).
  input.addEventListener("input", (event) => {
    event.stopPropagation();
    const exact = byText.get(norm(input.value));
    if (exact) choose(exact);
  });
  input.addEventListener("change", (event) => event.stopPropagation());
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const match = firstMatch();
    if (match) choose(match);
  });
  input.addEventListener("blur", () => {
    if (!norm(input.value)) {
      const empty = Array.from(select.options).find((o) => o.value === "");
      if (empty) choose(empty);
      else input.value = textOf(select.selectedOptions[0]);
      return;
    }
    const match = byText.get(norm(input.value)) || firstMatch();
    if (match) choose(match);
    else input.value = textOf(select.selectedOptions[0]);
  });
  select.addEventListener("change", () => {
    input.value = textOf(select.selectedOptions[0]);
  });

  select.hidden = true;
  select.dataset.pickerReady = "1";
  select.insertAdjacentElement("beforebegin", input);
  select.insertAdjacentElement("afterend", list);
}

function enhanceChecklist(fieldset) {
  const rows = Array.from(fieldset.querySelectorAll("label")).filter((l) => l.querySelector("input[type=checkbox]"));
  if (rows.length <= MIN_OPTIONS) return;
  const input = document.createElement("input");
  input.type = "search";
  input.className = "picker-filter";
  input.placeholder = `Filter ${rows.length} choices…`;
  const legend = fieldset.querySelector("legend");
  input.setAttribute("aria-label", `Filter ${legend ? legend.textContent.trim() : "choices"}`);
  input.addEventListener("input", (event) => {
    event.stopPropagation();
    const typed = norm(input.value);
    rows.forEach((row) => {
      const ticked = row.querySelector("input").checked;
      row.hidden = Boolean(typed) && !ticked && !norm(row.textContent).includes(typed);
    });
    // a group whose rows are all hidden hides its heading too
    fieldset.querySelectorAll(".segment-group").forEach((group) => {
      group.hidden = Array.from(group.querySelectorAll("label")).every((row) => row.hidden);
    });
  });
  input.addEventListener("change", (event) => event.stopPropagation());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
  fieldset.dataset.pickerReady = "1";
  (legend || fieldset.firstChild).insertAdjacentElement(legend ? "afterend" : "beforebegin", input);
}

export function enhancePickers(root) {
  root.querySelectorAll("select[data-picker]:not([data-picker-ready])").forEach(enhanceSelect);
  root.querySelectorAll("fieldset[data-picker]:not([data-picker-ready])").forEach(enhanceChecklist);
}
