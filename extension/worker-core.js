// The service worker's one core instance (crate::bridge) and the plumbing around it:
// loading it (and restoring it after a worker stop), carrying out its effects, its timer,
// persisting its state, and telling worker-ui.js when its status changed.
//
// Order of work for a frame: the core decides, its effects go out at once (the CALL_EVENT
// is on its way to the connector), and only then is the state written; the page's frame
// is acknowledged once the state that contains it is stored.
import './messages.js';
import * as Settings from './settings.js';
import { createStore } from './worker-store.js';
import init, { Bridge } from './wasm/cti_core.js';

// The worker's log: the console, and the core, which keeps the last lines for a
// diagnostics report (and masks any number in them there). The core's routine lines (a
// trace per CALL_EVENT, masked) go to the report only, and to the console too with the
// debugLogging setting: the console stays quiet while calls flow.
/** Lines waiting for logLater's timer (one or more tasks' worth): when, what, whether
 * for the console too. @type {Array<[number, unknown[], boolean]>} */
let later = [];
/** @param {unknown[]} a */
export function log(...a) {
  if (later.length) later.push([Date.now(), a, true]); // behind the core's lines still waiting
  else write(Date.now(), a, true);
}
/** @param {number} at @param {unknown[]} a @param {boolean} toConsole */
function write(at, a, toConsole) {
  if (toConsole) console.log('[3CX Bridge]', ...a);
  if (core) core.diagLog(`${new Date(at).toISOString().slice(11, 23)} ${a.map(String).join(' ')}`);
}
// The core's own lines wait for a zero-delay timer, so that the event is on its way to the
// connector first: writing a line cost more than deciding the event (tests/bench, figure
// a.). In order, with the time they were made; messages handled before the timer fires
// add theirs, each bounded by what its message can carry.
/** @param {string} line @param {boolean} toConsole */
function logLater(line, toConsole) {
  if (!later.length) setTimeout(writeLater, 0);
  later.push([Date.now(), [line], toConsole]);
}
function writeLater() {
  const lines = later;
  later = [];
  for (const [at, a, toConsole] of lines) write(at, a, toConsole);
}
// chrome.alarms wakes a stopped worker; a plain timer is enough for what is due within the
// worker's idle lifetime (Chrome stops it after 30 s without events).
const ALARM_BEYOND_MS = 25000;

/** @type {Bridge | null} */
let core = null;
/** @type {Record<string, any>} */
let settings = {};
/** @type {Record<string, (effect: any) => void>} */
const handlers = {};
/** @type {Array<() => void>} */
const settingsListeners = [];

/** Registers what to do with one kind of core effect. @param {string} kind @param {(effect: any) => void} fn */
export function onEffect(kind, fn) {
  handlers[kind] = fn;
}

/** Called after the settings changed (and once after loading). @param {() => void} fn */
export function onSettings(fn) {
  settingsListeners.push(fn);
}

export function currentSettings() {
  return settings;
}

/** The subset of settings the core acts on (no secret), as the JSON text the core reads.
 * @param {Record<string, any>} v */
function coreSettings(v) {
  const keys = ['extensionNumber', 'bridgePort', 'dialMethod', 'dialDelay', 'dialBlockedPrefixes', 'webclientOrigins',
    'clickToDial', 'pestroutesUrl', 'serverAddress'];
  return JSON.stringify(Object.fromEntries(keys.filter((k) => v[k] !== undefined).map((k) => [k, v[k]])));
}

// Policy values are read once and then followed through storage.onChanged: the first read
// after a browser start takes seconds, and overlapping reads then may never answer. A
// worker that Chrome restarted uses the copy kept in storage.session, so a frame or a
// screen-pop that wakes it never waits for the policy store.
const freshManaged = () => Settings.loadManaged().then((m) => chrome.storage.session.set({ managedCopy: m }).then(() => m));
// One read for the saved state and the policy copy: after a worker stop the first frame
// waits for it.
const saved = chrome.storage.session.get(['bridge', 'managedCopy']);
let managed = saved.then(({ managedCopy }) =>
  managedCopy && typeof managedCopy === 'object' ? /** @type {Record<string, any>} */ (managedCopy) : freshManaged());

/** The settings in force now (local re-read, policy from the cache). */
async function readSettings() {
  const [local, policy] = await Promise.all([chrome.storage.local.get(null), managed]);
  return Settings.combine(local, policy).values;
}

