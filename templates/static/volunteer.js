// 志愿服务 on the phone: the scan page sends the phone's position with the check-in code (and
// reads a code with the camera where the browser can); the organiser's code screen renews
// the code before it expires.
(function () {
  var form = document.getElementById('scan-form');
  if (form) {
    var where = document.getElementById('where');
    var code = document.getElementById('code');
    if (navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById('lat').value = pos.coords.latitude.toFixed(6);
        document.getElementById('lon').value = pos.coords.longitude.toFixed(6);
        where.textContent = where.dataset.located + ' ±' + Math.round(pos.coords.accuracy) + ' m';
      }, function () { where.textContent = where.dataset.denied; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 20000 });
    } else {
      where.textContent = where.dataset.denied;
    }
    // Without a code in the address, read one with the camera (BarcodeDetector, where offered).
    var video = document.getElementById('camera');
    if (!code.value && video && 'BarcodeDetector' in window && navigator.mediaDevices) {
      var hint = document.getElementById('camera-hint');
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        hint.hidden = false;
        hint.textContent = hint.dataset.scan;
        video.play();
        var detector = new window.BarcodeDetector({ formats: ['qr_code'] });
        var look = function () {
          detector.detect(video).then(function (found) {
            var hit = found.map(function (f) { return f.rawValue; }).find(function (v) { return v.indexOf('c=') >= 0; });
            if (hit) {
              code.value = decodeURIComponent(hit.split('c=')[1].split('&')[0]);
              stream.getTracks().forEach(function (t) { t.stop(); });
              video.hidden = true;
              form.requestSubmit();
            } else {
              setTimeout(look, 300);
            }
          }).catch(function () { setTimeout(look, 600); });
        };
        look();
      }).catch(function () {});
    }
  }
  var screen = document.getElementById('code-screen');
  if (screen) {
    var refresh = function () {
      fetch(screen.dataset.api, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (c) {
        if (!c.code) return;
        if (document.getElementById('code-text').textContent !== c.code) {
          document.getElementById('qr').innerHTML = c.svg;
          document.getElementById('code-text').textContent = c.code;
        }
        document.getElementById('checked-in').textContent = c.checked_in;
        document.getElementById('checked-out').textContent = c.checked_out;
        screen.dataset.expires = c.expires_at;
      }).catch(function () {});
    };
    setInterval(refresh, 5000);
  }
})();
