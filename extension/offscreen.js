// Offscreen document entry: wiring only. It lives as long as the browser, unlike the
// service worker, so it holds the call path and the sockets that must stay up. Each import
// registers its listeners in the first turn, before the core has loaded:
//   doc-worker.js         its link to the service worker (storage, badge, tabs)
//   doc-core.js           the core (crate::bridge), its effects, timer, state and status
//   doc-pages.js          WebClient tabs (content.js ports)
//   doc-link.js           the WebSocket to the local DATEV connector (crate::session) and
//                         the PestRoutes middleware's event stream (crate::stream)
//   doc-ui.js             requests from the popup, the options page and PestRoutes pages
import './messages.js';
import './doc-worker.js';
import './doc-core.js';
import './doc-pages.js';
import './doc-link.js';
import './doc-ui.js';
