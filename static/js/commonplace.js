// Commonplace's small behaviours. No inline scripts (the CSP forbids them): everything is here.
"use strict";

function setUpDropzone(form) {
  const zone = form.querySelector("[data-dropzone-target]");
  const filesInput = form.querySelector('input[name="files"]');
  const folderInput = form.querySelector('input[name="folder"]');
  const chosen = form.querySelector("[data-chosen]");
  if (!zone || !filesInput) return;

  const describe = () => {
    const count = filesInput.files.length + (folderInput ? folderInput.files.length : 0);
    chosen.textContent = count === 0 ? "No files chosen." : count === 1
      ? `Chosen: ${(filesInput.files[0] || folderInput.files[0]).name}`
      : `${count} files chosen.`;
  };
  filesInput.addEventListener("change", describe);
  if (folderInput) folderInput.addEventListener("change", describe);

  // Read a dropped folder's files (webkitGetAsEntry), keeping their relative paths as names.
  const readEntry = (entry, prefix) => new Promise((resolve) => {
    if (entry.isFile) {
      entry.file((file) => resolve([new File([file], prefix + file.name, { type: file.type })]), () => resolve([]));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const all = [];
      const next = () => reader.readEntries(async (entries) => {
        if (!entries.length) {
          const nested = await Promise.all(all.map((e) => readEntry(e, `${prefix}${entry.name}/`)));
          resolve(nested.flat());
        } else {
          all.push(...entries);
          next();
        }
      }, () => resolve([]));
      next();
    } else {
      resolve([]);
    }
  });

  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    const items = [...(event.dataTransfer.items || [])];
    const entries = items.map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    const files = entries.length
      ? (await Promise.all(entries.map((entry) => readEntry(entry, "")))).flat()
      : [...event.dataTransfer.files];
    const transfer = new DataTransfer();
    files.forEach((file) => transfer.items.add(file));
    filesInput.files = transfer.files;
    describe();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-dropzone]").forEach(setUpDropzone);
});

// Browsing: filters, search, "Load more". htmx does the requests; these are the small glue bits.
document.documentElement.classList.add("js");

// "/" anywhere but in a text field focuses the search field (the page's own, else the header's).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const active = event.target;
  if (active instanceof Element && (active.closest("input, textarea, select") || active.isContentEditable)) return;
  const field = document.querySelector("[data-search-input]") || document.querySelector("[data-search-shortcut]");
  if (!field) return;
  event.preventDefault();
  field.focus();
  field.select();
});

// A changed select or checkbox in a filter bar refreshes the results at once; text fields have
// their own debounced trigger, and their "change" on blur would only repeat the same request.
document.addEventListener("change", (event) => {
  const control = event.target;
  if (!(control instanceof Element)) return;
  const form = control.closest("form[data-filters]");
  if (!form || control.matches('input[type="search"], input[type="text"]')) return;
  if (window.htmx) {
    window.htmx.trigger(form, "filters-changed");
  } else {
    form.requestSubmit();
  }
});

// After "Load more", move keyboard focus to the first item that arrived (the button is gone).
document.addEventListener("htmx:afterSwap", (event) => {
  const trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!(trigger instanceof Element) || !trigger.hasAttribute("data-load-more")) return;
  const starts = event.detail.target.querySelectorAll("[data-page-start]");
  if (starts.length) starts[starts.length - 1].focus({ preventScroll: true });
});
