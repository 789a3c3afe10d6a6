// The candidate's paper: no answer is lost on a phone's weak network. Loaded only by the exam page
// (the CSP allows no inline script). Each choice is written to an outbox in localStorage before it is
// sent ("jx:exam:<code>:<entrant>:<position>"); only the server's answer (saved, stale, refused,
// finished) empties it. A lost request leaves it there: the status line counts the answers waiting, and
// they are sent again in the order chosen when the network returns, on a timer, and after a reload.
// A refusal that is not JSON (an expired token or session) stops the sending until a reload, which sends
// what waits. The countdown follows the server's clock (each answer and a periodic /clock correct it); at
// 0 the page asks the server, which ends the sitting, and only its word ends the paper here. One device
// answers at a time: another device's take-over shows an overlay.
(function () {
  "use strict";
  var DEVICE_KEY = "jx-exam-device";
  var RETRY_MAX_MS = 30000;
  var CLOCK_EVERY_MS = 30000;
  var END_CHECK_MS = 5000;  // at 0, how often the server is asked again whether the sitting has ended
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
  document.querySelectorAll("form.exam-device-form [data-loading-note]").forEach(function (note) { note.hidden = true; });

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
  // The copy in memory first: when localStorage is full (or has no quota) setItem throws but getItem
  // still answers, with nothing or an older entry, so the newest choice is the one kept in memory.
  function read(key) {
    var raw = null;
    try { raw = key in memory ? memory[key] : window.localStorage.getItem(key); } catch (e) { raw = null; }
    try { return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }
  function write(key, raw) {
    memory[key] = raw;
    try { window.localStorage.setItem(key, raw); } catch (e) { /* kept in memory */ }
  }
  function load(position) { return read(keyOf(position)); }
  function keep(position, entry) { write(keyOf(position), JSON.stringify(entry)); }
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
    nameNav(nav);
  }
  // A navigator number's name carries its state and flag ("第 3 题，已答，待检查"): not only its colour tells it.
  function nameNav(nav) {
    var name = nameWith(nav.getAttribute("data-label"), text("nav-" + nav.getAttribute("data-state")));
    if (nav.classList.contains("flagged")) { name = nameWith(name, text("nav-flagged")); }
    nav.setAttribute("aria-label", name);
  }
  // "%(question)s, %(state)s" from the catalog: each language joins a name and a state its own way.
  function nameWith(question, state) {
    return text("nav-name").replace("{q}", function () { return question; }).replace("{s}", function () { return state; });
  }
  function status() {
    var n = waiting().length;
    var line = n ? count("outbox", n) : "";
    if (outdated) { line = text("reload") + (line ? " " + line : ""); }
    var box = document.getElementById("exam-outbox");
    box.hidden = !line;
    box.textContent = line;
    box.classList.toggle("outdated", outdated);
    if (!line) { document.getElementById("exam-submit-note").textContent = ""; }  // nothing waits any more
  }
  function waitingText() { return outdated ? text("reload") : text("waiting"); }

  // --- sending, one at a time in the order chosen ---------------------------------------------------
  var sending = false, retryTimer = null, attempt = 0;
  var outdated = false;     // the server refused this page (an expired token or session): only a reload helps
  var takenOver = false;    // another device answers now
  var finished = false;     // the server has ended the sitting
  var checkingEnd = false;  // this phone's countdown is at 0; the server has not yet said the sitting ended
  function stopped() { return outdated || takenOver || finished; }

  function post(url, fields, extraHeaders) {
    var body = new URLSearchParams(fields);
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf(), "X-Exam-Device": device() };
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return window.fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  }

  // Whoever waits for the outbox to stop moving (the submit button) is told true once it is empty, false
  // when the network or the server stops it.
  var idle = [];
  function settled(empty) {
    var told = idle;
    idle = [];
    told.forEach(function (tell) { tell(empty); });
  }
  function sendAllNow() {
    return new Promise(function (resolve) { idle.push(resolve); retryNow(); });
  }

  function isJson(r) { return (r.headers.get("Content-Type") || "").indexOf("application/json") !== -1; }
  // A 4xx page that is not JSON is the server's refusal, not a lost network: an expired CSRF token or a
  // missing device (400), a session that no longer admits her (404), 403. Sending again cannot help.
  function refusedPage(r) { return r.status >= 400 && r.status < 500 && !isJson(r); }
  // Nothing is sent until a reload; the answers wait in the outbox, and the reloaded page sends them.
  function pageOutdated() {
    outdated = true;
    waiting().forEach(function (w) { setState(formAt(w.position), "waiting", text("reload")); });
    status();
  }

  function pump() {
    if (sending) { status(); return; }  // the request on its way calls pump again when it is answered
    if (stopped()) { status(); settled(false); return; }
    var next = waiting()[0];
    status();
    if (!next) { settled(true); return; }
    var form = formAt(next.position);
    var sent = next.entry;
    sending = true;
    setState(form, "saving", text("saving"));
    post(form.action, { response: sent.response, version: sent.version, device: device() }).then(function (r) {
      correct(r.headers.get("X-Exam-Remaining"));
      if (r.status >= 500) { throw new Error("server " + r.status); }
      if (refusedPage(r)) { pageOutdated(); return; }
      return r.json().then(function (body) { answered(form, sent, r.status, body); }, function () {
        throw new Error("not json");  // a captive portal's page, or an answer cut off: the network
      });
    }).then(function () {
      sending = false;
      attempt = 0;
      pump();
    }, function () {
      sending = false;
      waiting().forEach(function (w) { setState(formAt(w.position), "waiting", waitingText()); });
      status();
      retryLater();
      settled(false);
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
    pageOutdated();  // another refusal (400, 404): nothing sent again until a reload
  }

  function retryLater() {
    if (retryTimer || stopped()) { return; }
    var delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt));
    attempt += 1;
    retryTimer = window.setTimeout(function () { retryTimer = null; pump(); }, delay);
  }
  function retryNow() {
    attempt = 0;
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    pump();
  }
  window.addEventListener("online", function () { retryNow(); askIfEnded(); });

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
    setState(form, "waiting", waitingText());
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
    typing[position] = window.setTimeout(function () { saveTyped(input); }, 1000);
  });
  // Saves the typed number as a change would, unless it is already the one kept or saved.
  function saveTyped(input) {
    var position = input.form.dataset.position;
    window.clearTimeout(typing[position]);
    delete typing[position];
    var entry = load(position);
    var held = entry ? entry.response : input.form.dataset.saved;
    if (input.value.trim() !== held) { input.dispatchEvent(new Event("change", { bubbles: true })); }
  }
  // Enter (or "Go" on a phone's keypad) in a numeric answer would post its form natively and reload the
  // whole paper (lost on a weak network): the answer is saved here instead.
  root.addEventListener("submit", function (event) {
    if (!event.target.matches("form.exam-q")) { return; }
    event.preventDefault();
    var input = event.target.querySelector('input[type="text"][name="response"]');
    if (input) { saveTyped(input); }
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
    write(flagKey, JSON.stringify(f));
    markFlags();
  });
  function markFlags() {
    var list = flags().list;
    forms().forEach(function (form) {
      var on = list.indexOf(form.dataset.position) !== -1;
      form.querySelector(".q-flag").checked = on;
      var nav = navAt(form.dataset.position);
      if (nav) { nav.classList.toggle("flagged", on); nameNav(nav); }
    });
  }

  // --- the clock: the server's ---------------------------------------------------------------------
  var endAt = Date.now() + Number(root.getAttribute("data-remaining") || 0) * 1000;
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
    if (left === 0) { timeUp(); }
  }
  function checkClock() {
    return window.fetch(root.getAttribute("data-clock-url"), {
      headers: { "Accept": "application/json", "X-Exam-Device": device() }, credentials: "same-origin"
    }).then(function (r) {
      if (refusedPage(r)) { pageOutdated(); throw new Error("refused " + r.status); }
      return r.json();
    }).then(function (body) {
      correct(body.remaining);
      if (body.state === "finished") { over(); }
      if (body.state === "running" && body.device === false) { taken(); }  // told even before its next answer
      return body;
    });
  }
  function taken() {
    takenOver = true;
    openOverlay(document.getElementById("exam-taken"), document.getElementById("exam-continue"));
  }

  // At 0 on this phone's clock the server is asked: it ends the sitting by time (the clock request makes
  // sure). The phone's clock may have jumped, so until the server says so the paper stays open, with a
  // neutral line; answers chosen meanwhile wait in the outbox as usual.
  var endTimer = null, askingEnd = false;
  function timeUp() {
    if (checkingEnd || finished) { return; }
    checkingEnd = true;
    document.getElementById("exam-timeup").textContent = text("timeup");
    askIfEnded();
  }
  function askIfEnded() {
    if (askingEnd || !checkingEnd) { return; }
    askingEnd = true;
    window.clearTimeout(endTimer);
    checkClock().then(function (body) {
      askingEnd = false;
      if (body.state === "finished") { return; }  // over() shows it
      if (Number(body.remaining) > 0) { falseAlarm(); return; }
      askLater();  // the deadline is less than a second away, or the server cannot end it yet
    }, function () { askingEnd = false; askLater(); });
  }
  // Asked again on a timer, not only on an "online" event, which a flaky but connected network never fires.
  function askLater() {
    if (checkingEnd && !outdated) { endTimer = window.setTimeout(askIfEnded, END_CHECK_MS); }
  }
  // The phone's clock ran ahead: the server's time is back on screen, and what waited is sent now.
  function falseAlarm() {
    checkingEnd = false;
    document.getElementById("exam-timeup").textContent = "";
    retryNow();
  }
  // The server ended the sitting: the result page replaces the paper. Reached at 0 here, it is the time,
  // which the overlay says while that page loads.
  function over() {
    if (finished) { return; }
    finished = true;
    if (checkingEnd) { openOverlay(document.getElementById("exam-over"), document.getElementById("exam-result")); }
    waiting().forEach(function (w) { forget(w.position); });
    status();
    window.location.assign(window.location.pathname);
  }

  // --- the overlays: modal dialogs over the paper --------------------------------------------------
  // While one shows, everything else on the page is inert (no tap, Tab or screen-reader cursor reaches the
  // paper behind) and the focus is in it, so it is heard at once. None is closed again: "continue" reloads
  // the page and the end loads the result page.
  var dialog = null;
  function openOverlay(overlay, focusable) {
    if (!overlay.hidden) { return; }
    overlay.hidden = false;
    overlay.removeAttribute("inert");  // made inert by the other overlay if that one showed first
    dialog = { overlay: overlay, focusable: focusable };
    for (var node = overlay; node !== document.body && node.parentElement; node = node.parentElement) {
      inertSiblings(node);
    }
    focusable.focus();
  }
  function inertSiblings(node) {
    Array.prototype.forEach.call(node.parentElement.children, function (sibling) {
      if (sibling !== node) { sibling.setAttribute("inert", ""); }
    });
  }
  // Browsers without `inert` (older Android WebViews): focus that leaves the dialog is brought back.
  document.addEventListener("focusin", function (event) {
    if (dialog && !dialog.overlay.contains(event.target)) { dialog.focusable.focus(); }
  });

  // --- focus losses, for the proctor ---------------------------------------------------------------
  var lastFocus = 0;
  // A reload or the language switch leaves the page too (the rules allow both): not a focus loss.
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });  // back from the browser's cache
  function focusLost() {
    if (leaving || finished || checkingEnd) { return; }
    if (Date.now() - lastFocus < 2000) { return; }  // blur and hidden of one switch count once
    lastFocus = Date.now();
    post(root.getAttribute("data-focus-url"), { device: device() }).catch(function () { /* offline: not counted */ });
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) { focusLost(); } });
  window.addEventListener("blur", focusLost);

  // --- this device answers: on opening, and "continue here" after another device took over ---------
  function claim() {
    return post(root.getAttribute("data-device-url"), { device: device() }).then(function (r) {
      if (refusedPage(r)) { pageOutdated(); throw new Error("refused " + r.status); }
      return r.json();
    }).then(function (body) {
      correct(body.remaining);
      if (body.state === "finished") { over(); }
      return body;
    });
  }
  document.getElementById("exam-continue").addEventListener("click", function () {
    claim().then(function () { window.location.reload(); }, function () {
      if (outdated) { window.location.reload(); }  // else offline: she taps again later
    });
  });

  // --- submitting: what still waits is sent first; then she is asked, told what is unanswered ---------
  var submitForm = document.getElementById("submit-form");
  var submitButton = submitForm.querySelector('[type="submit"]');
  var handingIn = false;  // the waiting answers are being sent before the paper
  submitForm.addEventListener("submit", function (event) {
    if (!waiting().length) { askBeforeSubmit(); return; }
    // Submitted now, the sitting would end without the answers still on this phone.
    event.preventDefault();
    delete submitForm.dataset.confirm;  // app.js asks nothing: nothing is submitted this time
    if (handingIn) { return; }
    handingIn = true;
    submitButton.setAttribute("aria-busy", "true");
    sendAllNow().then(function (empty) {
      handingIn = false;
      submitButton.removeAttribute("aria-busy");
      if (empty && !waiting().length) { submitButton.click(); return; }  // all sent: submitted as usual
      document.getElementById("exam-submit-note").textContent = outdated ? text("reload") : count("unsent", waiting().length);
    });
  });
  function askBeforeSubmit() {
    var unanswered = forms().filter(function (f) { return !f.dataset.saved && !load(f.dataset.position); }).length;
    var parts = [text("confirm")];
    if (unanswered) { parts.push(count("unanswered", unanswered)); }
    submitForm.dataset.confirm = parts.join("\n");  // app.js asks it
  }

  restore();
  markFlags();
  status();
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(function () { checkClock().catch(function () { /* offline */ }); }, CLOCK_EVERY_MS);
  claim().then(pump, pump);
})();
