// The call path's core (crate::bridge), in the offscreen document: the document lives as
// long as the browser (Chrome does not stop it when idle, as it does the service worker;
// if it crashes, the worker opens it again), so a frame reaches a core that is loaded and
// warm, even right after Chrome stopped the service worker. This file loads the core (and
// restores its state after the document died), carries out its effects, runs its timer,
// and hands its state and status to the worker, which alone has chrome.storage and the
// badge.
//
// Order of work for a frame: the core decides, its effects go out at once (the CALL_EVENT
// is on its way to the connector), and only then is the state written; the page's frame
// is acknowledged once the state that contains it is stored.
import './messages.js';
import { createStore } from './doc-store.js';
import { onWorker, store as storeInWorker, toWorker } from './doc-worker.js';
import init, { Bridge } from './wasm/cti_core.js';

/** Runs `fn` in a task of its own, soon: a MessageChannel, not a zero-delay timer, which
 * Chrome clamps to 4 ms once timers nest. */
const tick = new MessageChannel();
/** @type {Array<() => void>} */
let tasks = [];
tick.port1.onmessage = () => {
  const run = tasks;
  tasks = [];
  for (const fn of run) {
    try {
      fn();
    } catch (e) {
      console.warn('[3CX Bridge]', /** @type {Error} */ (e).message); // the others still run
    }
  }
};
/** @param {() => void} fn */
function later(fn) {
  if (!tasks.length) tick.port2.postMessage(0);
  tasks.push(fn);
}

// The log: the console, and the core, which keeps the last lines for a diagnostics report
// (and masks any number in them there). The core's routine lines (a trace per CALL_EVENT,
// masked) go to the report only, and to the console too with the debugLogging setting:
// the console stays quiet while calls flow.
/** Lines waiting for their task (one or more tasks' worth): when, what, whether for the
 * console too. @type {Array<[number, unknown[], boolean]>} */
let waitingLines = [];
/** @param {unknown[]} a */
export function log(...a) {
  add(Date.now(), a, true);
}
/** @param {number} at @param {unknown[]} a @param {boolean} toConsole */
function add(at, a, toConsole) {
  if (waitingLines.length) waitingLines.push([at, a, toConsole]); // behind the core's lines still waiting
  else write(at, a, toConsole);
}
/** @param {number} at @param {unknown[]} a @param {boolean} toConsole */
function write(at, a, toConsole) {
  if (toConsole) console.log('[3CX Bridge]', ...a);
  if (core) core.diagLog(`${new Date(at).toISOString().slice(11, 23)} ${a.map(String).join(' ')}`);
}
// The core's own lines wait for a task of their own, so that the event is on its way to
// the connector first: writing a line cost more than deciding the event (tests/bench,
// figure a.). In order, with the time they were made.
/** @param {string} line @param {boolean} toConsole */
function logLater(line, toConsole) {
  if (!waitingLines.length) later(writeLater);
  waitingLines.push([Date.now(), [line], toConsole]);
}
function writeLater() {
  const lines = waitingLines;
  waitingLines = [];
  for (const [at, a, toConsole] of lines) write(at, a, toConsole);
}

/** @type {Bridge | null} */
let core = null;
/** The settings in force (the worker reads them), the secret among them. @type {Record<string, any>} */
let settings = {};
/** The browser's UI language and the extension's version, for the diagnostics report:
 * the worker has chrome.i18n and the manifest, the document has neither. */
let about = { language: '', version: '' };
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

export function aboutBrowser() {
  return about;
}

/** The subset of settings the core acts on (no secret), as the JSON text the core reads.
 * @param {Record<string, any>} v */
function coreSettings(v) {
  const keys = ['extensionNumber', 'bridgePort', 'connectorExtension', 'dialMethod', 'dialBlockedPrefixes', 'webclientOrigins',
    'clickToDial', 'pestroutesUrl', 'serverAddress'];
  return JSON.stringify(Object.fromEntries(keys.filter((k) => v[k] !== undefined).map((k) => [k, v[k]])));
}

