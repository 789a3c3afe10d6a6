// Jiangxin page behaviour. No inline scripts: the Content-Security-Policy allows only this file.
(function () {
  "use strict";
  // <form data-confirm="…">: a step others act on at once, or that cannot be taken back, is asked first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !form.dataset.submitted && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  // A form submitted once shows it is busy and cannot be sent twice by an impatient tap.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented && !form.dataset.submitted) { return; }  // not confirmed: nothing was sent
    if (form.dataset.submitted) { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.querySelectorAll("[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
  });
  // Coming back with the browser's back button must not leave a form stuck as busy.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    });
  });
})();

// ---- registration: the approval queue's "select all" box ----
(function () {
  "use strict";
  // Delegated, so it also works on a queue table htmx has just swapped in.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) { return; }
    var scope = box.closest("table") || document;
    scope.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (b) {
      b.checked = box.checked;
    });
  });
})();

// ---- a suggested code follows the fields it is made of, until someone types their own ----
(function () {
  "use strict";
  // <input data-suggest="RT-{year}-{unit_kind}" data-suggested="RT-2026-TEAM">: while the field still
  // holds the suggestion, changing the year or the rated units changes the code with them.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form) { return; }
    form.querySelectorAll("input[data-suggest]").forEach(function (input) {
      if (input === event.target || input.value !== input.dataset.suggested) { return; }
      var value = input.dataset.suggest.replace(/\{(\w+)\}/g, function (_, name) {
        var field = form.elements[name];
        return field ? String(field.value).trim().toUpperCase() : "";
      });
      input.value = value;
      input.dataset.suggested = value;
    });
  });
})();

// ---- accounts: print the activation sheet; select a link in one tap ----
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-print]")) { window.print(); }
    if (target.matches && target.matches("input.link-url")) { target.select(); }
  });
})();