async function load() {
  const wasm = init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') });
  // Every read at once: after a worker stop the first frame waits for all of them.
  const [stored, local, policy] = await Promise.all([
    saved,
    chrome.storage.local.get(null),
    managed,
    wasm,
  ]);
  settings = Settings.combine(local, policy).values;
  /** @type {Bridge | null} */
  let c = null;
  if (typeof stored.bridge === 'string') {
    try {
      c = Bridge.restore(stored.bridge, coreSettings(settings));
    } catch (e) {
      log('could not restore the saved state:', /** @type {Error} */ (e).message);
    }
  }
  c = c || new Bridge(coreSettings(settings));
  if (typeof local.pinnedOrigin === 'string') c.restorePin(local.pinnedOrigin);
  core = c;
  settingsListeners.forEach((fn) => fn());
  flush();
}
const loaded = load();

/** Resolves once the core and the settings are loaded. */
export function ready() {
  return loaded;
}

/**
 * Runs `fn` on the core, now or (while it loads) in arrival order, then carries out what
 * the core wants done.
 * @param {(core: Bridge) => void} fn
 */
export function withCore(fn) {
  if (core) {
    fn(core);
    flush();
  } else {
    loaded.then(() => withCore(fn), (e) => log('the core did not load:', e.message));
  }
}

function flush() {
  const c = core;
  if (!c) return;
  if (c.hasEffects()) {
    for (const e of c.poll()) {
      const fn = handlers[e.kind];
      if (fn) fn(e);
      else if (e.kind === 'log') logLater(e.line, true);
      else if (e.kind === 'trace') logLater(e.line, settings.debugLogging === true);
      else if (e.kind === 'pin') chrome.storage.local.set({ pinnedOrigin: e.origin || '' });
    }
  }
  armTimer(c);
  if (c.takeStatusDirty()) publishSoon();
  if (c.takeDirty()) store.soon();
}

// ---- the clock ----------------------------------------------------------------------
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let timerAt = Infinity;
/** @param {Bridge} c */
function armTimer(c) {
  const at = c.pollTimeout() ?? Infinity;
  if (at === timerAt) return;
  clearTimeout(timer);
  timerAt = at;
  if (at === Infinity) return;
  const delay = Math.max(0, at - Date.now());
  timer = setTimeout(() => {
    timerAt = Infinity;
    withCore((k) => k.handleTimeout(Date.now()));
  }, delay);
  if (delay > ALARM_BEYOND_MS) chrome.alarms.create('timeout', { when: at });
}
chrome.alarms.onAlarm.addListener((a) => {
  if (a.name === 'timeout') withCore((k) => k.handleTimeout(Date.now()));
});

// ---- persistence, off the critical path -----------------------------------------------
const store = createStore(() => core?.snapshot(), log);
/** Runs `fn` once the state as it is now has been stored. @param {() => void} fn */
export const afterPersist = (fn) => store.after(fn);

// ---- status for the popup and the badge (shown by worker-ui.js) ----------------------
/** @type {(status: any) => void} */
let showStatus = () => {};
/** Who shows the core's status once it changed. @param {(status: any) => void} fn */
export function onStatus(fn) {
  showStatus = fn;
}
let publishing = false;
// A started worker's first status waits a little: writing it the first time (the badge's
// and storage's bindings) takes 2-4 ms, and the page's frame that woke the worker arrives
// meanwhile and would wait behind it (tests/bench, figure c.). After a worker stop,
// storage.session still holds the status the worker had before; after a browser start
// the popup shows "starting" 50 ms longer.
let publishDelay = 50;
function publishSoon() {
  if (publishing) return;
  publishing = true;
  setTimeout(() => {
    publishing = false;
    if (core) showStatus(core.status(Date.now()));
  }, publishDelay);
  publishDelay = 0;
}

// ---- settings ---------------------------------------------------------------------------
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' && area !== 'managed') return;
  loaded.then(() => {
    if (!Object.keys(changes).some((k) => k in settings)) return;
    if (area === 'managed') managed = freshManaged();
    return readSettings();
  }).then((values) => {
    if (!values) return;
    settings = values;
    withCore((c) => c.setSettings(coreSettings(values)));
    settingsListeners.forEach((fn) => fn());
  });
});
