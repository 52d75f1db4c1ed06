// Aurora chat panel: the WebSocket protocol of docs/chat-protocol.md.
// One connection follows one session; after any disconnect it fetches a new
// single-use token and resumes from the last seq it saw, so no frame is lost
// or shown twice. Everything from the server is rendered with textContent.
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function Chat(root, deps) {
    this.root = root;
    this.api = deps.api;
    this.toast = deps.toast;
    this.incidentID = root.getAttribute("data-incident") || "";
    this.chatURL = root.getAttribute("data-chat-url") || "";
    this.log = root.querySelector(".chat-log");
    this.form = root.querySelector(".chat-form");
    this.input = root.querySelector("textarea");
    this.send = root.querySelector(".chat-form button[type=submit]");
    this.cancelBtn = root.querySelector("[data-chat-cancel]");
    this.stateEl = root.querySelector("[data-chat-state]");
    this.history = root.querySelector("[data-chat-history]") || document.querySelector("[data-chat-history]");
    this.sessionID = "";
    this.lastSeq = 0;
    this.ws = null;
    this.queue = [];
    this.assistant = null; // the bubble deltas stream into
    this.running = false;
    this.closedByUs = false;
    this.backoff = 500;
    this.tools = {};
    var self = this;
    this.form.addEventListener("submit", function (e) { e.preventDefault(); self.ask(); });
    this.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.ask(); }
    });
    if (this.cancelBtn) this.cancelBtn.addEventListener("click", function () { self.sendFrame({ type: "cancel", session_id: self.sessionID }); });
    var newBtn = root.querySelector("[data-chat-new]");
    if (newBtn) newBtn.addEventListener("click", function () { self.open(""); });
    setInterval(function () { if (self.ws && self.ws.readyState === 1) self.ws.send(JSON.stringify({ type: "ping" })); }, 30000);
    this.loadHistory(true);
  }

  Chat.prototype.setState = function (s) {
    this.running = s === "queued" || s === "running" || s === "waiting_confirmation";
    if (this.stateEl) this.stateEl.textContent = s ? s.replace("_", " ") : "";
    if (this.cancelBtn) this.cancelBtn.hidden = !this.running;
    this.root.setAttribute("data-state", s || "idle");
  };

  // loadHistory lists the user's sessions (of this incident, on its page) and
  // on an incident page resumes the latest one.
  Chat.prototype.loadHistory = function (resumeLatest) {
    var self = this;
    var q = this.incidentID ? "?incident_id=" + encodeURIComponent(this.incidentID) : "";
    this.api("GET", "/api/v1/chat/sessions" + q).then(function (data) {
      var items = (data && data.items) || [];
      if (self.history) {
        self.history.textContent = "";
        items.forEach(function (s) {
          var b = el("button", "btn ghost small session-link", (s.title || s.first_question || "Session") + "");
          b.type = "button";
          b.title = s.created_at || "";
          if (s.id === self.sessionID) b.setAttribute("aria-current", "true");
          b.addEventListener("click", function () { self.open(s.id); });
          var li = el("li");
          li.appendChild(b);
          self.history.appendChild(li);
        });
        if (!items.length) self.history.appendChild(el("li", "muted small", "No conversations yet."));
      }
      if (resumeLatest && self.incidentID && items.length && !self.sessionID) self.open(items[0].id);
    }, function () { /* history is optional */ });
  };

  // open switches to a session ("" starts a new one on the next question).
  Chat.prototype.open = function (id) {
    this.sessionID = id;
    this.lastSeq = 0;
    this.assistant = null;
    this.tools = {};
    this.log.textContent = "";
    this.setState("");
    if (id) this.sendFrame({ type: "resume", session_id: id, after_seq: 0 });
    if (this.history) {
      this.history.querySelectorAll("[aria-current]").forEach(function (b) { b.removeAttribute("aria-current"); });
    }
    this.input.focus();
  };

  Chat.prototype.ask = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (this.running) { this.toast("Wait for the current answer, or cancel it.", "error"); return; }
    var agent = this.root.querySelector("[data-chat-agent]");
    var f = { type: "query", text: text, mode: agent && agent.checked ? "agent" : "ask" };
    if (this.sessionID) f.session_id = this.sessionID;
    else if (this.incidentID) f.incident_id = this.incidentID;
    this.input.value = "";
    this.sendFrame(f);
  };

  Chat.prototype.sendFrame = function (f) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(f)); return; }
    this.queue.push(f);
    this.connect();
  };

  Chat.prototype.connect = function () {
    if (this.connecting || (this.ws && this.ws.readyState <= 1)) return;
    this.connecting = true;
    var self = this;
    this.api("POST", "/api/v1/chat/token").then(function (t) {
      var url = self.chatURL ? t.url : (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
      var ws = new WebSocket(url + (url.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(t.token));
      self.ws = ws;
      ws.onopen = function () {
        self.connecting = false;
        self.backoff = 500;
        self.root.setAttribute("data-connected", "true");
        // After a reconnect, pick the session up where this page left it.
        if (self.sessionID && !self.queue.some(function (f) { return f.type === "resume" || f.session_id === self.sessionID; })) {
          ws.send(JSON.stringify({ type: "resume", session_id: self.sessionID, after_seq: self.lastSeq }));
        }
        while (self.queue.length) ws.send(JSON.stringify(self.queue.shift()));
      };
      ws.onmessage = function (ev) {
        var f;
        try { f = JSON.parse(ev.data); } catch (e) { return; }
        self.frame(f);
      };
      ws.onclose = function () {
        self.connecting = false;
        self.root.setAttribute("data-connected", "false");
        if (self.ws !== ws) return;
        self.ws = null;
        // Reconnect only while something is in flight or queued.
        if (self.running || self.queue.length) {
          setTimeout(function () { self.connect(); }, self.backoff);
          self.backoff = Math.min(self.backoff * 2, 10000);
        }
      };
    }, function (err) {
      self.connecting = false;
      self.toast("Chat: " + err.message, "error");
    });
  };

  Chat.prototype.bubble = function (cls, text) {
    var b = el("div", "msg " + cls, text);
    this.log.appendChild(b);
    this.log.scrollTop = this.log.scrollHeight;
    return b;
  };

  Chat.prototype.frame = function (f) {
    if (f.seq) {
      if (f.session_id && f.session_id !== this.sessionID) return;
      if (f.seq <= this.lastSeq) return; // already shown (replay after reconnect)
      this.lastSeq = f.seq;
    }
    var self = this;
    switch (f.type) {
      case "session":
        if (f.id !== this.sessionID) { this.sessionID = f.id; this.lastSeq = 0; this.loadHistory(false); }
        this.root.setAttribute("data-session", f.id);
        break;
      case "status":
        this.setState(f.state);
        if (f.state === "cancelled") this.bubble("note", "Cancelled.");
        if (f.state === "waiting_confirmation") this.assistant = null;
        break;
      case "message":
        if (f.role === "assistant") {
          var a = this.assistant || this.bubble("assistant", "");
          a.textContent = f.text;
          if (f.citations && f.citations.length) {
            var ul = el("ol", "small chat-cites");
            f.citations.forEach(function (c) {
              var li = el("li", "", "");
              // On the page of the cited investigation, [n] opens its step
              // like the report's citations; elsewhere it is plain text.
              var steps = document.getElementById("steps");
              var here = c.step_seq && steps && c.investigation_id &&
                steps.getAttribute("data-investigation") === c.investigation_id &&
                document.getElementById("step-" + c.step_seq);
              if (here) {
                var link = el("a", "cite", "[" + c.n + "]");
                link.setAttribute("href", "#step-" + c.step_seq);
                link.setAttribute("data-step", String(c.step_seq));
                li.appendChild(link);
                li.appendChild(document.createTextNode(" "));
              } else {
                li.appendChild(document.createTextNode("[" + c.n + "] "));
              }
              li.appendChild(document.createTextNode((c.tool || "") + " " + (c.summary || "")));
              ul.appendChild(li);
            });
            a.appendChild(ul);
          }
          a.classList.add("final");
          this.assistant = null;
        } else {
          this.bubble("user", f.text);
          this.assistant = null;
        }
        break;
      case "delta":
        if (!this.assistant) this.assistant = this.bubble("assistant streaming", "");
        this.assistant.textContent += f.text;
        this.log.scrollTop = this.log.scrollHeight;
        break;
      case "tool_call":
        this.tools[f.id] = this.bubble("tool", "→ " + f.tool + " " + JSON.stringify(f.args || {}));
        this.assistant = null;
        break;
      case "tool_result":
        var t = this.tools[f.id];
        var line = "← " + f.status + (f.summary ? ": " + f.summary : "");
        if (t) t.textContent += "\n" + line; else this.bubble("tool", line);
        break;
      case "confirmation_required":
        var box = this.bubble("confirm", "");
        box.appendChild(el("strong", "", "Approve " + f.tool + "? "));
        box.appendChild(el("span", "risk risk-" + (f.risk || "medium"), f.risk || ""));
        if (f.command) box.appendChild(el("pre", "out", f.command));
        if (f.undo) box.appendChild(el("div", "muted small", "Undo: " + f.undo));
        ["yes", "no"].forEach(function (ans) {
          var b = el("button", "btn small" + (ans === "yes" ? " primary" : ""), ans === "yes" ? "Yes, run it" : "No");
          b.type = "button";
          b.addEventListener("click", function () {
            self.sendFrame({ type: "confirm", confirmation_id: f.confirmation_id, answer: ans });
            box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          });
          box.appendChild(b);
        });
        break;
      case "usage":
        break;
      case "error":
        this.bubble("error", f.message + (f.retry_after ? " (retry in " + f.retry_after + "s)" : ""));
        break;
      case "done":
        // The turn's last state (completed, cancelled, failed) stays shown.
        this.assistant = null;
        this.loadHistory(false);
        break;
    }
  };

  window.AuroraChat = {
    start: function (deps) {
      document.querySelectorAll("[data-chat]").forEach(function (root) { root.auroraChat = new Chat(root, deps); });
    }
  };
})();
