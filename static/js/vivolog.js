/*
 * Vivolog page behaviour. Dependency-free, loaded with `defer` after htmx.
 *
 * Pages never carry inline scripts or inline event handlers (a strict Content-Security-Policy
 * is coming), so every behaviour here is switched on by markup:
 *   - htmx requests carry Django's CSRF token (X-CSRFToken);
 *   - data-confirm="Question?" on a form, submit button, link or htmx element asks first,
 *     in the #confirm-dialog <dialog> from base.html;
 *   - data-dismiss="alert" on a button inside .alert removes the alert;
 *   - data-dialog-open="<dialog id>" opens a dialog; closing returns focus to the opener;
 *   - "?" (outside text fields) opens the keyboard shortcuts dialog (#shortcuts-dialog).
 * Everything degrades: without this file forms still submit and links still work.
 */
(function () {
  "use strict";

  var HTMX_ATTRIBUTES = ["hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"];

  /* --- CSRF for htmx ------------------------------------------------------------------- */

  function readCookie(name) {
    var prefix = name + "=";
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i += 1) {
      var part = parts[i].trim();
      if (part.indexOf(prefix) === 0) {
        return decodeURIComponent(part.slice(prefix.length));
      }
    }
    return "";
  }

  // The cookie is freshest (Django rotates the token at login); the meta tag covers
  // CSRF_COOKIE_HTTPONLY and CSRF_USE_SESSIONS, where scripts cannot read the cookie.
  function csrfToken() {
    var fromCookie = readCookie("csrftoken");
    if (fromCookie) {
      return fromCookie;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var verb = (event.detail.verb || "get").toUpperCase();
    if (verb === "GET" || verb === "HEAD") {
      return;
    }
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  /* --- Dialogs ------------------------------------------------------------------------- */

  function openDialog(dialog, opener) {
    if (!dialog || dialog.open || typeof dialog.showModal !== "function") {
      return false;
    }
    var returnTo = opener || document.activeElement;
    dialog.addEventListener(
      "close",
      function () {
        if (returnTo && typeof returnTo.focus === "function" && document.contains(returnTo)) {
          returnTo.focus();
        }
      },
      { once: true }
    );
    dialog.showModal();
    return true;
  }

  function anyModalOpen() {
    return document.querySelector("dialog[open]") !== null;
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (!opener) {
      return;
    }
    var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
    if (openDialog(dialog, opener)) {
      event.preventDefault();
    }
  });

  /* --- Confirmation -------------------------------------------------------------------- */

  // Resolves true when the user confirms. Falls back to window.confirm when the page has
  // no #confirm-dialog (e.g. an error page) or the browser lacks <dialog>.
  function askConfirmation(message, confirmLabel) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(message));
    }
    var text = dialog.querySelector("[data-confirm-message]");
    var accept = dialog.querySelector('button[value="confirm"]');
    if (text) {
      text.textContent = message;
    }
    if (accept) {
      accept.textContent = confirmLabel || accept.getAttribute("data-default-label") || "Confirm";
    }
    return new Promise(function (resolve) {
      dialog.returnValue = "";
      dialog.addEventListener(
        "close",
        function () {
          resolve(dialog.returnValue === "confirm");
        },
        { once: true }
      );
      openDialog(dialog);
    });
  }

  function isHtmxDriven(element) {
    for (var i = 0; i < HTMX_ATTRIBUTES.length; i += 1) {
      var name = HTMX_ATTRIBUTES[i];
      if (element.hasAttribute(name) || element.hasAttribute("data-" + name)) {
        return true;
      }
    }
    var boosted = element.closest("[hx-boost], [data-hx-boost]");
    if (boosted) {
      var value = boosted.getAttribute("hx-boost") || boosted.getAttribute("data-hx-boost");
      return value === "true";
    }
    return false;
  }

  // Forms: data-confirm on the <form> or on the button that submitted it.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var submitter = event.submitter || null;
      if (form.dataset.confirmed === "true") {
        delete form.dataset.confirmed;
        return;
      }
      var source = submitter && submitter.hasAttribute("data-confirm") ? submitter : form;
      var message = source.getAttribute("data-confirm");
      if (!message || isHtmxDriven(form)) {
        return;
      }
      event.preventDefault();
      askConfirmation(message, source.getAttribute("data-confirm-label")).then(function (ok) {
        if (!ok) {
          return;
        }
        form.dataset.confirmed = "true";
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit(submitter);
        } else {
          form.submit();
        }
      });
    },
    true
  );

  // Links: data-confirm on an <a href>.
  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest("a[data-confirm][href]");
      if (!link || isHtmxDriven(link)) {
        return;
      }
      event.preventDefault();
      askConfirmation(link.getAttribute("data-confirm"), link.getAttribute("data-confirm-label"))
        .then(function (ok) {
          if (ok) {
            window.location.assign(link.href);
          }
        });
    },
    true
  );

  // htmx elements: htmx asks us before every request; we answer for data-confirm ones.
  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    var trigger = event.detail.triggeringEvent;
    var submitter = trigger && trigger.submitter;
    var source = submitter && submitter.hasAttribute("data-confirm") ? submitter : element;
    var message = source && source.getAttribute("data-confirm");
    if (!message) {
      return;
    }
    event.preventDefault();
    askConfirmation(message, source.getAttribute("data-confirm-label")).then(function (ok) {
      if (ok) {
        event.detail.issueRequest(true);
      }
    });
  });

  /* --- Alerts -------------------------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var button = event.target.closest('[data-dismiss="alert"]');
    if (!button) {
      return;
    }
    var alert = button.closest(".alert");
    if (!alert) {
      return;
    }
    // Keep keyboard users in place: focus the next alert's close button, else <main>.
    var next = alert.nextElementSibling;
    var nextButton = next && next.querySelector('[data-dismiss="alert"]');
    alert.remove();
    var target = nextButton || document.getElementById("main");
    if (target) {
      target.focus();
    }
  });

  /* --- Keyboard shortcuts -------------------------------------------------------------- */

  function isTyping(element) {
    if (!element || element === document.body) {
      return false;
    }
    if (element.isContentEditable) {
      return true;
    }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key !== "?" || isTyping(event.target) || anyModalOpen()) {
      return;
    }
    if (openDialog(document.getElementById("shortcuts-dialog"))) {
      event.preventDefault();
    }
  });
})();
