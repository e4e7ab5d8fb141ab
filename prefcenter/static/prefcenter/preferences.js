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
