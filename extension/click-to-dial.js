// Click-to-dial on PestRoutes pages (content script on the hosts granted at install). It
// asks the core whether click-to-dial is on for this page (again after a settings
// change); then a click on a tel: link, or on an element marked as a phone number (class
// or id with "phone") whose text is a phone number, asks the core to dial it. Only the operator's own clicks count (a
// page script's synthetic click is not trusted). Whether this page may dial, and the
// number, are decided by the core, exactly as for DATEV's DIAL.
(() => {
  'use strict';
  const PHONE_TEXT = /^\+?[0-9(][0-9\s().\-/]{5,30}$/;
  const CLICK_PATIENCE_MS = 3000;
  const ENABLED_PATIENCE_MS = 30000;

  /** @param {Element} target @returns {string} */
  function numberAt(target) {
    const link = target.closest('a[href^="tel:" i]');
    if (link) {
      try {
        return decodeURIComponent(String(link.getAttribute('href')).slice(4)).split(/[;?]/)[0].trim();
      } catch (_) {
        return '';
      }
    }
    const marked = target.closest('[class*="phone" i], [id*="phone" i]');
    const text = marked && !marked.closest('input, textarea, [contenteditable]') ? (marked.textContent || '').trim() : '';
    return PHONE_TEXT.test(text) ? text : '';
  }

  /** @param {MouseEvent} ev */
  function onClick(ev) {
    if (!ev.isTrusted || ev.button !== 0 || !(ev.target instanceof Element)) return;
    const number = numberAt(ev.target);
    if (!number) return;
    ev.preventDefault();
    ev.stopPropagation();
    // A dial that comes late is worse than none: the operator clicks again.
    CtiMessages.ask({ kind: 'clickToDial', number }, CLICK_PATIENCE_MS).catch((e) => console.warn('[3CX Bridge]', e.message));
  }

  let listening = false;
  let asked = 0;
  // Asked when the page loads, which after a browser start can be before the extension's
  // offscreen document is there (`ask` waits for it, as long as a slow start takes), and
  // again when the worker says the settings changed. Only the newest answer counts.
  function ask() {
    const mine = ++asked;
    CtiMessages.ask({ kind: 'clickToDialEnabled' }, ENABLED_PATIENCE_MS).then((r) => {
      const on = !!r && r.enabled === true;
      if (mine !== asked || on === listening) return;
      listening = on;
      if (on) document.addEventListener('click', onClick, true);
      else document.removeEventListener('click', onClick, true);
    }, (e) => console.warn('[3CX Bridge]', e.message));
  }
  ask();
  chrome.runtime.onMessage.addListener((/** @type {WorkerToPestRoutes} */ msg, sender) => {
    if (sender.id === chrome.runtime.id && msg && msg.kind === 'clickToDialChanged') ask();
  });
})();
