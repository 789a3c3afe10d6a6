// Score sheet: no mark is lost on weak Wi-Fi. Loaded only by the score-sheet page (the CSP
// allows no inline script). Every mark request is written to an outbox in localStorage
// before it leaves; only the server's answer (saved, refused, stale, closed) empties it.
// A network error or a 5xx leaves it there: the row says "not saved — retrying" and the
// page resends with backoff, when the browser comes back online, and after a reload. The outbox
// is per user ("jx:mark:<user>:<competition>:<secret>:<criterion>") and holds all a resend needs,
// so app.js sends it from any other page of the same judge once the network is back.
(function () {
  "use strict";
  var TABLET_KEY = "jx-tablet-session";
  var RETRY_MAX_MS = 30000;
  var memory = {};  // the outbox when localStorage is unavailable (private mode, quota)
  var retryTimer = null;
  var attempt = 0;

  function sheet() { return document.getElementById("sheet"); }
  function text(name) { var s = sheet(); return s ? s.getAttribute("data-text-" + name) || "" : ""; }
  function rowOf(elt) { return elt && elt.closest ? elt.closest(".mark-row") : null; }
  function rows() { var s = sheet(); return s ? Array.prototype.slice.call(s.querySelectorAll(".mark-row")) : []; }

  // A random id per browser tab, so the audit trail tells two tablets of one judge apart.
  function tabletSession() {
    var id = null;
    try { id = window.sessionStorage.getItem(TABLET_KEY); } catch (e) { id = memory[TABLET_KEY]; }
    if (!id) {
      var bytes = new Uint8Array(12);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      memory[TABLET_KEY] = id;
      try { window.sessionStorage.setItem(TABLET_KEY, id); } catch (e) { /* kept in memory */ }
    }
    return id;
  }

  // --- the outbox: one entry per competition, entrant and criterion ---------------------------
  function keyOf(row) { return sheet().getAttribute("data-store") + row.id.replace("mark-", ""); }
  function labelOf(row) { var n = row.querySelector(".mark-name"); return n ? n.textContent : ""; }
  function load(row) {
    var raw = null;
    try { raw = window.localStorage.getItem(keyOf(row)); } catch (e) { raw = memory[keyOf(row)]; }
    try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }
  function keep(row, entry) {
    var raw = JSON.stringify(entry);
    memory[keyOf(row)] = raw;
    try { window.localStorage.setItem(keyOf(row), raw); } catch (e) { /* kept in memory */ }
  }
  function forget(row) {
    delete memory[keyOf(row)];
    try { window.localStorage.removeItem(keyOf(row)); } catch (e) { /* nothing stored */ }
  }

  function setState(row, state, message) {
    row.setAttribute("data-state", state);
    var box = row.querySelector(".mark-state");
    if (!box || !message) { return; }
    var span = document.createElement("span");
    span.className = "state-text";
    span.textContent = message;
    box.replaceChildren(span);
  }

  // --- resending ---------------------------------------------------------------------------------
  function resend(row, entry) {
    var version = row.querySelector('input[name="version"]');
    if (version) { version.value = entry.version; }
    var input = row.querySelector('input[name="value"]');
    if (input) {
      input.value = entry.value;
      window.htmx.trigger(input, "change");
      return;
    }
    var buttons = row.querySelectorAll('button[name="value"]');
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].value === entry.value) { window.htmx.trigger(buttons[i], "click"); return; }
    }
    forget(row);  // the scale no longer offers this value: there is nothing to resend
  }

  function retryAll() {
    rows().forEach(function (row) {
      var entry = load(row);
      if (entry && row.getAttribute("data-state") === "unsaved") { resend(row, entry); }
    });
  }

  function scheduleRetry() {
    if (retryTimer) { return; }
    var delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt));
    attempt += 1;
    retryTimer = window.setTimeout(function () { retryTimer = null; retryAll(); }, delay);
  }

  function retryNow() {
    attempt = 0;
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    retryAll();
  }

  // After a reload: put back what this tablet typed but the server never confirmed, and send it.
  function restore() {
    rows().forEach(function (row) {
      var entry = load(row);
      if (!entry) { return; }
      if (row.getAttribute("data-state") === "closed" || entry.value === row.getAttribute("data-saved")) {
        forget(row);
        return;
      }
      setState(row, "unsaved", text("unsaved"));
      resend(row, entry);
    });
  }

  // --- htmx events -------------------------------------------------------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    var d = event.detail;
    d.headers["X-Tablet-Session"] = tabletSession();
    var row = rowOf(d.elt);
    if (!row || d.verb !== "post") { return; }
    var p = d.parameters;
    keep(row, {
      value: p.value == null ? "" : String(p.value),
      version: p.version == null ? "0" : String(p.version),
      reason: p.reason == null ? "" : String(p.reason),
      url: d.path, session: tabletSession(), label: labelOf(row)
    });
    setState(row, "saving", text("saving"));
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail;
    var row = rowOf(d.elt);
    if (!row || !d.xhr || d.xhr.status !== 200) { return; }
    // An expired login answers with the login page: never put that in a row, keep the value.
    if (String(d.serverResponse).indexOf("mark-row") === -1) {
      d.shouldSwap = false;
      setState(row, "unsaved", text(d.xhr.responseURL.indexOf("/login") !== -1 ? "login" : "reload"));
    }
  });

  // An expired login answers 401 with HX-Redirect to the login page, which brings the judge back
  // here, where the outbox is resent. Go there only if the outbox outlives the page; otherwise
  // stay, keep the value on screen and say that a login is needed.
  var goingToLogin = false;
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var d = event.detail;
    if (!d.xhr || d.xhr.status !== 401) { return; }
    var row = rowOf(d.elt);
    if (row) { setState(row, "unsaved", text("login")); }
    if (persistent()) {
      goingToLogin = true;
    } else {
      event.preventDefault();
    }
  });

  // Failed requests only: a swapped row reports itself through htmx:load below.
  function failed(event) {
    var d = event.detail;
    var row = rowOf(d.elt);
    if (!row || d.successful || !load(row) || !document.body.contains(row)) { return; }
    var status = d.xhr ? d.xhr.status : 0;
    if (status === 0 || status >= 500) {
      setState(row, "unsaved", text("unsaved"));
      scheduleRetry();
    } else if (status === 400) {
      setState(row, "unsaved", text("reload"));  // the CSRF token expired: a reload sends the value
    } else if (status === 403 || status === 404) {
      forget(row);
      setState(row, "refused", text("forbidden"));
    }
  }
  document.addEventListener("htmx:afterRequest", failed);
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:timeout", failed);

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (elt.classList && elt.classList.contains("mark-row")) {
      forget(elt);  // the server answered this row: saved, refused, stale or closed
      attempt = 0;
      if (retryTimer) { retryNow(); }  // the network is back: send the others now
    } else if (elt.querySelector && elt.querySelector(".mark-row")) {
      restore();  // the page (or the whole sheet) was loaded
    }
  });

  window.addEventListener("online", retryNow);

  // --- the keyboard and leaving the page --------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches('.mark-row input[name="value"]')) { return; }
    event.preventDefault();
    var inputs = Array.prototype.slice.call(document.querySelectorAll('.mark-row input[name="value"]:not(:disabled)'));
    var next = inputs[inputs.indexOf(input) + 1];
    if (next) { next.focus(); } else { input.blur(); }
  });

  // A mark in a lasting outbox is sent from the next page: leaving only loses one kept in memory,
  // or a value typed and not yet sent.
  function unsaved() {
    var lasting = persistent();
    return rows().some(function (row) {
      var input = row.querySelector('input[name="value"]');
      if (load(row) !== null) { return !lasting; }
      return input && !input.disabled && input.value !== input.defaultValue;
    });
  }

  function persistent() {
    try {
      window.localStorage.setItem("jx-probe", "1");
      window.localStorage.removeItem("jx-probe");
      return true;
    } catch (e) {
      return false;
    }
  }

  window.addEventListener("beforeunload", function (event) {
    if (goingToLogin || !unsaved()) { return; }
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to show their "leave the page?" question
  });
})();
