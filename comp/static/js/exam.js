// The candidate's paper: no answer is lost on a phone's weak network. Loaded only by the exam page
// (the CSP allows no inline script). Each choice is written to an outbox in localStorage before it is
// sent ("jx:exam:<code>:<entrant>:<position>"); only the server's answer (saved, stale, refused,
// finished) empties it. A lost request leaves it there: the status line counts the answers waiting, and
// they are sent again in the order chosen when the network returns, on a timer, and after a reload.
// The countdown follows the server's clock (each answer and a periodic /clock correct it); at 0 the
// server ends the sitting. One device answers at a time: another device's take-over shows an overlay.
(function () {
  "use strict";
  var DEVICE_KEY = "jx-exam-device";
  var RETRY_MAX_MS = 30000;
  var CLOCK_EVERY_MS = 30000;
  var LOW_SECONDS = 300;
  var memory = {};  // the outbox when localStorage is unavailable (private mode, full)

  function random() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // A token per browser tab: a reload keeps it (the same device), a new tab or phone has its own.
  function device() {
    var id = null;
    try { id = window.sessionStorage.getItem(DEVICE_KEY); } catch (e) { id = memory[DEVICE_KEY]; }
    if (!id) {
      id = random();
      memory[DEVICE_KEY] = id;
      try { window.sessionStorage.setItem(DEVICE_KEY, id); } catch (e) { /* kept in memory */ }
    }
    return id;
  }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // The start form (and any other) carries this tab's device token.
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector && event.target.querySelector('input[name="device"]');
    if (field) { field.value = device(); }
  }, true);
  // A form that needs this tab's token waits for this script: tapped before it ran, it would go without one.
  document.querySelectorAll("form.exam-device-form [data-needs-device]").forEach(function (button) {
    button.disabled = false;
  });

  var root = document.getElementById("exam");
  if (!root) { return; }

  function text(name) { return root.getAttribute("data-text-" + name) || ""; }
  function count(name, n) { return text(name).replace("{n}", String(n)); }
  function forms() { return Array.prototype.slice.call(root.querySelectorAll("form.exam-q")); }
  function formAt(position) { return document.getElementById("q-" + position); }
  function navAt(position) { return root.querySelector('.exam-nav a[data-position="' + position + '"]'); }

  // --- the outbox ----------------------------------------------------------------------------------
  var prefix = root.getAttribute("data-store");
  function keyOf(position) { return prefix + position; }
  function read(key) {
    var raw = null;
    try { raw = window.localStorage.getItem(key); } catch (e) { raw = memory[key]; }
    try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }
  function load(position) { return read(keyOf(position)); }
  function keep(position, entry) {
    var raw = JSON.stringify(entry);
    memory[keyOf(position)] = raw;
    try { window.localStorage.setItem(keyOf(position), raw); } catch (e) { /* kept in memory */ }
  }
  function forget(position) {
    delete memory[keyOf(position)];
    try { window.localStorage.removeItem(keyOf(position)); } catch (e) { /* nothing stored */ }
  }
  function waiting() {
    return forms().map(function (f) { return { position: f.dataset.position, entry: load(f.dataset.position) }; })
      .filter(function (w) { return w.entry; })
      .sort(function (a, b) { return a.entry.seq - b.entry.seq; });
  }
  var seq = Date.now();

  // --- what the candidate sees -------------------------------------------------------------------
  function responseOf(form) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll('[name="response"]'));
    if (form.dataset.kind === "numeric") { return inputs.length ? inputs[0].value.trim() : ""; }
    return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }).sort().join("");
  }
  function show(form, response) {
    form.querySelectorAll('[name="response"]').forEach(function (input) {
      if (input.type === "text") { input.value = response; } else { input.checked = response.indexOf(input.value) !== -1; }
    });
  }
  function setState(form, state, message) {
    form.setAttribute("data-state", state);
    var box = form.querySelector(".q-state");
    if (box) { box.textContent = message || ""; }
    var nav = navAt(form.dataset.position);
    if (!nav) { return; }
    var navState = state === "waiting" || state === "saving" ? "waiting" : (form.dataset.saved ? "answered" : "empty");
    nav.setAttribute("data-state", navState);
  }
  function status() {
    var n = waiting().length;
    var box = document.getElementById("exam-outbox");
    box.hidden = n === 0;
    box.textContent = n ? count("outbox", n) : "";
  }

  // --- sending, one at a time in the order chosen ---------------------------------------------------
  var sending = false, stopped = false, retryTimer = null, attempt = 0;

  function post(url, fields, extraHeaders) {
    var body = new URLSearchParams(fields);
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf(), "X-Exam-Device": device() };
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return window.fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  }

  function pump() {
    if (sending || stopped) { status(); return; }
    var next = waiting()[0];
    status();
    if (!next) { return; }
    var form = formAt(next.position);
    var sent = next.entry;
    sending = true;
    setState(form, "saving", text("saving"));
    post(form.action, { response: sent.response, version: sent.version, device: device() }).then(function (r) {
      correct(r.headers.get("X-Exam-Remaining"));
      if (r.status >= 500) { throw new Error("server " + r.status); }
      return r.json().then(function (body) { answered(form, sent, r.status, body); }, function () {
        throw new Error("not json");
      });
    }).then(function () {
      sending = false;
      attempt = 0;
      pump();
    }, function () {
      sending = false;
      waiting().forEach(function (w) { setState(formAt(w.position), "waiting", text("waiting")); });
      status();
      retryLater();
    });
  }

  function answered(form, sent, code, body) {
    var position = form.dataset.position;
    var current = load(position);
    var newer = current && current.seq !== sent.seq;  // chosen again while this one was on its way
    if (code === 200 || body.state === "stale") {
      form.querySelector('input[name="version"]').value = body.version;
      form.dataset.saved = body.response;
      if (newer) { current.version = String(body.version); keep(position, current); return; }
      forget(position);
      if (body.state === "stale") { show(form, body.response); setState(form, "stale", text("stale")); return; }
      setState(form, "saved", text("saved"));
      return;
    }
    if (body.state === "taken") { taken(); return; }
    if (body.state === "finished") { over(); return; }
    if (code === 422) {
      if (!newer) { forget(position); }
      setState(form, "refused", text("refused") + " " + (body.message || ""));
      return;
    }
    stopped = true;  // 400 (the page is out of date), 404: nothing sent again until a reload
    setState(form, "waiting", body.message || "");
  }

  function retryLater() {
    if (retryTimer || stopped) { return; }
    var delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt));
    attempt += 1;
    retryTimer = window.setTimeout(function () { retryTimer = null; pump(); }, delay);
  }
  function retryNow() {
    attempt = 0;
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    pump();
  }
  window.addEventListener("online", retryNow);

  root.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name !== "response") { return; }
    var form = input.form;
    var entry = load(form.dataset.position);
    seq += 1;
    keep(form.dataset.position, {
      response: responseOf(form),
      // A newer choice goes over the version the server last confirmed (or the waiting one's).
      version: entry ? entry.version : form.querySelector('input[name="version"]').value,
      seq: seq
    });
    setState(form, "waiting", text("waiting"));
    pump();
  });

  // A number being typed saves a second after the last keystroke, not only when the field is left:
  // one typed just before the time is up is sent, not lost in the field.
  var typing = {};
  root.addEventListener("input", function (event) {
    var input = event.target;
    if (input.name !== "response" || input.type !== "text") { return; }
    var position = input.form.dataset.position;
    window.clearTimeout(typing[position]);
    typing[position] = window.setTimeout(function () {
      delete typing[position];
      var entry = load(position);
      var held = entry ? entry.response : input.form.dataset.saved;
      if (input.value.trim() !== held) { input.dispatchEvent(new Event("change", { bubbles: true })); }
    }, 1000);
  });

  // Reloaded (or back after a crash): put back what this phone chose but the server never confirmed.
  function restore() {
    waiting().forEach(function (w) {
      var form = formAt(w.position);
      if (w.entry.response === form.dataset.saved) { forget(w.position); return; }
      show(form, w.entry.response);
      setState(form, "waiting", text("waiting"));
    });
  }

  // --- flags for review, kept on this phone only ---------------------------------------------------
  var flagKey = prefix + "flags";
  function flags() { return read(flagKey) || { list: [] }; }
  root.addEventListener("change", function (event) {
    if (!event.target.classList.contains("q-flag")) { return; }
    var f = flags(), position = event.target.form.dataset.position;
    f.list = f.list.filter(function (p) { return p !== position; });
    if (event.target.checked) { f.list.push(position); }
    try { window.localStorage.setItem(flagKey, JSON.stringify(f)); } catch (e) { /* not kept */ }
    markFlags();
  });
  function markFlags() {
    var list = flags().list;
    forms().forEach(function (form) {
      var on = list.indexOf(form.dataset.position) !== -1;
      form.querySelector(".q-flag").checked = on;
      var nav = navAt(form.dataset.position);
      if (nav) { nav.classList.toggle("flagged", on); }
    });
  }

  // --- the clock: the server's ---------------------------------------------------------------------
  var endAt = Date.now() + Number(root.getAttribute("data-remaining") || 0) * 1000;
  var ended = false;
  function correct(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") { return; }
    endAt = Date.now() + Number(seconds) * 1000;
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
    var clock = document.getElementById("exam-clock");
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    clock.textContent = (h ? h + ":" + two(m) : two(m)) + ":" + two(s);
    clock.classList.toggle("low", left < LOW_SECONDS);
    if (left === 0 && !ended) { timeUp(); }
  }
  function checkClock() {
    return window.fetch(root.getAttribute("data-clock-url"), {
      headers: { "Accept": "application/json", "X-Exam-Device": device() }, credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (body) {
      correct(body.remaining);
      if (body.state === "finished") { over(); }
      if (body.state === "running" && body.device === false) { taken(); }  // told even before its next answer
      return body;
    });
  }
  function taken() { stopped = true; document.getElementById("exam-taken").hidden = false; }
  // At 0 the server ends the sitting by time (the clock request makes sure); this page then shows the result.
  function timeUp() {
    ended = true;
    stopped = true;
    document.getElementById("exam-over").hidden = false;
    checkClock().then(function (body) {
      if (body.state !== "finished") { ended = false; stopped = false; document.getElementById("exam-over").hidden = true; }
    }, function () { window.addEventListener("online", function () { timeUp(); }, { once: true }); });
  }
  function over() {
    stopped = true;
    ended = true;
    waiting().forEach(function (w) { forget(w.position); });
    status();
    window.location.assign(window.location.pathname);
  }

  // --- focus losses, for the proctor ---------------------------------------------------------------
  var lastFocus = 0;
  function focusLost() {
    if (ended || Date.now() - lastFocus < 2000) { return; }  // blur and hidden of one switch count once
    lastFocus = Date.now();
    post(root.getAttribute("data-focus-url"), { device: device() }).catch(function () { /* offline: not counted */ });
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) { focusLost(); } });
  window.addEventListener("blur", focusLost);

  // --- this device answers: on opening, and "continue here" after another device took over ---------
  function claim() {
    return post(root.getAttribute("data-device-url"), { device: device() }).then(function (r) { return r.json(); })
      .then(function (body) {
        correct(body.remaining);
        if (body.state === "finished") { over(); }
        return body;
      });
  }
  document.getElementById("exam-continue").addEventListener("click", function () {
    claim().then(function () { window.location.reload(); }, function () { /* offline: try again later */ });
  });

  // --- submitting: say what is unanswered or still waiting -----------------------------------------
  var submitForm = document.getElementById("submit-form");
  submitForm.addEventListener("submit", function () {
    var unanswered = forms().filter(function (f) { return !f.dataset.saved && !load(f.dataset.position); }).length;
    var unsent = waiting().length;
    var parts = [text("confirm")];
    if (unanswered) { parts.push(count("unanswered", unanswered)); }
    if (unsent) { parts.push(count("unsent", unsent)); }
    submitForm.dataset.confirm = parts.join("\n");  // app.js asks it
  });

  restore();
  markFlags();
  status();
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(function () { checkClock().catch(function () { /* offline */ }); }, CLOCK_EVERY_MS);
  claim().then(pump, pump);
})();
