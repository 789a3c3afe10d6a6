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

// ---- judges: a mark kept on this tablet is sent from any page once the network is back ----
(function () {
  "use strict";
  // The score sheet (scoresheet.js) keeps each mark it sends in localStorage, under the user's id, until the
  // server answers. Every page of that user (never another judge's on a shared tablet) sends those marks again
  // with the same versioned save: on load, when the browser comes back online, and every few seconds while
  // some wait. A mark the server refuses (stale, invalid, sheet closed) is kept with the server's message for
  // the judge to settle on the sheet: it never overwrites a newer mark and is never dropped unseen.
  var user = document.body && document.body.getAttribute("data-user");
  if (!user) { return; }
  var PREFIX = "jx:mark:" + user + ":";
  var RETRY_MS = 10000;
  var sending = {};
  var timer = null;
  var again = false;  // asked to send (the network came back) while a send was still on its way

  function store() { try { return window.localStorage; } catch (e) { return null; } }
  function put(key, entry) { try { store().setItem(key, JSON.stringify(entry)); } catch (e) { /* kept as it was */ } }
  function drop(key) { try { store().removeItem(key); } catch (e) { /* nothing stored */ } }
  function entries() {
    var s = store(), list = [];
    for (var i = 0; s && i < s.length; i++) {
      var key = s.key(i);
      if (key.indexOf(PREFIX) !== 0) { continue; }
      var entry = null;
      try { entry = JSON.parse(s.getItem(key)); } catch (e) { /* not an entry */ }
      if (entry && typeof entry === "object") { list.push({key: key, entry: entry}); }
    }
    return list.sort(function (a, b) { return a.key < b.key ? -1 : 1; });
  }
  // The score sheet on screen resends its own rows (and shows their answers).
  function onScreen(key) {
    var sheet = document.getElementById("sheet");
    return sheet && key.indexOf(sheet.getAttribute("data-store")) === 0;
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function answered(item, status, html) {
    var entry = item.entry;
    if (status === 403 || status === 404) { entry.refused = ""; put(item.key, entry); return; }
    var row = status === 200 ? new DOMParser().parseFromString(html, "text/html").querySelector(".mark-row") : null;
    if (!row) { return; }  // a login page, an expired token or a server error: sent again later
    if (row.getAttribute("data-state") === "saved" || row.getAttribute("data-saved") === entry.value) {
      drop(item.key);
      return true;
    }
    var message = row.querySelector(".state-text");
    entry.refused = message ? message.textContent.trim() : "";
    put(item.key, entry);
  }

  function send(item) {
    var entry = item.entry;
    if (!entry || !entry.url || "refused" in entry || sending[item.key] || onScreen(item.key)) { return; }
    sending[item.key] = true;
    var headers = {"HX-Request": "true", "X-CSRFToken": csrf()};
    if (entry.session) { headers["X-Tablet-Session"] = entry.session; }
    var body = new URLSearchParams({value: entry.value, version: entry.version, reason: entry.reason || ""});
    window.fetch(entry.url, {method: "POST", headers: headers, body: body, credentials: "same-origin"})
      .then(function (response) {
        return response.text().then(function (html) { return answered(item, response.status, html); });
      })
      .catch(function () { return false; })  // still offline
      .then(function (saved) {
        delete sending[item.key];
        show();
        if (saved) { document.body.dispatchEvent(new CustomEvent("outbox-sent", {bubbles: true})); }
        // The network came back while a doomed send was on its way: send now, not at the next retry.
        if (again && !Object.keys(sending).length) { again = false; flush(); }
      });
  }

  function flush() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    if (Object.keys(sending).length) { again = true; }
    var waiting = entries().filter(function (item) { return item.entry && !("refused" in item.entry); });
    waiting.forEach(send);
    if (waiting.length) { timer = window.setTimeout(flush, RETRY_MS); }
    show();
  }

  // --- what the judge sees: the home's list of waiting marks, and a count on each entrant tile ---
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function item(panel, key, entry) {
    var parts = key.slice(PREFIX.length).split(":");  // competition, secret code, criterion
    var li = el("li", "refused" in entry ? "refused" : "waiting");
    var link = el("a");
    link.href = String(entry.url || "").replace(/\/mark\/\d+(\/keep)?$/, "") + "#mark-" + parts[2];
    link.append(el("span", "code", parts[1]), " · " + (entry.label || "") + " ", el("strong", "", entry.value));
    li.append(link, " ", el("small", "", parts[0]));
    if ("refused" in entry) {
      var gap = document.documentElement.lang.indexOf("zh") === 0 ? "" : " ";  // no spaces in Chinese
      var said = [panel.dataset.textRefused, entry.refused, panel.dataset.textOpen].join(gap);
      var discard = el("button", "outline secondary", panel.dataset.textDiscard);
      discard.type = "button";
      discard.dataset.discard = key;
      li.append(el("p", "outbox-state", said), discard);
    } else {
      li.append(el("p", "outbox-state", panel.dataset.textWaiting));
    }
    return li;
  }

  function show() {
    var all = entries();
    var panel = document.getElementById("outbox");
    if (panel) {
      var mine = all.filter(function (i) { return i.key.indexOf(panel.dataset.prefix) === 0; });
      panel.hidden = mine.length === 0;
      panel.querySelector(".outbox-count").textContent = mine.length ? "(" + mine.length + ")" : "";
      var list = panel.querySelector(".outbox-list");
      list.replaceChildren.apply(list, mine.map(function (i) { return item(panel, i.key, i.entry); }));
    }
    document.querySelectorAll("a[data-outbox]").forEach(function (tile) {
      var n = all.filter(function (i) { return i.key.indexOf(tile.dataset.outbox) === 0; }).length;
      var badge = tile.querySelector(".tile-unsent");
      tile.classList.toggle("unsent", n > 0);
      if (!n) { if (badge) { badge.remove(); } return; }
      if (!badge) { badge = tile.appendChild(el("span", "tile-unsent")); }
      badge.replaceChildren(el("strong", "", String(n)), " " + (panel ? panel.dataset.textTile : ""));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-discard]");
    var panel = document.getElementById("outbox");
    if (!button || !panel || !window.confirm(panel.dataset.textConfirm)) { return; }
    drop(button.dataset.discard);
    show();
  });
  document.addEventListener("htmx:load", show);  // the entrant list was reloaded or searched
  window.addEventListener("storage", show);  // another tab of this browser changed the outbox
  window.addEventListener("online", flush);
  flush();
})();

// ---- a competition's tab bar that scrolls sideways on a phone: the current tab in view, the hidden side marked ----
(function () {
  "use strict";
  function mark(nav) {
    var wrap = nav.parentElement;
    var end = nav.scrollWidth - nav.clientWidth;
    wrap.classList.toggle("more-left", nav.scrollLeft > 2);
    wrap.classList.toggle("more-right", nav.scrollLeft < end - 2);
  }
  function setUp() {
    document.querySelectorAll(".tabs-wrap > nav.tabs").forEach(function (nav) {
      var current = nav.querySelector('[aria-current="page"]');
      if (current && nav.scrollWidth > nav.clientWidth) {
        nav.scrollLeft = Math.max(0, current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2);
      }
      mark(nav);
      nav.addEventListener("scroll", function () { mark(nav); }, { passive: true });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
  window.addEventListener("resize", function () { document.querySelectorAll(".tabs-wrap > nav.tabs").forEach(mark); });
})();
