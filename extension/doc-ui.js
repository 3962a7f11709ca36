// Requests to the core from the extension's own pages (popup, options) and from the
// click-to-dial content script on PestRoutes pages, by runtime.sendMessage. Chrome says who
// sent them: the extension's pages are told by their URL (a content script's sender URL is
// its web page's, and an options page opened in a tab has a tab, so the URL decides, not
// the tab); a PestRoutes page is judged by the core from the origin Chrome reports.
import { aboutBrowser, currentSettings, withCore } from './doc-core.js';

const M = CtiMessages;
const OWN = chrome.runtime.getURL('');

/** The status report at the top of a diagnostics file: versions, settings without the
 * secret, what the popup shows. The core masks numbers in it. @param {import('./wasm/cti_core.js').Bridge} c */
function report(c) {
  const status = c.status(Date.now());
  const settings = { ...currentSettings(), sharedSecret: currentSettings().sharedSecret ? '(set)' : '' };
  const rows = Object.entries(status.rows).map(([name, r]) =>
    `${name}: ${r.level} ${r.text.key} ${JSON.stringify(r.text.args)}${r.extra ? ` ${r.extra.key} ${JSON.stringify(r.extra.args)}` : ''}`);
  return [
    `extension ${aboutBrowser().version}, ${navigator.userAgent}, language ${aboutBrowser().language}`,
    `settings ${JSON.stringify(settings)}`,
    ...rows,
    `trust ${JSON.stringify(status.trust)}`,
    ...status.notes.map((/** @type {any} */ n) => `note ${new Date(n.at).toISOString()} ${n.text.key} ${JSON.stringify(n.text.args)}`),
  ].join('\n');
}

chrome.runtime.onMessage.addListener((raw, sender, reply) => {
  if (sender.id !== chrome.runtime.id) return undefined;
  const kind = raw?.kind;
  if (kind === 'clickToDial' || kind === 'clickToDialEnabled') return fromPestRoutes(raw, sender, reply);
  if (kind === 'wake' || !String(sender.url).startsWith(OWN)) return undefined;
  const m = M.parseUi(raw);
  // Refused (one log line, in parseUi) and answered, so that the page does not send it again.
  if (!m) return reply({ ok: false });
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

// Click-to-dial: the content script (manifest, PestRoutes hosts) asks once per page
// whether it is on, so with the setting off tel: links there behave as they always did.
// A click is judged by the core from the origin Chrome reports for the sender.
/** @param {unknown} raw @param {chrome.runtime.MessageSender} sender @param {(r: unknown) => void} reply */
function fromPestRoutes(raw, sender, reply) {
  const m = sender.tab && sender.origin ? M.parsePestRoutes(raw) : null;
  // Refused and answered, as above (a tel: link's number can be any length).
  if (!m || !sender.origin) return reply({ ok: false, enabled: false });
  const origin = sender.origin;
  withCore((c) => {
    if (m.kind === 'clickToDialEnabled') return reply({ enabled: c.clickToDialAllowed(origin) });
    // Answered first: taken, the click is not sent again (CtiMessages.ask), even if the
    // core should fail on it.
    reply({ ok: true });
    return c.handleClickToDial(origin, m.number, Date.now());
  });
  return true; // the reply may follow once the core is loaded
}
