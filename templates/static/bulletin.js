// 督查通报 pages: print buttons, confirmations before issuing, and the 晒比评述 meeting view's
// full screen and arrow keys (the page's CSP allows no inline script).
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  });
  var meeting = document.querySelector('.meeting');
  if (!meeting) { return; }
  var full = document.querySelector('[data-fullscreen]');
  if (full) {
    full.addEventListener('click', function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else if (meeting.requestFullscreen) { meeting.requestFullscreen(); }
    });
  }
  document.addEventListener('keydown', function (e) {
    if (e.target && /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) { return; }
    var link = null;
    if (e.key === 'ArrowRight' || e.key === 'PageDown') { link = document.querySelector('a[rel=next]'); }
    if (e.key === 'ArrowLeft' || e.key === 'PageUp') { link = document.querySelector('a[rel=prev]'); }
    if (link) { window.location.href = link.href; }
  });
}());
