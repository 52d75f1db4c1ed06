// Knowledge base page (upload, list, search with highlighted passages) and
// the incident page's similar past incidents and feedback, through the REST
// API. Server data goes into the page with textContent only; highlights
// are <mark> elements built around text nodes, never HTML strings.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function call(method, path, body, isForm) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (body !== undefined) {
      if (isForm) opts.body = body;
      else { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) throw new Error(data && data.error && data.error.message ? data.error.message : res.status + " " + res.statusText);
        return data;
      });
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function toast(msg, kind) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = msg;
    t.className = kind || "";
    t.hidden = false;
    setTimeout(function () { t.hidden = true; }, kind === "error" ? 8000 : 3000);
  }

  // highlight appends text to parent with each query word wrapped in <mark>.
  function highlight(parent, text, words) {
    var re = words.length ? new RegExp("(" + words.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("|") + ")", "gi") : null;
    if (!re) { parent.appendChild(document.createTextNode(text)); return; }
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      parent.appendChild(el("mark", "", m[0]));
      last = m.index + m[0].length;
      if (m[0].length === 0) re.lastIndex++;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function queryWords(q) {
    return q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (w) { return w.length > 1; });
  }

  // ------------------------------------------------------------ KB page
  var searchForm = document.getElementById("kb-search-form");
  if (searchForm) {
    searchForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = searchForm.elements.q.value.trim();
      var out = document.getElementById("kb-results");
      out.textContent = "";
      if (!q) return;
      call("GET", "/api/v1/kb/search?limit=10&q=" + encodeURIComponent(q)).then(function (data) {
        var items = (data && data.items) || [];
        if (!items.length) { out.appendChild(el("li", "muted", "No passage matches.")); return; }
        var words = queryWords(q);
        items.forEach(function (it) {
          var li = el("li", "kb-hit");
          li.setAttribute("data-kb-hit", it.chunk_id);
          var head = el("div", "kb-hit-head");
          head.appendChild(el("strong", "", it.title));
          if (it.heading_path && it.heading_path.length) head.appendChild(el("span", "muted", " › " + it.heading_path.join(" › ")));
          head.appendChild(el("span", "muted small", " (" + it.kind + ", bytes " + it.start + "–" + it.end + ")"));
          li.appendChild(head);
          var p = el("p", "kb-passage");
          highlight(p, it.text, words);
          li.appendChild(p);
          if (it.source_url && /^https?:\/\//.test(it.source_url)) {
            var a = el("a", "small", it.source_url);
            a.href = it.source_url;
            a.rel = "noopener noreferrer";
            li.appendChild(a);
          }
          out.appendChild(li);
        });
      }, function (err) { out.appendChild(el("li", "error-text", "Search failed: " + err.message)); });
    });
  }

  var uploadForm = document.getElementById("kb-upload-form");
  if (uploadForm) {
    uploadForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fd = new FormData();
      var f = uploadForm.elements.file.files[0];
      if (!f) return;
      fd.append("file", f, f.name);
      ["title", "tags", "source_url"].forEach(function (n) {
        var v = uploadForm.elements[n].value.trim();
        if (v) fd.append(n, v);
      });
      call("POST", "/api/v1/kb/documents", fd, true).then(function () {
        toast("Uploaded: indexing…");
        location.reload();
      }, function (err) { toast("Upload failed: " + err.message, "error"); });
    });
  }

  document.addEventListener("click", function (ev) {
    var del = ev.target.closest && ev.target.closest("[data-kb-delete]");
    if (del) {
      if (!window.confirm("Delete " + del.getAttribute("data-name") + " and its passages?")) return;
      call("DELETE", "/api/v1/kb/documents/" + encodeURIComponent(del.getAttribute("data-kb-delete"))).then(function () { location.reload(); },
        function (err) { toast("Delete failed: " + err.message, "error"); });
      return;
    }
    var fb = ev.target.closest && ev.target.closest("[data-feedback]");
    if (fb) {
      var id = fb.getAttribute("data-incident");
      var result = document.querySelector("[data-feedback-result]");
      call("POST", "/api/v1/incidents/" + encodeURIComponent(id) + "/feedback", { rating: fb.getAttribute("data-feedback"), comment: "" }).then(function () {
        if (result) result.textContent = fb.getAttribute("data-feedback") === "helpful" ? "Thanks: this report is now searchable as a past incident." : "Thanks for the feedback.";
      }, function (err) { if (result) result.textContent = "Not saved: " + err.message; });
    }
  });

  // Documents still processing: refresh the list until they settle.
  if (document.querySelector('[data-kb-status="processing"]')) {
    setTimeout(function () { location.reload(); }, 1500);
  }

  // ------------------------------------------------------- incident page
  var sim = document.querySelector("[data-similar]");
  if (sim) {
    var list = sim.querySelector("[data-similar-list]");
    call("GET", "/api/v1/incidents/" + encodeURIComponent(sim.getAttribute("data-similar"))).then(function (inc) {
      list.textContent = "";
      var items = (inc && inc.similar_incidents) || [];
      if (!items.length) { list.appendChild(el("li", "muted", "None yet: reports marked helpful become searchable here.")); return; }
      items.forEach(function (s) {
        var li = el("li", "");
        var a = el("a", "", s.title);
        a.href = "/incidents/" + encodeURIComponent(s.incident_id);
        li.appendChild(a);
        li.appendChild(el("div", "muted small", s.reason));
        list.appendChild(li);
      });
    }, function () { list.textContent = ""; list.appendChild(el("li", "muted", "Could not load similar incidents.")); });
  }
})();
