// PestRoutes in the worker: screen-pops reported by the offscreen document's stream run
// one after another (a slow PestRoutes tab never delays a CALL_EVENT), the host access
// the settings need is checked, and click-to-dial from PestRoutes pages is taken in.
import { currentSettings, log, onSettings, ready, withCore } from './worker-core.js';
import { onOffscreen } from './worker-link.js';
import { openCustomer } from './screenpop.js';
import { hostPatterns, screenPopPlan } from './wasm/cti_core.js';

let chain = Promise.resolve();
let queued = 0;

onOffscreen('screenPop', (/** @type {{pop: ScreenPop}} */ m) => {
  // A screen-pop may be what wakes the worker: nothing of the core is usable before ready().
  ready().then(() => {
    if (queued >= screenPopPlan().queueMax) {
      log('screen-pop dropped: too many waiting for the PestRoutes tab');
      return;
    }
    queued++;
    chain = chain.then(async () => {
      const pop = m.pop;
      const outcome = await openCustomer(currentSettings().pestroutesUrl, pop);
      withCore((c) => c.handlePopResult(pop.phone || pop.customerId, outcome.key, outcome.args, outcome.ok, Date.now()));
    }).catch((e) => log('screen-pop failed:', e.message)).finally(() => { queued--; });
  });
});

// Hosts the extension may not reach yet: shown red in the popup with a grant button.
async function checkAccess() {
  await ready();
  const s = currentSettings();
  const needed = hostPatterns(s.serverAddress, s.pestroutesUrl);
  /** @type {string[]} */
  const missing = [];
  for (const origin of needed) {
    if (!(await chrome.permissions.contains({ origins: [origin] }).catch(() => false))) missing.push(origin);
  }
  // The core asks for a new configuration (linkConfig) when the stream may now reach the
  // middleware, or no longer.
  withCore((c) => c.setMissingHosts(missing));
}
onSettings(checkAccess);
chrome.permissions.onAdded.addListener(checkAccess);
chrome.permissions.onRemoved.addListener(checkAccess);

// Click-to-dial: the content script (manifest, PestRoutes hosts) asks once per page
// whether it is on, so with the setting off tel: links there behave as they always did.
// A click is judged by the core from the origin Chrome reports for the sender.
chrome.runtime.onMessage.addListener((raw, sender, reply) => {
  if (sender.id !== chrome.runtime.id || !sender.tab || !sender.origin) return undefined;
  if (raw?.kind !== 'clickToDial' && raw?.kind !== 'clickToDialEnabled') return undefined;
  const m = CtiMessages.parsePestRoutes(raw);
  if (!m) return undefined;
  const origin = /** @type {string} */ (sender.origin);
  withCore((c) => {
    if (m.kind === 'clickToDialEnabled') reply({ enabled: c.clickToDialAllowed(origin) });
    else c.handleClickToDial(origin, m.number, Date.now());
  });
  return m.kind === 'clickToDialEnabled'; // that one is answered
});
