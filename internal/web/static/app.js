// Aurora web UI: live updates over the SSE stream, actions through the REST
// API (session cookie + CSRF header: the API decides what a role may do),
// copy buttons, forms that show a token once. No framework; every piece of
// server data is put in the page with textContent, never as HTML.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // ------------------------------------------------------------ helpers
  var toastTimer = null;
  function toast(msg, kind) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.className = kind || "";
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, kind === "error" ? 8000 : 3000);
  }

  // api calls the REST API as the signed-in user.
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var msg = data && data.error && data.error.message ? data.error.message : res.status + " " + res.statusText;
          var err = new Error(msg);
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  function copyText(text, btn) {
    var done = function () {
      if (btn) { var old = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = old; }, 1500); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { toast("Copy failed: select the text and copy it", "error"); });
      return;
    }
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); done(); } catch (e) { toast("Copy failed: select the text and copy it", "error"); }
    document.body.removeChild(ta);
  }

  // ------------------------------------------------------------ theme
  function effectiveTheme() {
    var t = document.documentElement.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function setThemeLabel() {
    var b = document.getElementById("theme-toggle");
    if (b) b.setAttribute("aria-pressed", effectiveTheme() === "dark" ? "true" : "false");
  }

  // ------------------------------------------------------------ evidence
  // openStep expands the investigation step a citation points at.
  function openStep(hash) {
    if (!hash || hash.indexOf("#step-") !== 0) return;
    var li = document.getElementById(hash.slice(1));
    if (!li) return;
    var d = li.querySelector("details");
    if (d) d.open = true;
    document.querySelectorAll(".step.cited").forEach(function (el) { el.classList.remove("cited"); });
    li.classList.add("cited");
    li.scrollIntoView({ block: "start" });
    // Focus the step itself, not its <summary>: the Enter that followed the
    // citation may still be in flight, and on a summary it would close the
    // evidence again.
    li.focus({ preventScroll: true });
  }

  // ------------------------------------------------------------ live updates
  var refreshTimer = null;
  var refreshing = false;
  var again = false;

  // refreshLive re-renders the page's live regions from the server,
  // keeping open <details> open.
  function refreshLive() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (res) {
      if (res.redirected && new URL(res.url).pathname === "/login") { location.href = "/login"; return null; }
      if (!res.ok) return null;
      return res.text();
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("[data-live]").forEach(function (el) {
        var fresh = doc.getElementById(el.id);
        if (!fresh) return;
        var open = [];
        el.querySelectorAll("details[open]").forEach(function (d) {
          var host = d.closest("[id]");
          if (host) open.push(host.id);
        });
        var cited = el.querySelector(".step.cited");
        // Keep keyboard focus on the same control across the swap.
        var focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
        var focusIdx = el.contains(document.activeElement) ? Array.prototype.indexOf.call(el.querySelectorAll(focusable), document.activeElement) : -1;
        var node = document.importNode(fresh, true);
        el.replaceWith(node);
        if (focusIdx >= 0) {
          var same = node.querySelectorAll(focusable)[focusIdx];
          if (same) same.focus({ preventScroll: true });
        }
        open.forEach(function (id) {
          var host = document.getElementById(id);
          var d = host && host.querySelector("details");
          if (d) d.open = true;
        });
        if (cited) { var c = document.getElementById(cited.id); if (c) c.classList.add("cited"); }
        if (window.htmx) window.htmx.process(node);
      });
    }).catch(function () { /* the next event retries */ }).then(function () {
      refreshing = false;
      if (again) { again = false; scheduleRefresh(); }
    });
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshLive, 150);
  }

  function startLive() {
    if (!document.querySelector("[data-live]") || !window.EventSource) return;
    var page = document.querySelector("[data-incident-page]");
    var incidentID = page ? page.getAttribute("data-incident-page") : "";
    var status = document.getElementById("live-status");
    var setStatus = function (state, text) {
      status = document.getElementById("live-status");
      if (status) { status.setAttribute("data-state", state); status.textContent = text; }
    };
    // Resume after the last event the page was rendered with, so changes
    // made between rendering and connecting are not missed.
    var last = document.body.getAttribute("data-last-event") || "";
    var es = new EventSource("/api/v1/events" + (last ? "?last_event_id=" + encodeURIComponent(last) : ""));
    es.onopen = function () { setStatus("live", "live"); };
    es.onerror = function () {
      setStatus(es.readyState === EventSource.CLOSED ? "offline" : "connecting", es.readyState === EventSource.CLOSED ? "offline: reload the page" : "reconnecting…");
    };
    var onEvent = function (ev) {
      if (incidentID) {
        var data = null;
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        if (!data || (data.id !== incidentID && data.incident_id !== incidentID)) return;
      }
      scheduleRefresh();
    };
    ["incident.created", "incident.updated", "alert.received", "investigation.updated"].forEach(function (t) {
      es.addEventListener(t, onEvent);
    });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // ------------------------------------------------------------ snippets
  function snippets(v) {
    var url = v.webhook_url, tok = v.token;
    return {
      alertmanager:
        "receivers:\n" +
        "  - name: aurora\n" +
        "    webhook_configs:\n" +
        "      - url: " + url + "\n" +
        "        send_resolved: true\n" +
        "        max_alerts: 100\n" +
        "        http_config:\n" +
        "          authorization:\n" +
        "            type: Bearer\n" +
        "            credentials: " + tok + "\n" +
        "route:\n" +
        "  receiver: aurora",
      grafana:
        "Alerting → Contact points → New contact point\n" +
        "  Integration: Webhook\n" +
        "  URL: " + url + "\n" +
        "  Optional Webhook settings → Authorization Header - Scheme: Bearer\n" +
        "                             Authorization Header - Credentials: " + tok,
      curl:
        "curl -X POST " + url + " \\\n" +
        "  -H 'Authorization: Bearer " + tok + "' -H 'Content-Type: application/json' \\\n" +
        (v.source === "alertmanager"
          ? "  -d '{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"aurora\",\"groupKey\":\"{}:{alertname=\\\"Test\\\"}\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Test\",\"severity\":\"warning\"},\"annotations\":{\"summary\":\"Test alert from curl\"},\"startsAt\":\"" + new Date().toISOString() + "\"}]}'"
          : "  -d '{\"title\":\"Test alert\",\"severity\":\"warning\"}'")
    };
  }

  function showResult(form, kind, data) {
    if (kind === "reload") { location.reload(); return; }
    var box = document.getElementById(kind === "integration" ? "integration-result" : "token-result");
    if (!box) return;
    box.querySelectorAll("[data-field]").forEach(function (el) {
      el.textContent = data[el.getAttribute("data-field")] || "";
    });
    if (kind === "integration") {
      var s = snippets(data);
      box.querySelectorAll("[data-snippet]").forEach(function (el) { el.textContent = s[el.getAttribute("data-snippet")]; });
    }
    box.hidden = false;
    form.reset();
    var first = box.querySelector(".copy");
    if (first) first.focus();
  }

  // ------------------------------------------------------------ events
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-copy], [data-action], #theme-toggle, a.cite");
    if (!t) return;
    if (t.id === "theme-toggle") {
      var next = effectiveTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("aurora-theme", next); } catch (err) { /* ignore */ }
      setThemeLabel();
      return;
    }
    if (t.matches("a.cite")) {
      var h = t.getAttribute("href");
      if (location.hash === h) { e.preventDefault(); openStep(h); }
      return; // hashchange opens it
    }
    if (t.hasAttribute("data-copy")) {
      var src = document.querySelector(t.getAttribute("data-copy"));
      if (src) copyText(src.textContent, t);
      return;
    }
    var action = t.getAttribute("data-action");
    var id = t.getAttribute("data-incident");
    var p = null;
    if (action === "status") {
      p = api("PATCH", "/api/v1/incidents/" + encodeURIComponent(id), { status: t.getAttribute("data-status") })
        .then(function () { toast("Incident " + t.getAttribute("data-status")); });
    } else if (action === "reinvestigate") {
      p = api("POST", "/api/v1/incidents/" + encodeURIComponent(id) + "/investigations")
        .then(function () { toast("Investigation queued"); });
    } else if (action === "revoke-token") {
      if (!window.confirm("Revoke token “" + t.getAttribute("data-name") + "”? Anything using it stops working.")) return;
      p = api("DELETE", "/api/v1/tokens/" + encodeURIComponent(t.getAttribute("data-token")))
        .then(function () { location.reload(); });
    }
    if (!p) return;
    t.disabled = true;
    // The change's own event refreshes the page too; scheduling (not
    // running) the refresh lets both coalesce into one.
    p.then(scheduleRefresh, function (err) {
      toast(err.message, "error");
      t.disabled = false;
    });
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var spec = form.getAttribute("data-api");
    if (!spec) return;
    e.preventDefault();
    var parts = spec.split(" ");
    var body = {};
    new FormData(form).forEach(function (v, k) { body[k] = v; });
    var btn = form.querySelector("button[type=submit]");
    if (btn) btn.disabled = true;
    api(parts[0], parts[1], body).then(function (data) {
      showResult(form, form.getAttribute("data-result"), data || {});
    }, function (err) {
      toast(err.message, "error");
    }).then(function () { if (btn) btn.disabled = false; });
  });

  window.addEventListener("hashchange", function () { openStep(location.hash); });

  // ------------------------------------------------------------ ages
  // ageText is the server's age() (view.go): 42s, 5m, 3h 7m, 2d 4h.
  function ageText(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  // Ages on an open page keep counting between live refreshes.
  function tickAges() {
    var now = Date.now();
    document.querySelectorAll("time[data-age][datetime]").forEach(function (t) {
      var at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at)) t.textContent = ageText(now - at) + (t.getAttribute("data-age") === "ago" ? " ago" : "");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setThemeLabel();
    startLive();
    setInterval(tickAges, 15000);
    openStep(location.hash);
    if (window.AuroraChat) window.AuroraChat.start({ api: api, csrf: csrf, toast: toast });
    if (window.AuroraSettings) window.AuroraSettings.start({ api: api, toast: toast });
  });
})();
