// Toolset settings on the Integrations page, through the REST API
// (GET/PUT/DELETE /api/v1/toolsets/{name}, POST …/test). Secrets are write
// only: the API never returns them, and a field left empty keeps the stored
// value. Server data is rendered with textContent only.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function field(label, input, hint) {
    var l = el("label", {}, label);
    l.appendChild(input);
    if (hint) l.appendChild(el("span", { class: "muted small" }, hint));
    return l;
  }

  // Fields of each toolset's form: [name, label, kind, hint].
  var forms = {
    prometheus: [
      ["url", "Prometheus URL", "url", "e.g. http://prometheus.monitoring:9090"],
      ["bearer_token", "Bearer token", "secret", "empty keeps the stored one"],
      ["username", "Basic auth user", "text", ""],
      ["password", "Basic auth password", "secret", "empty keeps the stored one"],
      ["insecure_skip_verify", "Skip TLS verification", "bool", ""]
    ],
    kubernetes: [
      ["kubeconfig", "Kubeconfig (file content)", "secret-text", "read-only credentials are enough; empty keeps the stored one"],
      ["in_cluster", "Use the in-cluster service account instead", "bool", ""],
      ["contexts", "Contexts", "list", "comma-separated; empty: the kubeconfig's current context"]
    ]
  };

  function summary(v) {
    var s = v.settings || {};
    var parts = [];
    if (s.url) parts.push("URL " + s.url);
    if (s.clusters && s.clusters.length) parts.push("clusters " + s.clusters.join(", "));
    else if (s.contexts && s.contexts.length) parts.push("contexts " + s.contexts.join(", "));
    if (s.in_cluster) parts.push("in-cluster");
    if (s.kubeconfig_path) parts.push("KUBECONFIG " + s.kubeconfig_path);
    return parts.join(" · ");
  }

  function testLine(t) {
    if (!t) return "Not tested yet.";
    var line = (t.ok ? "OK" : "FAILED") + " (" + (t.duration_ms || 0) + " ms, " + (t.source || "") + "): " + (t.message || "");
    (t.clusters || []).forEach(function (c) {
      line += "\n  " + (c.name || c.cluster || "cluster") + ": " + (c.ok ? "ok" : "failed") + (c.message ? " — " + c.message : "") + (c.version ? " (" + c.version + ")" : "");
    });
    return line;
  }

  function card(v, admin, api, toast, reload) {
    var box = el("article", { class: "toolset", "data-toolset": v.name });
    var h = el("h3", {}, v.name + " ");
    h.appendChild(el("span", { class: "status status-" + (v.status === "configured" ? "completed" : v.status === "invalid" ? "failed" : "none") }, v.status.replace("_", " ")));
    box.appendChild(h);
    var src = { org: "set here", env: "from the server's environment", none: "not configured" }[v.source] || v.source;
    box.appendChild(el("p", { class: "muted small" }, src + (summary(v) ? " · " + summary(v) : "") + (v.updated_by ? " · updated by " + v.updated_by : "")));
    if (v.error) box.appendChild(el("p", { class: "alert" }, v.error));
    var result = el("pre", { class: "out test-result", "data-test-result": v.name }, testLine(v.last_test));
    result.classList.toggle("ok", !!(v.last_test && v.last_test.ok));
    result.classList.toggle("failed", !!(v.last_test && !v.last_test.ok));
    if (!admin) { box.appendChild(result); return box; }

    var form = el("form", { class: "stack toolset-form", "data-toolset-form": v.name });
    var s = v.settings || {};
    (forms[v.name] || []).forEach(function (f) {
      var input;
      if (f[2] === "bool") {
        input = el("input", { type: "checkbox", name: f[0] });
        input.checked = !!s[f[0]];
        var l = el("label", { class: "check" });
        l.appendChild(input);
        l.appendChild(document.createTextNode(" " + f[1]));
        form.appendChild(l);
        return;
      }
      if (f[2] === "secret-text") {
        input = el("textarea", { name: f[0], rows: "4", spellcheck: "false", autocomplete: "off" });
        if (s[f[0]] && s[f[0]].set) input.setAttribute("placeholder", "stored (hidden)");
      } else {
        input = el("input", { name: f[0], type: f[2] === "secret" ? "password" : f[2] === "url" ? "url" : "text", autocomplete: "off" });
        if (f[2] === "secret" && s[f[0]] && s[f[0]].set) input.setAttribute("placeholder", "stored (hidden)");
        if (f[2] === "list") input.value = (s[f[0]] || []).join(", ");
        else if (f[2] !== "secret" && typeof s[f[0]] === "string") input.value = s[f[0]];
      }
      form.appendChild(field(f[1], input, f[3]));
    });
    var row = el("div", { class: "actions" });
    var save = el("button", { class: "btn primary", type: "submit" }, "Save");
    var test = el("button", { class: "btn", type: "button", "data-toolset-test": v.name }, "Test connection");
    row.appendChild(save);
    row.appendChild(test);
    if (v.source === "org") {
      var del = el("button", { class: "btn danger", type: "button" }, "Remove this setting");
      del.addEventListener("click", function () {
        if (!window.confirm("Remove the " + v.name + " setting of this organisation? The server's environment applies again, if it sets one.")) return;
        api("DELETE", "/api/v1/toolsets/" + v.name).then(reload, function (e) { toast(e.message, "error"); });
      });
      row.appendChild(del);
    }
    form.appendChild(row);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {};
      (forms[v.name] || []).forEach(function (f) {
        var input = form.elements[f[0]];
        if (f[2] === "bool") body[f[0]] = input.checked;
        else if (f[2] === "list") body[f[0]] = input.value.split(",").map(function (x) { return x.trim(); }).filter(Boolean);
        else if (f[2] === "secret" || f[2] === "secret-text") { if (input.value !== "") body[f[0]] = input.value; }
        else body[f[0]] = input.value.trim();
      });
      save.disabled = true;
      api("PUT", "/api/v1/toolsets/" + v.name, body).then(function () {
        toast(v.name + " saved");
        reload();
      }, function (err) { toast(err.message, "error"); save.disabled = false; });
    });
    test.addEventListener("click", function () {
      test.disabled = true;
      result.textContent = "Testing…";
      api("POST", "/api/v1/toolsets/" + v.name + "/test").then(function (t) {
        result.textContent = testLine(t);
        result.classList.toggle("ok", !!t.ok);
        result.classList.toggle("failed", !t.ok);
      }, function (err) {
        result.textContent = "FAILED: " + err.message;
        result.classList.remove("ok");
        result.classList.add("failed");
      }).then(function () { test.disabled = false; });
    });
    box.appendChild(form);
    box.appendChild(result);
    return box;
  }

  function llmSection(root, api) {
    var admin = root.getAttribute("data-admin") === "true";
    api("GET", "/api/v1/llm").then(function (data) {
      root.textContent = "";
      if (!data || !data.configured) {
        root.appendChild(el("p", { class: "notice", id: "llm-none" }, "No language model is configured: investigations use the deterministic analyzers and chat answers from reports and tools."));
        return;
      }
      root.appendChild(el("p", { class: "muted small" }, "Provider mode: " + (data.mode || "auto")));
      var table = el("table", { class: "list", id: "llm-models" });
      var head = el("tr");
      ["Purpose", "Provider", "Model", "Chosen by", "Price (USD / 1M tokens in, out)"].forEach(function (h) { head.appendChild(el("th", { scope: "col" }, h)); });
      var thead = el("thead");
      thead.appendChild(head);
      table.appendChild(thead);
      var tbody = el("tbody");
      (data.models || []).forEach(function (m) {
        var tr = el("tr");
        var price = m.price_known && m.price ? (m.price.input_per_mtok !== undefined ? m.price.input_per_mtok + ", " + m.price.output_per_mtok : JSON.stringify(m.price)) : "unknown";
        [m.purpose, m.provider, m.model + (m.base_url ? " @ " + m.base_url : ""), m.source, price].forEach(function (v) { tr.appendChild(el("td", {}, String(v === undefined ? "" : v))); });
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      root.appendChild(table);
      if (!admin) return;
      var btn = el("button", { class: "btn", type: "button", "data-llm-test": "" }, "Test connection");
      var out = el("pre", { class: "out test-result", "data-llm-result": "" }, "Not tested yet.");
      btn.addEventListener("click", function () {
        btn.disabled = true;
        out.textContent = "Testing…";
        api("POST", "/api/v1/llm/test").then(function (r) {
          out.textContent = (r.ok ? "OK" : "FAILED") + (r.results || []).map(function (x) {
            return "\n  " + x.ref + " (" + x.provider + "): " + (x.ok ? "ok" : "failed" + (x.kind ? " [" + x.kind + "]" : "") + (x.message ? " — " + x.message : "")) + ", " + x.latency_ms + " ms";
          }).join("");
          out.classList.toggle("ok", !!r.ok);
          out.classList.toggle("failed", !r.ok);
        }, function (err) {
          out.textContent = "FAILED: " + err.message;
          out.classList.remove("ok");
          out.classList.add("failed");
        }).then(function () { btn.disabled = false; });
      });
      var row = el("div", { class: "actions" });
      row.appendChild(btn);
      root.appendChild(row);
      root.appendChild(out);
    }, function (err) {
      root.textContent = "";
      root.appendChild(el("p", { class: "alert" }, "LLM settings could not be loaded: " + err.message));
    });
  }

  window.AuroraSettings = {
    start: function (deps) {
      var llm = document.querySelector("[data-llm]");
      if (llm) llmSection(llm, deps.api);
      var root = document.querySelector("[data-toolsets]");
      if (!root) return;
      var admin = root.getAttribute("data-admin") === "true";
      var reload = function () {
        deps.api("GET", "/api/v1/toolsets").then(function (data) {
          root.textContent = "";
          ((data && data.items) || []).forEach(function (v) { root.appendChild(card(v, admin, deps.api, deps.toast, reload)); });
          root.setAttribute("data-loaded", "true");
        }, function (err) {
          root.textContent = "";
          root.appendChild(el("p", { class: "alert" }, "Toolsets could not be loaded: " + err.message));
        });
      };
      reload();
    }
  };
})();
