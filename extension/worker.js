// Service worker entry: wiring only. Each import registers its listeners at the top level
// of the first turn, so that any event can wake the worker. The call path is not here: it
// runs in the offscreen document (offscreen.js), which Chrome does not stop when idle.
//   worker-doc.js         the offscreen document: opens it, hands it the settings, stores
//                         the core's state, nudges and reports tabs
//   worker-pestroutes.js  screen-pops, PestRoutes host access
//   worker-ui.js          the badge and the status for the popup
import './worker-doc.js';
import './worker-pestroutes.js';
import './worker-ui.js';

// Web pages' content scripts have no business reading the settings (the PestRoutes secret
// is among them): storage.local is for the extension's own contexts only.
try {
  chrome.storage.local.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' }).catch(() => {});
} catch (_) { /* a Chrome without access levels for local storage */ }
