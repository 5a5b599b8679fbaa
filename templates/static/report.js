// 上报问题: GPS position and its grid, and a report kept in the browser when there is no
// signal, sent again (same idempotency key) when the connection is back. Without this
// script the form still works: the user picks the grid.
(function () {
  "use strict";
  var form = document.getElementById("report");
  if (!form || !window.fetch) return;
  var where = document.getElementById("where");
  var pendingBox = document.getElementById("pending");
  var KEY = "cc-pending-reports";

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(list) { try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* full: keep what fits */ } }
  function showPending() {
    var n = load().length;
    pendingBox.hidden = n === 0;
    pendingBox.textContent = pendingBox.dataset.template.replace("{n}", n);
  }

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lon = pos.coords.longitude;
      form.elements.lat.value = lat;
      form.elements.lon.value = lon;
      fetch("/api/v1/locate?lat=" + lat + "&lon=" + lon, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (g) {
          if (!g) { where.textContent = form.dataset.outside; return; }
          where.textContent = form.dataset.located.replace("{grid}", g.grid.name).replace("{community}", g.community.name);
          var select = form.elements.grid;
          for (var i = 0; i < select.options.length; i++) {
            if (select.options[i].value === g.grid.code) select.selectedIndex = i;
          }
        })
        .catch(function () {});
    }, function () { where.textContent = ""; }, { enableHighAccuracy: true, timeout: 15000 });
  } else {
    where.textContent = "";
  }

  function send(report) {
    var data = new FormData();
    Object.keys(report.fields).forEach(function (k) { data.append(k, report.fields[k]); });
    report.photos.forEach(function (p, i) { data.append("photos", ccPhotos.toBlob(p), "photo" + i + ".jpg"); });
    return fetch("/report", { method: "POST", body: data, credentials: "same-origin", headers: { "Idempotency-Key": report.key } });
  }

  function flush() {
    var list = load();
    if (!list.length || !navigator.onLine) return;
    var report = list[0];
    send(report).then(function (r) {
      save(load().filter(function (x) { return x.key !== report.key; }));
      showPending();
      if (r.redirected) flush();
    }).catch(function () { /* still offline */ });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var fields = {};
    ["csrf_token", "lat", "lon", "category", "description", "grid"].forEach(function (k) { fields[k] = form.elements[k].value; });
    if (form.elements.self_handled && form.elements.self_handled.checked) fields.self_handled = "1";
    if (form.elements.photos_public && form.elements.photos_public.checked) fields.photos_public = "1";
    var files = Array.prototype.slice.call(form.elements.photos.files, 0, 3);
    Promise.all(files.map(ccPhotos.shrink)).then(function (photos) {
      var report = { key: ccPhotos.newKey(), fields: fields, photos: photos.filter(Boolean) };
      send(report).then(function (r) {
        if (r.redirected) { window.location = r.url; return; }
        return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
      }).catch(function () {
        var list = load();
        list.push(report);
        save(list);
        showPending();
        where.textContent = form.dataset.offline;
      });
    });
  });

  window.addEventListener("online", flush);
  showPending();
  flush();
})();
