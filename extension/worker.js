// Service worker entry: wiring only. Each import registers its listeners at the top level
// of the first turn, so that any event can wake the worker.
//   worker-core.js        the core (crate::bridge), its effects, timer, settings
//   worker-store.js       the core's state in storage.session, off the critical path
//   worker-pages.js       WebClient tabs (content.js ports)
//   worker-link.js        the offscreen document that holds the connector link
//   worker-pestroutes.js  screen-pops, PestRoutes host access
//   worker-ui.js          requests from the popup and the options page; badge and status
import './worker-core.js';
import './worker-pages.js';
import './worker-link.js';
import './worker-pestroutes.js';
import './worker-ui.js';

// Web pages' content scripts have no business reading the settings (the PestRoutes secret
// is among them): storage.local is for the extension's own contexts only.
try {
  chrome.storage.local.setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' }).catch(() => {});
} catch (_) { /* a Chrome without access levels for local storage */ }
