/* Privacy help chat widget. Embed with one tag:
 *   <script src="https://HOST/static/widget.js" defer></script>
 * Optional data-* attributes: data-api (server base URL, default: where this script
 * came from), data-title, data-handoff-text.
 * Plain JavaScript, no build step. Message text is only ever set with textContent.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__privacyHelpWidget) return;
  window.__privacyHelpWidget = true;

  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var TITLE = script.getAttribute("data-title") || "Privacy help";
  var HANDOFF_TEXT = script.getAttribute("data-handoff-text") || "I would like to talk to a person";
  var STORE_KEY = "privacyHelpChat:" + API;
  var AUTHORS = { resident: "You", bot: "Assistant", staff: "Staff", system: "Notice" };

  var config = { poll_ms: 1500, max_length: 1000, retention_days: 90, contact_team: "our team" };
  var IDLE_MS = 30 * 60 * 1000; // see load()
  var saved = load();
  var seen = {};
  var pollTimer = null;
  var polling = false;
  var sending = false;
  var unread = 0;

  // The chat belongs to this browser tab (sessionStorage, not localStorage) and is
  // forgotten here after IDLE_MS without activity: the next person at a shared computer
  // must not see the last resident's chat. The server keeps it for its retention period.
  function stored() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || {}; } catch (e) { return {}; }
  }
  function idle(data) {
    return !!data.conversation_id && !(Date.now() - (data.at || 0) < IDLE_MS);
  }
  function load() {
    var data = stored();
    return idle(data) ? { open: data.open } : data;
  }
  function save() {
    saved.at = Date.now();
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- DOM ---------------------------------------------------------------------------------
  var css = el("link", { rel: "stylesheet", href: API + "/static/widget.css" });
  document.head.appendChild(css);

  var root = el("div", { class: "pbw-root" });
  var launcher = el("button", { type: "button", class: "pbw-launcher", "aria-expanded": "false", "aria-controls": "pbw-panel" });
  var launcherText = el("span", {}, "Chat: " + TITLE);
  var badge = el("span", { class: "pbw-badge", hidden: "" });
  launcher.appendChild(launcherText);
  launcher.appendChild(badge);

  var panel = el("section", { id: "pbw-panel", class: "pbw-panel", role: "region", "aria-labelledby": "pbw-title", hidden: "" });
  var header = el("div", { class: "pbw-header" });
  var title = el("h2", { id: "pbw-title", class: "pbw-title" }, TITLE);
  var closeBtn = el("button", { type: "button", class: "pbw-close", "aria-label": "Minimise chat" }, "Minimise");
  header.appendChild(title);
  header.appendChild(closeBtn);

  var note = el("p", { class: "pbw-note", id: "pbw-note" });
  var log = el("div", { class: "pbw-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Conversation", tabindex: "0" });
  var typing = el("p", { class: "pbw-typing", role: "status", "aria-live": "polite" });
  var quick = el("div", { class: "pbw-quick", role: "group", "aria-label": "Suggested replies", hidden: "" });
  var alertBox = el("p", { class: "pbw-alert", role: "alert" });

  var form = el("form", { class: "pbw-form", novalidate: "" });
  var label = el("label", { for: "pbw-input", class: "pbw-label" }, "Your message");
  var row = el("div", { class: "pbw-row" });
  var input = el("input", { id: "pbw-input", class: "pbw-input", type: "text", autocomplete: "off", maxlength: "1000", "aria-describedby": "pbw-note" });
  var sendBtn = el("button", { type: "submit", class: "pbw-send" }, "Send");
  row.appendChild(input);
  row.appendChild(sendBtn);
  form.appendChild(label);
  form.appendChild(row);

  var tools = el("div", { class: "pbw-tools" });
  var personBtn = el("button", { type: "button", class: "pbw-person" }, "Talk to a person");
  var endBtn = el("button", { type: "button", class: "pbw-end" }, "End and delete this chat");
  tools.appendChild(personBtn);
  tools.appendChild(endBtn);

  var confirmBox = el("div", { class: "pbw-confirm", role: "group", "aria-labelledby": "pbw-confirm-text", hidden: "" });
  var confirmText = el("p", { id: "pbw-confirm-text" }, "Delete this conversation? Its messages are deleted from our records. Requests you have made are kept so we can act on them.");
  var confirmYes = el("button", { type: "button", class: "pbw-danger" }, "Yes, delete it");
  var confirmNo = el("button", { type: "button" }, "Cancel");
  confirmBox.appendChild(confirmText);
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);

  [header, note, log, typing, quick, alertBox, form, tools, confirmBox].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  function renderNote() {
    note.textContent =
      "This chat stores your messages for " + config.retention_days + " days after your last " +
      "message (longer while a request you made is open) so we can answer you and " +
      config.contact_team + " can follow up. Please do not share bank details or passwords. " +
      "You can end and delete this chat at any time.";
  }
  renderNote();

  // --- messages ------------------------------------------------------------------------------
  function addMessage(author, text, id) {
    if (id && seen[id]) return null;
    if (id) seen[id] = true;
    var item = el("div", { class: "pbw-msg pbw-" + author });
    var who = el("span", { class: "pbw-who" }, (AUTHORS[author] || author) + ": ");
    var body = el("span", { class: "pbw-text" });
    body.textContent = text;  // never innerHTML: text may contain anything
    item.appendChild(who);
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (panel.hidden && author !== "resident") {
      unread += 1;
      badge.textContent = unread + " new";
      badge.hidden = false;
    }
    return item;
  }

  function showButtons(buttons) {
    while (quick.firstChild) quick.removeChild(quick.firstChild);
    if (!buttons || !buttons.length) { quick.hidden = true; return; }
    buttons.forEach(function (b) {
      var btn = el("button", { type: "button", class: "pbw-quick-btn" }, b.title);
      btn.addEventListener("click", function () { send(b.payload, b.title); });
      quick.appendChild(btn);
    });
    quick.hidden = false;
  }

  function showMessages(list) {
    var lastButtons = null;
    list.forEach(function (m) {
      addMessage(m.author || "bot", m.text, m.id);
      if (m.direction !== "in") lastButtons = m.buttons || [];
    });
    if (lastButtons !== null) showButtons(lastButtons);
  }

  function setCursor(cursor) {
    if (typeof cursor === "number" && cursor > (saved.cursor || 0)) { saved.cursor = cursor; save(); }
  }

  // --- network -------------------------------------------------------------------------------
  function request(method, path, body) {
    var opts = { method: method, headers: { Accept: "application/json" }, credentials: "omit" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(API + path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { status: res.status, ok: res.ok, data: data };
      });
    });
  }

  function setTyping(on) {
    typing.textContent = on ? "The assistant is typing\u2026" : "";
    typing.classList.toggle("pbw-on", on);
  }

  function send(text, shownAs) {
    text = (text || "").trim();
    alertBox.textContent = "";
    if (!text) { alertBox.textContent = "Please type a message first."; input.focus(); return; }
    if (text.length > config.max_length) { alertBox.textContent = "Please keep messages under " + config.max_length + " characters."; return; }
    if (sending) return;
    sending = true;
    showButtons([]);
    var mine = addMessage("resident", shownAs || text);
    setTyping(true);
    post(text, mine, 0);
  }

  // The server was too busy to take the message (503 with retry_after: nothing was
  // stored): send it again by itself, a few times, with the polite notice showing.
  var BUSY_TRIES = 10;

  function post(text, mine, tries) {
    var body = { text: text };
    if (saved.conversation_id) body.conversation_id = saved.conversation_id;
    var again = false;
    request("POST", "/api/chat", body).then(function (res) {
      var data = res.data || {};
      if (data.conversation_id && !saved.conversation_id) { saved.conversation_id = data.conversation_id; save(); startPolling(); }
      if (data.message_id) seen[data.message_id] = true;
      if (res.status === 404) { reset(); alertBox.textContent = "That chat has ended. Please send your message again to start a new one."; if (mine) mine.remove(); return; }
      if (!res.ok) {
        alertBox.textContent = data.error || "Sorry, something went wrong. Please try again.";
        if (res.status === 503 && typeof data.retry_after === "number" && tries < BUSY_TRIES) {
          again = true;
          setTimeout(function () { post(text, mine, tries + 1); }, data.retry_after * 1000);
          return;
        }
        if (res.status !== 503 && mine) mine.classList.add("pbw-failed");
        return;
      }
      alertBox.textContent = "";
      showMessages(data.messages || []);
      setCursor(data.cursor);
    }).catch(function () {
      alertBox.textContent = "You seem to be offline. Please check your connection and try again.";
    }).then(function () {
      if (again) return;
      sending = false;
      setTyping(false);
    });
  }

  function poll() {
    if (!saved.conversation_id || polling) return;
    polling = true;
    request("GET", "/api/chat/" + encodeURIComponent(saved.conversation_id) + "/messages?after=" + (saved.cursor || 0))
      .then(function (res) {
        if (res.status === 404) { reset(); return; }
        if (!res.ok) return;
        var fresh = (res.data.messages || []).filter(function (m) { return !seen[m.id]; });
        showMessages(fresh);
        setCursor(res.data.cursor);
      })
      .catch(function () { /* offline: try again next tick */ })
      .then(function () { polling = false; });
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(poll, config.poll_ms || 1500);
  }

  function reset() {
    saved = { open: saved.open };
    save();
    seen = {};
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    while (log.firstChild) log.removeChild(log.firstChild);
    showButtons([]);
    greet();
  }

  function greet() {
    addMessage("bot", "Hello. I can answer questions about how " + (config.org || "we") +
      " use your personal data, help you ask for a copy of it, stop marketing or withdraw consent. What would you like to know?");
  }

  function restore() {
    if (!saved.conversation_id) { greet(); return; }
    request("GET", "/api/chat/" + encodeURIComponent(saved.conversation_id) + "/messages?after=0").then(function (res) {
      if (!res.ok) { reset(); return; }
      showMessages(res.data.messages || []);
      setCursor(res.data.cursor);
      startPolling();
    }).catch(function () { startPolling(); });
  }

  // --- open / close ----------------------------------------------------------------------------
  function open(focus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.add("pbw-hidden-launcher");
    unread = 0;
    badge.hidden = true;
    saved.open = true;
    save();
    if (focus) input.focus();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.classList.remove("pbw-hidden-launcher");
    saved.open = false;
    save();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(true); else close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) { alertBox.textContent = "Please type a message first."; return; }
    input.value = "";
    send(text);
    input.focus();
  });
  personBtn.addEventListener("click", function () { send(HANDOFF_TEXT); input.focus(); });
  endBtn.addEventListener("click", function () {
    confirmBox.hidden = false;
    confirmNo.focus();
  });
  confirmNo.addEventListener("click", function () { confirmBox.hidden = true; endBtn.focus(); });
  confirmYes.addEventListener("click", function () {
    var id = saved.conversation_id;
    confirmBox.hidden = true;
    var done = function () { reset(); alertBox.textContent = "This chat has been ended and deleted."; input.focus(); };
    if (!id) { done(); return; }
    request("DELETE", "/api/chat/" + encodeURIComponent(id)).then(function (res) {
      if (res.ok || res.status === 404) done();
      else alertBox.textContent = (res.data && res.data.error) || "Sorry, the chat could not be deleted. Please try again.";
    }).catch(function () { alertBox.textContent = "You seem to be offline. Please try again."; });
  });

  function forgetIfIdle() {
    if (saved.conversation_id && idle(stored())) {
      reset();
      alertBox.textContent = "For your privacy this chat was cleared from this page after " +
        "30 minutes without activity. You can start a new one.";
    }
  }
  setInterval(forgetIfIdle, 60 * 1000);
  document.addEventListener("visibilitychange", forgetIfIdle);
  window.addEventListener("focus", forgetIfIdle);

  request("GET", "/api/chat/config").then(function (res) {
    if (res.ok) {
      Object.keys(res.data).forEach(function (k) { config[k] = res.data[k]; });
      input.setAttribute("maxlength", String(config.max_length));
      renderNote();
    }
  }).catch(function () { /* defaults */ }).then(function () {
    restore();
    if (saved.open) open(false);
  });
})();
