// Curating: keyboard shortcuts over a list of highlights, and the glue of in-place tagging and notes.
// No inline scripts (the CSP forbids them). Every action is a plain form that htmx submits in
// place; this file only adds keys and focus handling.
"use strict";

(() => {
  // htmx copies a swapped element's old "style" attribute onto its replacement while settling;
  // under our CSP (no inline styles) that is refused and reported. Chromium puts one on a text
  // field it has shown suggestions for, so leave "style" out of what is settled.
  if (window.htmx) {
    window.htmx.config.attributesToSettle = window.htmx.config.attributesToSettle.filter((name) => name !== "style");
  }

  const KEYS = [
    ["j", "Next highlight"],
    ["k", "Previous highlight"],
    ["f", "Favourite the highlight (or undo)"],
    ["t", "Tag the highlight"],
    ["n", "Edit the highlight's note"],
    ["/", "Search"],
    ["?", "Show these keys"],
    ["Esc", "Close, cancel or leave a field"],
  ];

  const items = () => [...document.querySelectorAll("ol.highlights > li.highlight")];

  // The highlight the keys act on: the one holding the focus, else the last one moved to.
  let current = null;
  const currentItem = () => {
    const active = document.activeElement;
    const holding = active instanceof Element ? active.closest("ol.highlights > li.highlight") : null;
    if (holding) return holding;
    return current && document.contains(current) ? current : null;
  };

  const select = (item) => {
    if (!item) return;
    document.querySelectorAll("li.highlight.is-current").forEach((el) => el.classList.remove("is-current"));
    current = item;
    item.classList.add("is-current");
    if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
    item.focus({ preventScroll: true });
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    item.scrollIntoView({ block: "nearest", behavior: reduce ? "auto" : "smooth" });
  };

  const move = (step) => {
    const list = items();
    if (!list.length) return;
    const at = list.indexOf(currentItem());
    if (at === -1) {
      select(step > 0 ? list[0] : list[list.length - 1]);
      return;
    }
    select(list[Math.min(list.length - 1, Math.max(0, at + step))]);
  };

  let dialog = null;
  const showKeys = () => {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "shortcuts";
      dialog.setAttribute("aria-labelledby", "shortcuts-title");
      const title = document.createElement("h2");
      title.id = "shortcuts-title";
      title.textContent = "Keyboard shortcuts";
      const list = document.createElement("dl");
      for (const [key, what] of KEYS) {
        const row = document.createElement("div");
        const dt = document.createElement("dt");
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        dt.append(kbd);
        const dd = document.createElement("dd");
        dd.textContent = what;
        row.append(dt, dd);
        list.append(row);
      }
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = "Keys are ignored while you type in a field.";
      const form = document.createElement("form");
      form.method = "dialog";
      const close = document.createElement("button");
      close.className = "button";
      close.textContent = "Close";
      form.append(close);
      dialog.append(title, list, note, form);
      document.body.append(dialog);
    }
    if (!dialog.open) dialog.showModal();
  };

  const typing = (target) =>
    target instanceof Element && (target.closest("input, textarea, select, [contenteditable]") || target.isContentEditable);

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      const field = event.target;
      if (!(field instanceof Element)) return;
      const noteForm = field.closest("form[data-note-form]");
      if (noteForm) {
        event.preventDefault();
        noteForm.querySelector("[data-note-cancel]")?.click();
        return;
      }
      const row = field.closest(".tag-row.editing");
      if (row) {
        event.preventDefault();
        row.querySelector("[data-row-cancel]")?.click();
        return;
      }
      if (field.matches("[data-tag-input]")) {
        event.preventDefault();
        field.value = "";
        select(field.closest("li.highlight"));
        if (!field.closest("li.highlight")) field.blur();
        return;
      }
      // Nothing holds the focus (what had it was swapped away): back to the highlight in hand.
      if (field === document.body && current && document.contains(current)) select(current);
      return;
    }
    if (typing(event.target) || (dialog && dialog.open)) return;
    if (event.key === "?") {
      event.preventDefault();
      showKeys();
      return;
    }
    if (!items().length) return;
    switch (event.key) {
      case "j":
        event.preventDefault();
        move(1);
        break;
      case "k":
        event.preventDefault();
        move(-1);
        break;
      case "f": {
        const item = currentItem();
        const button = item?.querySelector("[data-favorite-toggle]");
        if (!button) return;
        event.preventDefault();
        select(item);
        button.click();
        break;
      }
      case "t": {
        const item = currentItem();
        const field = item?.querySelector("[data-tag-input]");
        if (!field) return;
        event.preventDefault();
        current = item;
        field.focus();
        break;
      }
      case "n": {
        const item = currentItem();
        const link = item?.querySelector("[data-note-edit]");
        if (!link) return;
        event.preventDefault();
        current = item;
        link.click();
        break;
      }
      default:
    }
  });

  // Ctrl+Enter (or Cmd+Enter) in a note saves it.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target instanceof Element && event.target.closest("form[data-note-form]");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });

  // Clicking inside a highlight makes it the one the keys act on.
  document.addEventListener("click", (event) => {
    const item = event.target instanceof Element && event.target.closest("ol.highlights > li.highlight");
    if (item) current = item;
  });

  // A saved or cancelled note, or a renamed tag, takes the field the focus was in away: give the
  // focus back to the highlight (or row) it belongs to rather than to the top of the page.
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.elt;
    if (!(target instanceof Element) || !target.id) return;
    const swapped = document.getElementById(target.id);
    // A form that asks for the focus (a note, a tag's new name) gets it, whatever had it.
    const wanted = swapped?.matches("[autofocus]") ? swapped : swapped?.querySelector("[autofocus]");
    if (wanted) {
      if (document.activeElement !== wanted) wanted.focus();
      return;
    }
    if (document.activeElement !== document.body) return;
    const item = swapped?.closest("li.highlight");
    if (item) {
      select(item);
      return;
    }
    const focusable = swapped?.querySelector("[data-tag-input], [data-note-edit], a[href], button");
    if (focusable) focusable.focus();
  });

  // Counts the server reports after tagging: the tag page's "N highlights".
  document.addEventListener("commonplace:tag-count", (event) => {
    const { id, text } = event.detail || {};
    document.querySelectorAll(`[data-tag-count="${Number(id)}"]`).forEach((el) => {
      el.textContent = text;
    });
  });

  // A tag merged away or deleted on /tags/: one fewer in the count.
  document.addEventListener("commonplace:tag-gone", () => {
    const total = document.getElementById("tag-total");
    if (!total) return;
    const count = Math.max(0, Number(total.dataset.count || 0) - 1);
    total.dataset.count = String(count);
    total.textContent = `${count.toLocaleString("en")} tag${count === 1 ? "" : "s"}`;
  });
})();
