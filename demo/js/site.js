// Tasklane's own behaviour on the demo pages. Plain page scripts, like any site that
// installs the snippet: the board's view tabs are a single-page navigation
// (history.pushState), which the snippet reports as a page view.

function showBoardView(key) {
  for (const tab of document.querySelectorAll(".board-tab")) {
    tab.classList.toggle("is-active", tab.dataset.tab === key);
  }
  for (const panel of document.querySelectorAll(".tab-panel")) {
    panel.hidden = panel.dataset.panel !== key;
  }
}

function boardViewOf(path) {
  const tab = Array.from(document.querySelectorAll(".board-tab")).find((t) => new URL(t.href).pathname === path);
  return tab ? tab.dataset.tab : "board";
}

function setUpBoardTabs() {
  document.addEventListener("click", (event) => {
    const tab = event.target.closest(".board-tab");
    if (!tab || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    if (location.pathname !== new URL(tab.href).pathname) history.pushState({}, "", tab.href);
    showBoardView(tab.dataset.tab);
  });
  addEventListener("popstate", () => showBoardView(boardViewOf(location.pathname)));
}

function setUpNewTask() {
  const button = document.getElementById("new-task");
  const form = document.getElementById("new-task-form");
  if (!button || !form) return;
  button.addEventListener("click", () => {
    form.hidden = false;
    form.querySelector("input").focus();
  });
  document.getElementById("cancel-new-task").addEventListener("click", () => {
    form.hidden = true;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.querySelector("input");
    const column = document.querySelector('.board-column[data-status="todo"]');
    const card = document.createElement("article");
    card.className = "task-card task-card-new";
    const title = document.createElement("h3");
    title.className = "task-title";
    title.textContent = input.value;
    card.append(title);
    column.querySelector(".column-title").after(card);
    input.value = "";
    form.hidden = true;
  });
}

function setUpShare() {
  const button = document.getElementById("share-board");
  const toast = document.getElementById("share-toast");
  if (!button || !toast) return;
  button.addEventListener("click", () => {
    if (navigator.clipboard) navigator.clipboard.writeText(location.href).catch(() => {});
    toast.hidden = false;
    setTimeout(() => {
      toast.hidden = true;
    }, 2500);
  });
}

function setUpBillingToggle() {
  const options = document.querySelectorAll(".billing-option");
  for (const option of options) {
    option.addEventListener("click", () => {
      const period = option.dataset.billing;
      for (const other of options) other.classList.toggle("is-active", other === option);
      for (const amount of document.querySelectorAll(".plan-amount")) {
        amount.textContent = "$" + amount.dataset[period];
      }
    });
  }
}

function setUpSlack() {
  const button = document.getElementById("connect-slack");
  if (button) button.addEventListener("click", () => (document.getElementById("connect-slack-note").hidden = false));
}

function setUpRecoveryCodes() {
  const button = document.getElementById("copy-recovery-codes");
  if (!button) return;
  button.addEventListener("click", () => {
    const codes = Array.from(document.querySelectorAll(".recovery-code"), (code) => code.textContent).join("\n");
    if (navigator.clipboard) navigator.clipboard.writeText(codes).catch(() => {});
    button.textContent = "Copied";
  });
}

setUpBoardTabs();
setUpNewTask();
setUpShare();
setUpBillingToggle();
setUpSlack();
setUpRecoveryCodes();
