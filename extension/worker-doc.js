// The service worker's side of the offscreen document, where the core and the call path
// are (offscreen.js). The worker keeps what needs chrome.* APIs the document does not
// have: it opens the document and opens it again if it dies, reads the settings and hands
// them over, stores the core's state and the pinned origin, nudges tabs and reports
// closed ones. Nothing on the way from a page's frame to the connector passes here, so a
// stopped worker delays no CALL_EVENT.
//
// One runtime port (PORT_LINK), which this worker opens whenever it starts or the document
// says it is there: its disconnect tells that the document died (its sockets are gone; the
// core's state is in storage.session). The worker listens for no runtime port itself, so a
// WebClient page's port reaches the document alone.
import './messages.js';
import * as Settings from './settings.js';
import init from './wasm/cti_core.js';

const M = CtiMessages;
const OFFSCREEN_URL = 'offscreen.html';

/** @param {unknown[]} a */
export function log(...a) {
  console.log('[3CX Bridge]', ...a);
  toDoc({ kind: 'log', at: Date.now(), line: a.map(String).join(' ') });
}

// ---- settings ------------------------------------------------------------------------------
/** @type {Record<string, any>} */
let settings = {};
/** @type {Array<(changed: string[] | null) => void>} */
const settingsListeners = [];
/** Called after the settings changed, with the keys of the stores that changed, once the
 * new settings went to the document; and once after loading, with null (a worker started
 * by the change itself has no older values to compare with).
 * @param {(changed: string[] | null) => void} fn */
export function onSettings(fn) {
  settingsListeners.push(fn);
}
export function currentSettings() {
  return settings;
}

// Policy values are read once and then followed through storage.onChanged: the first read
// after a browser start takes seconds, and overlapping reads then may never answer. A
// worker that Chrome restarted uses the copy kept in storage.session.
const freshManaged = () => Settings.loadManaged().then((m) => chrome.storage.session.set({ managedCopy: m }).then(() => m));
let managed = chrome.storage.session.get('managedCopy').then(({ managedCopy }) =>
  managedCopy && typeof managedCopy === 'object' ? /** @type {Record<string, any>} */ (managedCopy) : freshManaged());

/** The settings in force now (local re-read, policy from the cache). */
async function readSettings() {
  const [local, policy] = await Promise.all([chrome.storage.local.get(null), managed]);
  return Settings.combine(local, policy).values;
}

const loaded = init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') })
  .then(readSettings)
  .then((values) => {
    settings = values;
    settingsListeners.forEach((fn) => fn(null));
  });
/** Resolves once the settings are loaded (the core module with them). */
export function ready() {
  return loaded;
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' && area !== 'managed') return;
  const keys = Object.keys(changes);
  loaded.then(() => {
    if (!keys.some((k) => k in settings)) return;
    if (area === 'managed') managed = freshManaged();
    return readSettings();
  }).then((values) => {
    if (!values) return;
    settings = values;
    toDoc({ kind: 'settings', settings });
    settingsListeners.forEach((fn) => fn(keys));
  });
});

// ---- the document --------------------------------------------------------------------------
/** @type {chrome.runtime.Port | null} */
let port = null;
/** Whether the document on `port` has been attached (its 'hello' answered). */
let attached = false;
/** Messages for the document until a port is up and attached. @type {WorkerToDoc[]} */
const waiting = [];
/** @type {Promise<void> | null} */
let opening = null;
/** @type {Record<string, (m: any) => void>} */
const handlers = {};

/** What to do with one kind of message from the document. @param {string} kind @param {(m: any) => void} fn */
export function onDoc(kind, fn) {
  handlers[kind] = fn;
}

/** @param {WorkerToDoc} msg */
export function toDoc(msg) {
  if (port && attached) {
    try {
      port.postMessage(msg);
      return;
    } catch (_) {
      port = null;
    }
  }
  waiting.push(msg);
  if (waiting.length > 1000) waiting.shift(); // a document that never comes: keep the newest
  ensureDoc();
}

/** Failed attempts in a row to open the document (refused, or closed before it answered),
 * and the timer of the next one: it is asked for again after 1, 2, 4 … 60 s, not in a
 * loop (a port to no document closes at once, which would ask again at once). Reset when
 * a document answers. */
let failures = 0;
/** @type {ReturnType<typeof setTimeout> | null} */
let retry = null;
/** Whether a document has answered this worker: the first one may have to clear a notice
 * an earlier worker left (the failures are counted per worker). */
let answeredOnce = false;
/** @type {Array<(why: string | null) => void>} */
const problemListeners = [];
/** Called with why the document could not be opened, and with null once it is open again.
 * @param {(why: string | null) => void} fn */
export function onDocProblem(fn) {
  problemListeners.push(fn);
}

/** Opens the document if it is not there, and connects to it. */
function ensureDoc() {
  if (port || retry) return Promise.resolve();
  opening = opening || (async () => {
    if (!(await chrome.offscreen.hasDocument())) {
      const refused = await chrome.offscreen.createDocument({
        url: OFFSCREEN_URL,
        reasons: [chrome.offscreen.Reason.WORKERS],
        justification: 'Runs the call path (WebClient frames to DATEV call events) and keeps the WebSocket to the local DATEV connector and the PestRoutes event stream open while the service worker sleeps.',
      }).then(() => null, (e) => (String(e.message).includes('single offscreen') ? null : String(e.message)));
      if (refused !== null) return docRefused(refused);
    }
    connect();
  })().catch((e) => docRefused(String(e.message))).finally(() => { opening = null; });
  return opening;
}

