// The walking list of frontage checks: shops nearest first from the phone's position.
(function () {
  var where = document.getElementById('where');
  var list = document.getElementById('nearby');
  if (!where || !list) return;
  if (!navigator.geolocation) { where.textContent = where.dataset.denied; return; }
  where.textContent = where.dataset.locating;
  navigator.geolocation.getCurrentPosition(function (pos) {
    var q = '?lat=' + pos.coords.latitude.toFixed(6) + '&lon=' + pos.coords.longitude.toFixed(6);
    fetch('/api/v1/merchants/nearby' + q, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (shops) {
      if (!Array.isArray(shops) || shops.length === 0) { where.textContent = where.dataset.none; return; }
      where.hidden = true;
      shops.forEach(function (s) {
        var li = document.createElement('li');
        li.className = 'case-card';
        var a = document.createElement('a');
        a.href = '/frontage/' + s.id;
        var b = document.createElement('b');
        b.textContent = s.name;
        a.appendChild(b);
        a.appendChild(document.createElement('br'));
        var small = document.createElement('span');
        small.className = 'muted';
        small.textContent = Math.round(s.distance_m) + ' ' + where.dataset.m + ' · ' + (s.street || '') + ' ' + (s.address || '');
        a.appendChild(small);
        if (s.checked_today) {
          var tag = document.createElement('span');
          tag.className = 'tag ok';
          tag.textContent = where.dataset.done;
          a.appendChild(document.createTextNode(' '));
          a.appendChild(tag);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
    }).catch(function () { where.textContent = where.dataset.denied; });
  }, function () { where.textContent = where.dataset.denied; }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
})();
