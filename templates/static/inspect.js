// 督查 on a phone: − / + steppers, 不适用 switches a count off, the running score (a preview:
// the server scores by the manual), a draft kept in the browser while the form is filled,
// and a submission that cannot be sent kept to send again with the same idempotency key.
// Without this script the form still works.
(function () {
  "use strict";
  var form = document.getElementById("inspect");
  if (!form) return;
  var draftKey = "cc-inspect-draft:" + form.dataset.draft;
  var QUEUE = "cc-pending-inspections";
  var pendingBox = document.getElementById("pending");
  var running = document.getElementById("running");
  var shares = (form.dataset.grades || "1,0.66,0.33,0").split(",").map(Number);
  var items = Array.prototype.slice.call(form.querySelectorAll("li.item"));

  function load(k, d) { try { return JSON.parse(localStorage.getItem(k) || d); } catch (e) { return JSON.parse(d); } }
  function save(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* full */ } }

  // The score of one item as the manual scores it; null when not answered or not applicable.
  function scoreOf(li) {
    var m = li.dataset.method, std = Number(li.dataset.standard), deduct = Number(li.dataset.deduct);
    var na = li.querySelector("input[value=na]:checked");
    if (na) return { na: true };
    if (m === "pass_fail") {
      var c = li.querySelector("input[type=radio]:checked");
      if (!c) return null;
      return { score: c.value === "pass" ? std : 0, std: std };
    }
    var input = li.querySelector("input[type=number]");
    if (input.value === "" || !/^\d+$/.test(input.value)) return null;
    var n = Number(input.value), s;
    if (m === "per_problem") s = std - n * deduct;
    else if (m === "grade") {
      var t = li.dataset.thresholds.split(",").map(Number), g = n <= t[0] ? 0 : n <= t[1] ? 1 : n <= t[2] ? 2 : 3;
      s = std * shares[g];
    } else s = std - Math.max(0, Number(li.dataset.required) - n) * deduct;
    return { score: Math.max(0, Math.min(std, Math.round(s * 100) / 100)), std: std };
  }

  function refresh() {
    var total = 0, voided = false, answered = 0;
    items.forEach(function (li) {
      var r = scoreOf(li), out = li.querySelector(".item-score"), input = li.querySelector("input[type=number]");
      if (input) {
        var na = li.querySelector("input[value=na]:checked");
        input.disabled = !!na;
        input.required = !na;
      }
      li.classList.toggle("failed", !!(r && !r.na && r.score < r.std));
      if (!r) { out.textContent = ""; return; }
      answered++;
      if (r.na) { out.textContent = ""; return; }
      out.textContent = r.score + " / " + r.std;
      total += r.score;
      if (li.dataset.veto === "true" && r.score < r.std) voided = true;
    });
    running.textContent = answered ? (voided ? 0 : Math.round(total * 100) / 100) : "—";
  }

  function saveDraft() {
    var d = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrf_token") return;
      if (el.type === "radio" || el.type === "checkbox") { if (el.checked) d[el.name + "=" + el.value] = true; }
      else d[el.name] = el.value;
    });
    save(draftKey, d);
  }
  function restoreDraft() {
    var d = load(draftKey, "null");
    if (!d || form.querySelector(".error")) return;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrf_token") return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = !!d[el.name + "=" + el.value];
      else if (d[el.name] !== undefined) el.value = d[el.name];
    });
  }

  items.forEach(function (li) {
    var input = li.querySelector("input[type=number]");
    if (!input) return;
    li.querySelector(".minus").addEventListener("click", function () { input.value = Math.max(0, (Number(input.value) || 0) - 1); refresh(); saveDraft(); });
    li.querySelector(".plus").addEventListener("click", function () { input.value = (Number(input.value) || 0) + 1; refresh(); saveDraft(); });
  });
  form.addEventListener("change", function () { refresh(); saveDraft(); });
  form.addEventListener("input", function () { refresh(); saveDraft(); });

  function showPending() {
    var n = load(QUEUE, "[]").length;
    pendingBox.hidden = n === 0;
    pendingBox.textContent = pendingBox.dataset.template.replace("{n}", n);
  }
  function send(entry) {
    var data = new FormData();
    entry.fields.forEach(function (f) { data.append(f[0], f[1]); });
    entry.photos.forEach(function (p) { data.append(p[0], ccPhotos.toBlob(p[1]), p[0] + ".jpg"); });
    return fetch(entry.action, { method: "POST", body: data, credentials: "same-origin", headers: { "Idempotency-Key": entry.key } });
  }
  function flush() {
    var list = load(QUEUE, "[]");
    if (!list.length || !navigator.onLine || !window.fetch) return;
    var entry = list[0];
    send(entry).then(function (r) {
      save(QUEUE, load(QUEUE, "[]").filter(function (x) { return x.key !== entry.key; }));
      showPending();
      if (r.redirected) flush();
    }).catch(function () { /* still offline */ });
  }

  form.addEventListener("submit", function (ev) {
    if (!window.fetch || !window.Promise) return;
    ev.preventDefault();
    var fields = [], files = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.type === "file") { Array.prototype.slice.call(el.files, 0, 3).forEach(function (f) { files.push([el.name, f]); }); return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      fields.push([el.name, el.value]);
    });
    Promise.all(files.map(function (f) { return ccPhotos.shrink(f[1]).then(function (d) { return d && [f[0], d]; }); })).then(function (photos) {
      var entry = { key: ccPhotos.newKey(), action: form.action, fields: fields, photos: photos.filter(Boolean) };
      send(entry).then(function (r) {
        if (r.redirected) { localStorage.removeItem(draftKey); window.location = r.url; return; }
        return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
      }).catch(function () {
        var list = load(QUEUE, "[]");
        list.push(entry);
        save(QUEUE, list);
        localStorage.removeItem(draftKey);
        showPending();
        var p = document.createElement("p");
        p.className = "notice"; p.setAttribute("role", "status"); p.textContent = form.dataset.offline;
        form.parentNode.insertBefore(p, form);
      });
    });
  });

  window.addEventListener("online", flush);
  restoreDraft();
  refresh();
  showPending();
  flush();
})();
