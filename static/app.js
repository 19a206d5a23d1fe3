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

  // (c) After an htmx swap, put the keyboard focus somewhere sensible.
  // - A control that was focused inside the swapped region (a day of the calendar, a quick
  //   tool, the activity list) is focused again in the new content, found by its id or by its
  //   name and value: tapping a day keeps the focus on that day.
  // - Otherwise [data-focus-after-swap] in the new content gets it (the month title after a
  //   month change, the error summary of a form).
  // htmx dispatches htmx:afterSettle on each swapped element (the new elements for outerHTML,
  // the target for innerHTML / boost), out-of-band ones included.
  var pendingFocus = null;
  var focusSettled = false;

  function focusKey(element) {
    if (element.id) {
      return { id: element.id };
    }
    var name = element.getAttribute("name");
    var value = element.getAttribute("value");
    if (name && value !== null) {
      return { tag: element.tagName, name: name, value: value };
    }
    return null;
  }

  function findByKey(key) {
    if (key.id) {
      return document.getElementById(key.id);
    }
    var candidates = document.getElementsByTagName(key.tag);
    for (var i = 0; i < candidates.length; i += 1) {
      if (candidates[i].getAttribute("name") === key.name &&
          candidates[i].getAttribute("value") === key.value) {
        return candidates[i];
      }
    }
    return null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var active = document.activeElement;
    focusSettled = false;
    pendingFocus = null;
    if (target instanceof Element && active instanceof Element && active !== document.body &&
        target.contains(active)) {
      pendingFocus = focusKey(active);
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    if (focusSettled || !(swapped instanceof Element) || !swapped.isConnected) {
      return;
    }
    if (pendingFocus) {
      var again = findByKey(pendingFocus);
      if (again && !again.disabled) {
        focusSettled = true;
        pendingFocus = null;
        again.focus();
        return;
      }
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
    focusSettled = true;
    pendingFocus = null;
    focusTarget.focus();
  });

  // (d) A table wider than the screen scrolls sideways inside its .table-wrap: such a
  // wrapper becomes a named, focusable region so the keyboard can scroll it too (RGAA 7.3,
  // WCAG 2.1.1). Wrappers that fit are left out of the tab order.
  function markScrollableTables() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i += 1) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        if (!wrap.hasAttribute("tabindex")) {
          var caption = wrap.querySelector("caption");
          var name = caption ? caption.textContent.replace(/\s+/g, " ").trim() : "";
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("role", "region");
          wrap.setAttribute("aria-label", (name || "Tableau") + " (défile horizontalement)");
          wrap.classList.add("is-scrollable");
        }
      } else if (wrap.classList.contains("is-scrollable")) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        wrap.classList.remove("is-scrollable");
      }
    }
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(markScrollableTables, 150);
  });
  document.addEventListener("htmx:afterSettle", markScrollableTables);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markScrollableTables);
  } else {
    markScrollableTables();
  }

  // (e) No network during an htmx request: say so where it is heard and seen, instead of a
  // tap that silently does nothing. The message goes when the next request succeeds.
  function networkNotice(text) {
    var notice = document.getElementById("network-status");
    if (!notice) {
      return;
    }
    notice.textContent = text;
    notice.classList.toggle("is-shown", Boolean(text));
  }

  document.addEventListener("htmx:sendError", function () {
    networkNotice("Connexion impossible : votre demande n'a pas été envoyée. " +
      "Vérifiez votre connexion à Internet puis réessayez.");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful) {
      networkNotice("");
    }
  });

  // (f) The offline page reloads itself when the connection comes back; "Réessayer" reloads
  // the page that could not be reached (the offline page is shown at its address).
  window.addEventListener("online", function () {
    if (document.body && document.body.classList.contains("offline")) {
      window.location.reload();
    }
  });

  document.addEventListener("click", function (event) {
    var retry = event.target instanceof Element
      ? event.target.closest("[data-retry]")
      : null;
    if (retry) {
      event.preventDefault();
      window.location.reload();
    }
  });

  // (g) A form marked [data-submit-once] is sent once: on opening day a login or a
  // confirmation can take several seconds, and a second click would send a second request
  // (a second password hash, queued behind everyone else's) and drop the first answer.
  // The button says the request is on its way; after 20 s the form may be sent again (a
  // stopped page, a lost answer). When the answer is slow (the opening's queue), the form's
  // [data-slow-notice] status (inside it, or named by its data-slow-notice-id) says the
  // request is in and asks not to reload, which would send it again from the back of the
  // queue. The state is cleared when the page comes back from the browser's history.
  var RESEND_AFTER_MS = 20000;
  var SLOW_AFTER_MS = 4000;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) {
      return;
    }
    var sentAt = Number(form.getAttribute("data-sent-at") || 0);
    if (sentAt && Date.now() - sentAt < RESEND_AFTER_MS) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent-at", String(Date.now()));
    var buttons = form.querySelectorAll("button[type=submit][data-busy-label]");
    for (var i = 0; i < buttons.length; i += 1) {
      var button = buttons[i];
      if (!button.hasAttribute("data-idle-label")) {
        button.setAttribute("data-idle-label", button.textContent);
      }
      // aria-disabled, not disabled: a disabled button would leave the submission.
      button.setAttribute("aria-disabled", "true");
      button.textContent = button.getAttribute("data-busy-label");
    }
    var notice = form.querySelector("[data-slow-notice]") ||
      document.getElementById(form.getAttribute("data-slow-notice-id") || "");
    if (notice) {
      window.setTimeout(function () {
        if (form.hasAttribute("data-sent-at")) {
          notice.textContent = notice.getAttribute("data-slow-notice");
        }
      }, SLOW_AFTER_MS);
    }
  });

  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-sent-at]");
    for (var i = 0; i < forms.length; i += 1) {
      forms[i].removeAttribute("data-sent-at");
      var buttons = forms[i].querySelectorAll("button[data-idle-label]");
      for (var j = 0; j < buttons.length; j += 1) {
        buttons[j].removeAttribute("aria-disabled");
        buttons[j].textContent = buttons[j].getAttribute("data-idle-label");
      }
    }
    var notices = document.querySelectorAll("[data-slow-notice]");
    for (var k = 0; k < notices.length; k += 1) {
      notices[k].textContent = "";
    }
  });

  // (h) Installable app: the service worker (static files and the offline page only).
  // At logout the server sends Clear-Site-Data; the worker is also told to drop its caches
  // in case the browser ignores that header.
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        // No worker (private browsing, disabled by policy): the site works without it.
      });
    });

    document.addEventListener("submit", function (event) {
      var form = event.target;
      var controller = navigator.serviceWorker.controller;
      if (controller && form instanceof HTMLFormElement &&
          /\/deconnexion$/.test(form.getAttribute("action") || "")) {
        controller.postMessage({ type: "clear-personal" });
      }
    });
  }
})();
