/* Portail Famille — small progressive enhancements.
 * Vanilla JS, CSP-safe (no inline handlers, no eval, no inline styles).
 * Every listener is delegated on `document`, so the behaviour survives
 * htmx swaps and hx-boost navigation (which replaces <body> content).
 * Safe to load with or without `defer`.
 */
(function () {
  "use strict";

  var root = document.documentElement;

  // Tell the CSS that JavaScript is available (collapsible phone menu,
  // hidden "Changer" buttons next to auto-submitting selects, ...).
  root.classList.add("js");

  // (a) Phone menu: [data-menu-toggle][aria-controls] opens/closes its target.
  function setMenu(button, open) {
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) {
      return;
    }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    target.classList.toggle("is-open", open);
    // The account block sits outside #navigation: the header carries the
    // state too so the CSS can show/hide both together.
    var header = button.closest(".site-header");
    if (header) {
      header.classList.toggle("is-menu-open", open);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element
      ? event.target.closest("[data-menu-toggle]")
      : null;
    if (button) {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
    }
  });

  // (b) <select data-autosubmit> submits its form on change.
  // requestSubmit() fires the submit event, so htmx (hx-boost / hx-post)
  // still intercepts the submission.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) ||
        !select.hasAttribute("data-autosubmit") || !select.form) {
      return;
    }
    if (typeof select.form.requestSubmit === "function") {
      select.form.requestSubmit();
    } else {
      select.form.submit();
    }
  });

  // Print buttons: [data-print] opens the browser's print dialog (print stylesheet).
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element
      ? event.target.closest("[data-print]")
      : null;
    if (button) {
      window.print();
    }
  });

  // (c) After an htmx swap, move focus to [data-focus-after-swap] found in the
  // swapped content. htmx dispatches htmx:afterSettle on each swapped element
  // (the new elements for outerHTML, the target for innerHTML / boost).
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    if (!(swapped instanceof Element) || !swapped.isConnected) {
      return;
    }
    var focusTarget = swapped.matches("[data-focus-after-swap]")
      ? swapped
      : swapped.querySelector("[data-focus-after-swap]");
    if (!focusTarget) {
      return;
    }
    if (focusTarget.tabIndex < 0 && !focusTarget.hasAttribute("tabindex")) {
      // Make headings, notices, etc. programmatically focusable.
      focusTarget.setAttribute("tabindex", "-1");
    }
    focusTarget.focus();
  });
})();
