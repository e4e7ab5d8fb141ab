// prefcenter: small enhancements for the subscriber pages. Everything works without them.
(function () {
  "use strict";

  // Move focus to a form's error summary, so screen readers and keyboards start there.
  // After "load": the browser's own jump to the form's #fragment comes first.
  // Otherwise the message that says what a save changed gets the focus, so that it is read.
  var summary = document.querySelector("[data-error-summary]");
  var flash = document.querySelector("[data-flash]");
  var first = summary || flash;
  if (first) {
    window.addEventListener("load", function () {
      first.focus();
    });
  }

  // Show only the terms of the lists that are chosen, right above the button.
  var optInForm = document.querySelector("[data-optin-form]");
  if (optInForm) {
    var boxes = optInForm.querySelectorAll('input[type="checkbox"][name$="lists"]');
    var hint = optInForm.querySelector("[data-disclosure-hint]");
    var disclosures = optInForm.querySelectorAll("[data-disclosure-for]");
    var update = function () {
      var chosen = {};
      var any = false;
      boxes.forEach(function (box) {
        if (box.checked) {
          chosen[box.value] = true;
          any = true;
        }
      });
      disclosures.forEach(function (disclosure) {
        disclosure.hidden = !chosen[disclosure.getAttribute("data-disclosure-for")];
      });
      if (hint) {
        hint.hidden = any;
      }
    };
    boxes.forEach(function (box) {
      box.addEventListener("change", update);
    });
    update();
  }

  // "Stop all texts" asks first. Without this script its button opens the page's own
  // confirmation step (?stop=confirm); with it, the same question opens in a dialog: the
  // focus starts on "No, keep my texts", Escape closes it, and the focus then returns to
  // the button. Only the dialog's "Yes" button posts.
  var stopOpen = document.querySelector("form[data-stop-open]");
  var stopDialog = document.querySelector("dialog[data-stop-dialog]");
  if (stopOpen && stopDialog && typeof stopDialog.showModal === "function") {
    var stopButton = stopOpen.querySelector('button[type="submit"]');
    var stopCancel = stopDialog.querySelector("[data-stop-cancel]");
    stopButton.setAttribute("aria-haspopup", "dialog");
    stopOpen.addEventListener("submit", function (event) {
      event.preventDefault();
      stopDialog.showModal();
      stopCancel.focus();
    });
    stopCancel.addEventListener("click", function (event) {
      event.preventDefault();
      stopDialog.close();
    });
    stopDialog.addEventListener("close", function () {
      stopButton.focus();
    });
  }
  // The confirmation step shown as part of the page: start reading there.
  var stopConfirm = document.querySelector("[data-stop-confirm]");
  if (stopConfirm && !first) {
    window.addEventListener("load", function () {
      stopConfirm.focus();
    });
  }

  // A list waiting for the subscriber's reply updates by itself: the page asks its status
  // endpoint (same signed link), less and less often, until the text's answer can no
  // longer come, and the live region reads out each list that changed. Without this
  // script a reload shows the same.
  var texts = document.querySelector("[data-status-url]");
  if (texts && window.fetch && window.JSON) {
    var statusUrl = texts.getAttribute("data-status-url");
    var pollUntil = Date.parse(texts.getAttribute("data-poll-until"));
    var live = texts.querySelector("[data-live-status]");
    var delay = 2000;
    var applyStatus = function (data) {
      var changed = [];
      (data.lists || []).forEach(function (item) {
        var row = texts.querySelector('[data-list="' + item.id + '"]');
        if (!row || row.getAttribute("data-status") === item.status) {
          return;
        }
        row.setAttribute("data-status", item.status);
        row.className = "list-item list-item--" + item.status;
        var badge = row.querySelector("[data-list-badge]");
        if (badge) {
          badge.textContent = item.badge;
          badge.className = "badge badge--" + item.badge_kind;
        }
        var note = row.querySelector("[data-list-note]");
        if (note) {
          note.textContent = item.note;
          note.hidden = !item.note;
          note.classList.remove("list-item__note--pending");
        }
        changed.push(item.name + ": " + item.badge);
      });
      if (changed.length && live) {
        live.textContent = changed.join(". ");
      }
      if (data.poll_until) {
        pollUntil = Date.parse(data.poll_until);
      } else {
        pollUntil = 0;
      }
    };
    var poll = function () {
      if (!(Date.now() < pollUntil)) {
        return;
      }
      window.setTimeout(function () {
        fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) {
              pollUntil = 0;
              return null;
            }
            return response.json();
          })
          .then(function (data) {
            if (data) {
              applyStatus(data);
            }
            delay = Math.min(delay * 1.5, 60000);
            poll();
          })
          .catch(function () {
            delay = Math.min(delay * 2, 60000);
            poll();
          });
      }, delay);
    };
    poll();
  }

  // A second tap while a form is sending would send another confirmation text.
  var onceForms = document.querySelectorAll("form[data-once]");
  window.addEventListener("pageshow", function () {
    // Coming back with the browser's back button shows the page as it was left.
    onceForms.forEach(function (form) {
      form.removeAttribute("data-sending");
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  });
  onceForms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending") === "true") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sending", "true");
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
      });
    });
  });
})();
