// Curating: selecting highlights for bulk actions (shift-click for a range, "select all N
// matching"), and what happens after a bulk action. Everything works without this file too: the
// checkboxes belong to the bulk form (form="bulk-form") and its buttons post it.
"use strict";

(() => {
  const items = () => [...document.querySelectorAll("input[data-bulk-item]")];
  const bulkForm = () => document.getElementById("bulk-form");
  let lastClicked = null;

  function describe() {
    const form = bulkForm();
    if (!form) return;
    const all = form.querySelector("[data-bulk-all]");
    const count = form.querySelector("[data-bulk-count]");
    const chosen = items().filter((box) => box.checked).length;
    form.classList.toggle("has-selection", chosen > 0 || (all && all.checked));
    if (!count) return;
    if (all && all.checked) {
      count.textContent = "All matching selected";
    } else {
      count.textContent = chosen ? `${chosen} selected` : "";
    }
  }

  // Shift-click a checkbox: every box between it and the last one clicked takes its state.
  document.addEventListener("click", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches("[data-bulk-item]")) return;
    const boxes = items();
    if (event.shiftKey && lastClicked && lastClicked !== box && boxes.includes(lastClicked)) {
      const [from, to] = [boxes.indexOf(lastClicked), boxes.indexOf(box)].sort((a, b) => a - b);
      boxes.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
    }
    lastClicked = box;
    if (!box.checked) {
      const all = bulkForm() && bulkForm().querySelector("[data-bulk-all]");
      if (all) all.checked = false; // one left out: no longer "all matching"
    }
    describe();
  });

  // "Select all N matching" ticks every row on the page (the server acts on all that match).
  document.addEventListener("change", (event) => {
    const all = event.target;
    if (!(all instanceof HTMLInputElement) || !all.matches("[data-bulk-all]")) return;
    items().forEach((box) => { box.checked = all.checked; });
    describe();
  });

  // Rows loaded later ("Load more") join an "all matching" selection.
  document.addEventListener("htmx:afterSwap", () => {
    const form = bulkForm();
    const all = form && form.querySelector("[data-bulk-all]");
    if (all && all.checked) items().forEach((box) => { box.checked = true; });
    describe();
  });

  // A bulk action over "all matching" also names the rows on screen, to redraw them in place.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = bulkForm();
    if (!form || event.detail.elt !== form) return;
    const all = form.querySelector("[data-bulk-all]");
    if (all && all.checked) event.detail.parameters.shown = items().map((box) => box.value);
  });

  // After a bulk action succeeded, start a fresh selection (the rows were redrawn unticked).
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = bulkForm();
    if (!form || event.detail.elt !== form || !event.detail.successful) return;
    if (form.querySelector(".bulk-error")) return;
    const all = form.querySelector("[data-bulk-all]");
    if (all) all.checked = false;
    items().forEach((box) => { box.checked = false; });
    lastClicked = null;
    describe();
  });

  // Deleting with the keyboard: focus goes to what replaced the row ("Undo"), not the page top.
  // (htmx:load fires on the new row; the old one, and the button pressed, are gone.)
  document.addEventListener("htmx:load", (event) => {
    const row = event.target;
    if (!(row instanceof Element) || !row.matches("li.highlight")) return;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    // Deleted: its "Undo". Being edited: the text. Saved or cancelled: its "Edit" again.
    const control = row.querySelector(".trashed button, .editing textarea, .manage-actions a");
    if (control) control.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", describe);
})();