/** @type {Array<() => void>} */
const moduleListeners = [];
/** Called once the core's module is loaded, before the core is made (the link and the
 * stream are the module's too). @param {() => void} fn */
export function onModule(fn) {
  moduleListeners.push(fn);
}
const wasm = init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') })
  .then(() => moduleListeners.forEach((fn) => fn()));
/** @typedef {WorkerToDoc & {kind: 'attach'}} Attach */
/** The attach to use (a worker's answer to this document's hello). @type {Attach | null} */
let attach = null;
/** @type {() => void} */
let attached;
/** The first worker's attach: the settings, and the state a document before this one stored. */
const firstAttach = new Promise((/** @type {(v?: void) => void} */ resolve) => { attached = resolve; });
onWorker('attach', (/** @type {Attach} */ m) => {
  if (!attach) {
    attach = m; // the one with `restore` (this document said it was fresh)
    attached();
  } else if (core) {
    applySettings(m.settings); // a restarted worker: its settings may be newer
  } else {
    attach = { ...attach, settings: m.settings };
  }
});
onWorker('settings', (/** @type {{settings: Record<string, any>}} */ m) => {
  if (core) applySettings(m.settings);
  else if (attach) attach.settings = m.settings;
});
// The worker's lines: in the diagnostics report (the worker's console has them already).
onWorker('log', (/** @type {{at: number, line: string}} */ m) => add(m.at, [m.line], false));

/** @param {Record<string, any>} values */
function applySettings(values) {
  if (JSON.stringify(values) === JSON.stringify(settings)) return;
  const before = coreSettings(settings);
  settings = values;
  const now = coreSettings(values);
  if (now !== before) withCore((c) => c.setSettings(now));
  settingsListeners.forEach((fn) => fn());
}

async function load() {
  await Promise.all([firstAttach, wasm]);
  const m = /** @type {Attach} */ (attach);
  settings = m.settings;
  about = { language: m.language, version: m.version };
  const restore = m.restore || { bridge: null, pin: '', tabs: [] };
  /** @type {Bridge | null} */
  let c = null;
  if (typeof restore.bridge === 'string') {
    try {
      c = Bridge.restore(restore.bridge, coreSettings(settings));
      // This document's connector link is new: the restored core sends again what the
      // connector had not acknowledged, once the new link is ready.
      c.handleLinkRestarted();
      // A tab closed while the document that knew of it was dying: its calls end now.
      c.retainTabs(Uint32Array.from(restore.tabs), Date.now());
    } catch (e) {
      log('could not restore the saved state:', /** @type {Error} */ (e).message);
    }
  }
  c = c || new Bridge(coreSettings(settings));
  if (restore.pin) c.restorePin(restore.pin);
  core = c;
  settingsListeners.forEach((fn) => fn());
  flush();
}
const loaded = load();

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
      else if (e.kind === 'pin') toWorker({ kind: 'pin', origin: e.origin || '' });
    }
  }
  armTimer(c);
  if (c.takeStatusDirty()) publishSoon();
  if (c.takeDirty()) stored.soon();
}

// ---- the clock: the document does not stop, so a plain timer serves ---------------------
// An offscreen document counts as visible (document.visibilityState), so Chrome does not
// throttle its timers as it does a hidden tab's: in Chromium 156, 100 and 250 ms timers
// and a chain of ten 50 ms timers ran on time, right after the start and 5.5 min later.
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
  timer = setTimeout(() => {
    timerAt = Infinity;
    withCore((k) => k.handleTimeout(Date.now()));
  }, Math.max(0, at - Date.now()));
}

// ---- persistence, off the critical path -----------------------------------------------
const stored = createStore(() => core?.snapshot(), storeInWorker, later, log);
/** Runs `fn` once the state as it is now has been stored. @param {() => void} fn */
export const afterPersist = (fn) => stored.after(fn);

// ---- status for the popup and the badge (shown by the worker, worker-ui.js) -------------
let publishing = false;
function publishSoon() {
  if (publishing) return;
  publishing = true;
  later(() => {
    publishing = false;
    if (core) toWorker({ kind: 'status', status: core.status(Date.now()) });
  });
}
