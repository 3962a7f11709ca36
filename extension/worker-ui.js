// Requests from the extension's own pages (popup, options). Chrome says who sent them:
// only pages of this extension (no tab of a web page) are heard.
import { withCore } from './worker-core.js';

const M = CtiMessages;

chrome.runtime.onMessage.addListener((raw, sender, reply) => {
  if (sender.id !== chrome.runtime.id || sender.tab || !String(sender.url).startsWith(chrome.runtime.getURL(''))) {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || raw.kind === 'attach') return undefined; // not for us
  const m = M.parseUi(raw);
  if (!m) return undefined;
  if (m.kind === 'forgetPinnedOrigin') {
    withCore((c) => c.forgetPinned(Date.now()));
    reply({ ok: true });
  }
  return undefined;
});
