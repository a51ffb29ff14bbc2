/**
 * Rapport web chat: talks to Rasa's Socket.IO channel (bot/channels/socketio.py).
 *
 * - The server issues the session id with a signed, expiring session token
 *   (`session_confirm`); both live in localStorage and the token is presented on
 *   every (re)connect, so a shopper keeps one conversation across reloads. A token
 *   the server no longer accepts just means a fresh session. The transcript lives
 *   in sessionStorage (per tab) and is re-rendered on reload.
 * - The bot speaks first: `rapport_start` is emitted once per tab and session,
 *   never again after a reload.
 * - Message text is only ever put into the page with textContent: nothing a
 *   shopper types or the bot sends is parsed as HTML. Bubbles and buttons are
 *   direction-isolated (dir="auto"), so a right-to-left override inside one cannot
 *   reorder anything around it.
 */
(function () {
  "use strict";

  const SESSION_KEY = "rapport.session";
  const TOKEN_KEY = "rapport.session_token";
  const TRANSCRIPT_PREFIX = "rapport.transcript.";
  const TRANSCRIPT_LIMIT = 200;
  const SESSION_ID = /^[0-9a-f]{32}$/;
  const SESSION_TOKEN = /^[A-Za-z0-9_.-]{1,200}$/;
  const COUNTER_FROM = 0.9; // show the character counter from 90% of the limit
  const TYPING_TIMEOUT_MS = 20000;

  const root = document.getElementById("chat");
  const ui = {
    status: document.getElementById("status"),
    log: document.getElementById("log"),
    typing: document.getElementById("typing"),
    form: document.getElementById("composer"),
    input: document.getElementById("message"),
    send: document.getElementById("send"),
    counter: document.getElementById("counter"),
  };
  const config = {
    rasaUrl: root.dataset.rasaUrl,
    maxChars: Number(root.dataset.maxChars) || 2000,
    // Set by a shop that embeds the chat for a logged-in customer
    // (docs/shop-integration.md); the signature is computed on the shop's server.
    customerId: root.dataset.customerId || "",
    customerSignature: root.dataset.customerSignature || "",
    customerExpires: Number(root.dataset.customerExpires) || 0,
  };
  const state = {
    socket: null,
    ready: false,
    sessionId: readStored(SESSION_KEY, SESSION_ID),
    sessionToken: readStored(TOKEN_KEY, SESSION_TOKEN),
    transcript: null,
    typingTimer: 0,
  };

  /* ---------- storage (may be unavailable, e.g. in some private modes) ---------- */

  function sessionRequest() {
    const request = {};
    if (state.sessionToken) request.session_token = state.sessionToken;
    if (config.customerId && config.customerSignature && config.customerExpires) {
      request.customer = {
        id: config.customerId,
        expires: config.customerExpires,
        signature: config.customerSignature,
      };
    }
    return request;
  }

  function readStored(key, shape) {
    try {
      const stored = window.localStorage.getItem(key);
      return stored && shape.test(stored) ? stored : null;
    } catch (error) {
      return null;
    }
  }

  function writeSession(sessionId, sessionToken) {
    try {
      window.localStorage.setItem(SESSION_KEY, sessionId);
      window.localStorage.setItem(TOKEN_KEY, sessionToken);
    } catch (error) {
      /* the conversation still works, it just won't survive a reload */
    }
  }

  /** The tab's transcript for `sessionId`: {started: boolean, entries: [...]}. */
  function loadTranscript(sessionId) {
    const empty = { started: false, entries: [] };
    if (!sessionId) return empty;
    try {
      const saved = JSON.parse(window.sessionStorage.getItem(TRANSCRIPT_PREFIX + sessionId));
      if (saved && Array.isArray(saved.entries)) {
        return { started: Boolean(saved.started), entries: saved.entries.filter(isEntry) };
      }
    } catch (error) {
      /* unreadable: start afresh */
    }
    return empty;
  }

  function saveTranscript() {
    if (!state.sessionId) return;
    const transcript = state.transcript;
    transcript.entries = transcript.entries.slice(-TRANSCRIPT_LIMIT);
    try {
      window.sessionStorage.setItem(TRANSCRIPT_PREFIX + state.sessionId, JSON.stringify(transcript));
    } catch (error) {
      /* storage full or unavailable: the page still works */
    }
  }

  function isEntry(entry) {
    return entry && (entry.from === "bot" || entry.from === "shopper") && typeof entry.text === "string";
  }

  /* ---------- rendering (textContent only) ---------- */

  function messageElement(entry) {
    const item = document.createElement("div");
    item.className = "message message--" + entry.from;

    const speaker = document.createElement("span");
    speaker.className = "visually-hidden";
    speaker.textContent = entry.from === "bot" ? "Assistant: " : "You: ";

    const bubble = document.createElement("p");
    bubble.className = "message__text";
    bubble.dir = "auto";
    if (entry.from === "bot") {
      bubble.append(...withExportLinks(entry.text));
    } else {
      bubble.textContent = entry.text;
    }

    item.append(speaker, bubble);
    return item;
  }

  /* The bot's "export my data" link, made clickable: only a link to this page's own
     origin under /export/, built as an element (never parsed as HTML). */
  const EXPORT_LINK = /https?:\/\/[^\s]+\/export\/[A-Za-z0-9_-]+/g;

  function withExportLinks(text) {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(EXPORT_LINK)) {
      let url = null;
      try {
        url = new URL(match[0]);
      } catch (error) {
        url = null;
      }
      if (!url || url.origin !== window.location.origin) {
        continue;
      }
      parts.push(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = url.href;
      link.textContent = match[0];
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      parts.push(link);
      last = match.index + match[0].length;
    }
    parts.push(document.createTextNode(text.slice(last)));
    return parts;
  }

  function quickRepliesElement(replies) {
    const group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    for (const reply of replies) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "quick-replies__button";
      button.dir = "auto";
      button.textContent = reply.title;
      button.disabled = !state.ready;
      button.addEventListener("click", () => sendShopperMessage(reply.payload, reply.title));
      group.append(button);
    }
    return group;
  }

  function renderEntry(entry, withQuickReplies) {
    const item = messageElement(entry);
    if (withQuickReplies && entry.quickReplies && entry.quickReplies.length) {
      item.append(quickRepliesElement(entry.quickReplies));
    }
    ui.log.append(item);
    scrollToEnd();
  }

  /** Redraw the whole transcript; quick replies only after the shopper's last message. */
  function renderTranscript() {
    ui.log.replaceChildren();
    const entries = state.transcript.entries;
    const lastShopper = entries.map((entry) => entry.from).lastIndexOf("shopper");
    entries.forEach((entry, index) => renderEntry(entry, index > lastShopper));
  }

  function removeQuickReplies() {
    for (const group of ui.log.querySelectorAll(".quick-replies")) group.remove();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function showTyping() {
    ui.typing.hidden = false;
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToEnd();
  }

  function hideTyping() {
    window.clearTimeout(state.typingTimer);
    ui.typing.hidden = true;
  }

  function setStatus(name, text) {
    ui.status.dataset.state = name;
    ui.status.textContent = text;
  }

  /** Sending is possible only once the server confirmed our session. */
  function setReady(ready) {
    state.ready = ready;
    ui.input.disabled = !ready;
    ui.send.disabled = !ready;
    for (const button of ui.log.querySelectorAll(".quick-replies__button")) button.disabled = !ready;
  }

  function updateCounter() {
    const length = ui.input.value.length;
    const near = length >= Math.floor(config.maxChars * COUNTER_FROM);
    ui.counter.hidden = !near;
    ui.counter.textContent = near ? length + " / " + config.maxChars + " characters" : "";
    ui.counter.classList.toggle("chat__counter--full", length >= config.maxChars);
  }

  /* ---------- conversation ---------- */

  function record(entry) {
    state.transcript.entries.push(entry);
    saveTranscript();
  }

  /** Show `shown` as the shopper's bubble and send `text` to the bot. */
  function sendShopperMessage(text, shown) {
    if (!state.ready || !text.trim()) return false;
    removeQuickReplies();
    const entry = { from: "shopper", text: shown };
    record(entry);
    renderEntry(entry, false);
    state.socket.emit("user_uttered", { message: text, session_id: state.sessionId });
    showTyping();
    ui.input.focus();
    return true;
  }

  function quickReplies(raw) {
    if (!Array.isArray(raw)) return [];
    return raw
      .filter((reply) => reply && typeof reply.title === "string" && typeof reply.payload === "string")
      .map((reply) => ({ title: reply.title, payload: reply.payload }));
  }

  function onBotUttered(data) {
    const text = data && typeof data.text === "string" ? data.text : "";
    const replies = quickReplies(data && data.quick_replies);
    if (!text && !replies.length) return;
    hideTyping();
    const entry = { from: "bot", text: text, quickReplies: replies };
    record(entry);
    renderEntry(entry, true);
  }

  function onSessionConfirm(data) {
    const sessionId = data && data.session_id;
    const sessionToken = data && data.session_token;
    if (
      typeof sessionId !== "string" ||
      !SESSION_ID.test(sessionId) ||
      typeof sessionToken !== "string" ||
      !SESSION_TOKEN.test(sessionToken)
    ) {
      setStatus("error", "Connection problem: please reload the page.");
      return;
    }
    // Every confirmation carries a fresh token: keeping the newest keeps the session alive.
    state.sessionToken = sessionToken;
    writeSession(sessionId, sessionToken);
    if (sessionId !== state.sessionId) {
      state.sessionId = sessionId;
      state.transcript = loadTranscript(sessionId);
      renderTranscript();
    }
    setReady(true);
    setStatus("connected", "Connected");
    if (!state.transcript.started) askForWelcome();
  }

  /** Let the bot speak first, once per tab and session. */
  function askForWelcome() {
    state.transcript.started = true;
    saveTranscript();
    showTyping();
    state.socket.emit("rapport_start", { session_id: state.sessionId });
  }

  /* ---------- connection ---------- */

  function onDisconnect(reason) {
    setReady(false);
    hideTyping();
    setStatus("reconnecting", "Reconnecting…");
    // The server hung up on purpose: socket.io does not retry by itself then.
    if (reason === "io server disconnect") state.socket.connect();
  }

  function connect() {
    if (typeof window.io !== "function") {
      setStatus("error", "The chat is unavailable right now.");
      console.error("socket.io client missing: run `make vendor`");
      return;
    }
    const socket = window.io(config.rasaUrl, { path: "/socket.io", transports: ["websocket"] });
    state.socket = socket;
    socket.on("connect", () => socket.emit("session_request", sessionRequest()));
    socket.on("session_confirm", onSessionConfirm);
    socket.on("bot_uttered", onBotUttered);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", () => setStatus("reconnecting", "Reconnecting…"));
  }

  function onSubmit(event) {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (sendShopperMessage(text, text)) {
      ui.input.value = "";
      updateCounter();
    }
  }

  function start() {
    state.transcript = loadTranscript(state.sessionId);
    renderTranscript();
    ui.form.addEventListener("submit", onSubmit);
    ui.input.addEventListener("input", updateCounter);
    setReady(false);
    setStatus("connecting", "Connecting…");
    connect();
  }

  start();
})();
