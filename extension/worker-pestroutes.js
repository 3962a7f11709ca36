// PestRoutes in the worker: screen-pops reported by the offscreen document's stream run
// one after another (a slow PestRoutes tab never delays a CALL_EVENT), and the host access
// the settings need is checked. (Click-to-dial from PestRoutes pages goes to the core
// itself, doc-ui.js.)
import { currentSettings, log, onDoc, onSettings, ready, toDoc } from './worker-doc.js';
import { openCustomer } from './screenpop.js';
import { hostPatterns, screenPopPlan } from './wasm/cti_core.js';

let chain = Promise.resolve();
let queued = 0;

onDoc('screenPop', (/** @type {{pop: ScreenPop}} */ m) => {
  // A screen-pop may be what wakes the worker: the settings and the module come first.
  ready().then(() => {
    if (queued >= screenPopPlan().queueMax) {
      log('screen-pop dropped: too many waiting for the PestRoutes tab');
      return;
    }
    queued++;
    chain = chain.then(async () => {
      const pop = m.pop;
      const outcome = await openCustomer(currentSettings().pestroutesUrl, pop);
      toDoc({ kind: 'popResult', term: pop.phone || pop.customerId, key: outcome.key, args: outcome.args, ok: outcome.ok });
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
  toDoc({ kind: 'missingHosts', hosts: missing });
}
onSettings(() => { checkAccess(); });
chrome.permissions.onAdded.addListener(checkAccess);
chrome.permissions.onRemoved.addListener(checkAccess);

// A PestRoutes page asks whether click-to-dial is on when it loads. When the setting
// changes, or the PestRoutes address (which decides which pages may dial), the open pages
// ask again, so that a page switched off lets its clicks be its own at once.
onSettings((keys) => {
  if (!keys || (!keys.includes('clickToDial') && !keys.includes('pestroutesUrl'))) return;
  const script = chrome.runtime.getManifest().content_scripts?.find((c) => c.js?.includes('click-to-dial.js'));
  if (!script?.matches?.length) return;
  chrome.tabs.query({ url: script.matches }).then((tabs) => {
    for (const tab of tabs) {
      if (tab.id === undefined) continue;
      chrome.tabs.sendMessage(tab.id, /** @type {WorkerToPestRoutes} */ ({ kind: 'clickToDialChanged' }))
        .catch(() => { /* a tab without the script (loading, or discarded) asks when it loads */ });
    }
  }, (e) => log('could not tell PestRoutes pages of the change:', e.message));
});
