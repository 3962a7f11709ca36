// Requests from the extension's own pages (popup, options). Chrome says who sent them:
// only this extension's pages are heard (a content script's sender URL is its web page's,
// and an options page opened in a tab has a tab, so the URL decides, not the tab).
// Also shows the core's status: the badge, and storage.session for the popup's first paint.
import { currentSettings, onStatus, withCore } from './worker-core.js';

const M = CtiMessages;

/** The status report at the top of a diagnostics file: versions, settings without the
 * secret, what the popup shows. The core masks numbers in it. @param {import('./wasm/cti_core.js').Bridge} c */
function report(c) {
  const status = c.status(Date.now());
  const settings = { ...currentSettings(), sharedSecret: currentSettings().sharedSecret ? '(set)' : '' };
  const rows = Object.entries(status.rows).map(([name, r]) =>
    `${name}: ${r.level} ${r.text.key} ${JSON.stringify(r.text.args)}${r.extra ? ` ${r.extra.key} ${JSON.stringify(r.extra.args)}` : ''}`);
  return [
    `extension ${chrome.runtime.getManifest().version}, ${navigator.userAgent}, language ${chrome.i18n.getUILanguage()}`,
    `settings ${JSON.stringify(settings)}`,
    ...rows,
    `trust ${JSON.stringify(status.trust)}`,
    ...status.notes.map((/** @type {any} */ n) => `note ${new Date(n.at).toISOString()} ${n.text.key} ${JSON.stringify(n.text.args)}`),
  ].join('\n');
}

chrome.runtime.onMessage.addListener((raw, sender, reply) => {
  if (sender.id !== chrome.runtime.id || !String(sender.url).startsWith(chrome.runtime.getURL(''))) {
    return undefined;
  }
  const m = M.parseUi(raw);
  if (!m) return undefined;
  withCore((c) => {
    const now = Date.now();
    switch (m.kind) {
      case 'forgetPinnedOrigin':
        c.forgetPinned(now);
        return reply({ ok: true });
      case 'diagStart':
        c.diagStart(now, m.minutes * 60000);
        return reply(c.diagStatus(now));
      case 'diagStop':
        c.diagStop(now);
        return reply(c.diagStatus(now));
      case 'diagStatus':
        return reply(c.diagStatus(now));
      case 'diagFetch':
        return reply({ text: c.diagText(report(c)) });
    }
  });
  return true; // the reply may follow once the core is loaded
});

// The popup reads the status on first paint; the badge is set only when it changed (most
// frames change the calls list, not the badge: three calls to the browser saved per frame).
let shownBadge = '';
onStatus((status) => {
  chrome.storage.session.set({ status });
  const b = status.badge;
  const badge = JSON.stringify(b);
  if (badge === shownBadge) return;
  shownBadge = badge;
  chrome.action.setBadgeText({ text: b.text });
  chrome.action.setBadgeBackgroundColor({ color: b.color });
  chrome.action.setTitle({ title: chrome.i18n.getMessage(b.title.key, b.title.args) || chrome.runtime.getManifest().name });
});