/** @param {string} why */
function docRefused(why) {
  // On chrome://extensions under Errors, where the popup's notice sends the administrator.
  console.error('[3CX Bridge] the offscreen document could not be opened:', why);
  if (!failures) problemListeners.forEach((fn) => fn(why)); // the next ones would say the same
  const wait = Math.min(60_000, 1000 * 2 ** Math.min(failures, 6));
  failures++;
  retry = setTimeout(() => {
    retry = null;
    ensureDoc();
  }, wait);
}

/** Connects to the document. It answers 'hello' if it listens (a document still loading
 * says 'wake' once it does); a port nobody takes closes at once. */
function connect() {
  if (port) return;
  const p = chrome.runtime.connect({ name: M.PORT_LINK });
  port = p;
  attached = false;
  p.onMessage.addListener((raw) => {
    const m = M.parseFromDoc(raw);
    if (m) onMessage(p, m);
  });
  p.onDisconnect.addListener(() => {
    void chrome.runtime.lastError;
    if (port !== p) return;
    const answered = attached;
    port = null;
    attached = false;
    // The document closed or crashed (or was not listening yet): open it again if it is
    // gone. Its core's state is in storage.session; the new one restores from it. One
    // that went before it ever answered is a failure like a refusal (it would again).
    chrome.offscreen.hasDocument().then((has) => {
      if (has) return;
      if (answered) ensureDoc();
      else if (!retry) docRefused('it closed before it answered');
    });
  });
}

/** What a new document starts from. @returns {Promise<Restore>} */
async function restoreFrom() {
  const [{ bridge }, { pinnedOrigin, lastGoodPort }, tabs] = await Promise.all([
    chrome.storage.session.get('bridge'),
    chrome.storage.local.get(['pinnedOrigin', 'lastGoodPort']),
    chrome.tabs.query({}),
  ]);
  return {
    bridge: typeof bridge === 'string' ? bridge : null,
    pin: typeof pinnedOrigin === 'string' ? pinnedOrigin : '',
    lastGoodPort: Number(lastGoodPort) || 0,
    // Ids only (no "tabs" permission needed): a tab closed after this is told as usual.
    // (not TAB_ID_NONE, -1, which some windows' tabs have)
    tabs: tabs.flatMap((t) => (Number.isInteger(t.id) && Number(t.id) >= 0 ? [Number(t.id)] : [])),
  };
}

/** Answers the document's hello: the settings, and what it starts from if it is new;
 * then what waited for it. @param {chrome.runtime.Port} p @param {boolean} fresh */
async function attach(p, fresh) {
  const [restore] = await Promise.all([fresh ? restoreFrom() : null, loaded]);
  if (port !== p) return;
  p.postMessage(/** @type {WorkerToDoc} */ ({
    kind: 'attach',
    settings,
    language: chrome.i18n.getUILanguage(),
    version: chrome.runtime.getManifest().version,
    restore,
  }));
  attached = true;
  if (failures || !answeredOnce) problemListeners.forEach((fn) => fn(null));
  failures = 0;
  answeredOnce = true;
  for (const m of waiting.splice(0)) p.postMessage(m);
}

/** @param {chrome.runtime.Port} p @param {DocToWorker} m */
function onMessage(p, m) {
  switch (m.kind) {
    case 'hello':
      attach(p, m.fresh).catch((e) => log('could not attach the offscreen document:', e.message));
      break;
    case 'store':
      chrome.storage.session.set({ bridge: m.bridge })
        .catch((e) => log('could not store the state:', e.message))
        .finally(() => {
          try {
            p.postMessage(/** @type {WorkerToDoc} */ ({ kind: 'stored', id: m.id }));
          } catch (_) { /* the document died: a new one restores what was stored */ }
        });
      break;
    case 'pin': chrome.storage.local.set({ pinnedOrigin: m.origin }); break;
    case 'rememberPort': chrome.storage.local.set({ lastGoodPort: m.port }); break;
    case 'nudge':
      chrome.tabs.sendMessage(m.tab, /** @type {WorkerNudge} */ ({ kind: 'reconnect' }))
        .catch(() => toDoc({ kind: 'unreachable', tab: m.tab }));
      break;
    default: handlers[m.kind]?.(m);
  }
}

// The document says 'wake' when it starts, or has something for a worker that is not
// connected; a page whose port found no document says the same. Chrome starts a stopped
// worker for any message, and any message from our own contexts (the popup's, a PestRoutes
// page's) makes sure the document is there to answer it.
chrome.runtime.onMessage.addListener((_raw, sender) => {
  if (sender.id !== chrome.runtime.id || port) return undefined;
  if (opening) opening.finally(ensureDoc); // a document that is being opened says 'wake' once it listens
  else ensureDoc();
  return undefined;
});

// A closed WebClient tab takes its calls with it: they end for DATEV now.
chrome.tabs.onRemoved.addListener((tab) => toDoc({ kind: 'tabClosed', tab }));

// A new worker connects at once: the document may be waiting with something to store.
ensureDoc();
// When the browser starts, so does the document (and with it the connector link and the
// PestRoutes stream), before the first WebClient page asks for it.
chrome.runtime.onStartup.addListener(() => { ensureDoc(); });
