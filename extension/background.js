// Service worker: runs the WASM core (one call tracker per WebClient tab), keeps the
// offscreen document (which holds the connector socket) alive and fed, and carries out
// the connector's commands on the WebClient tab.
//
// It may be stopped at any moment. Everything it needs afterwards is in
// chrome.storage.session, written before a frame is acknowledged to the content script:
// the trackers, the last frame seen per page, and the events not yet handed to the
// offscreen document. A frame delivered twice is recognised; an event is numbered once.
import './settings.js';
import init, { Core, dialString, maskNumber } from './wasm/cti_core.js';
import { openCustomer } from './screenpop.js';

const STALE_AFTER_MS = 4 * 60 * 60 * 1000;
const DIAL_CONFIRM_MS = 2500;     // a dialled call must show up this soon, else fallback
const DROP_CONFIRM_MS = 3000;
const COMMAND_MIN_GAP_MS = 1000;  // faster than a person could mean it
const OFFSCREEN_URL = 'offscreen.html';

const wasmReady = init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') });

// ---- logging ------------------------------------------------------------------------
let debug = false;
const log = (...a) => console.log('[3CX Bridge]', ...a);
const dlog = (...a) => { if (debug) console.debug('[3CX Bridge]', ...a); };

// ---- state ------------------------------------------------------------------------
// In memory while the worker lives; restored from storage.session when it starts again.
const S = {
  loaded: null,
  cores: new Map(),      // tabId -> Core
  tabs: {},              // tabId -> {pageId, seq, provision, detectedExtension, open, lastFrameAt}
  pending: [],           // [{seq, json}] not yet accepted by the offscreen document
  eventSeq: 0,
  lastCommandAt: 0,
  link: { state: 'off' },
  stream: { state: 'off' },
  pops: [],              // recent screen-pops, newest first
  settings: CtiSettings.DEFAULTS,
};
const POPS_KEPT = 10;

function load() {
  if (!S.loaded) {
    S.loaded = (async () => {
      await wasmReady;
      const [stored, { values }] = await Promise.all([chrome.storage.session.get(null), CtiSettings.load()]);
      S.settings = values;
      debug = values.debugLogging;
      S.tabs = stored.tabs || {};
      S.pending = stored.pending || [];
      S.eventSeq = stored.eventSeq || 0;
      S.lastCommandAt = stored.lastCommandAt || 0; // a restart must not reset the rate limit
      S.link = stored.link || { state: 'off' };
      S.stream = stored.stream || { state: 'off' };
      S.pops = stored.pops || [];
      for (const [tabId, snap] of Object.entries(stored)) {
        if (!tabId.startsWith('core:')) continue;
        try {
          S.cores.set(Number(tabId.slice(5)), Core.restore(snap));
        } catch (e) {
          log('could not restore a call tracker:', e.message);
        }
      }
    })();
  }
  return S.loaded;
}

function saveTab(tabId) {
  const core = S.cores.get(tabId);
  return chrome.storage.session.set({
    tabs: S.tabs,
    pending: S.pending,
    eventSeq: S.eventSeq,
    lastCommandAt: S.lastCommandAt,
    ...(core ? { [`core:${tabId}`]: core.snapshot() } : {}),
  });
}

// Everything that touches state runs one at a time, in arrival order.
let chain = Promise.resolve();
function serial(fn) {
  const run = chain.then(() => load()).then(fn);
  chain = run.catch(() => {});
  return run;
}

function extensionFor(tab) {
  return S.settings.extensionNumber || (tab && tab.provision && tab.provision.extension) || '';
}

function coreFor(tabId) {
  let core = S.cores.get(tabId);
  if (!core) {
    core = new Core(extensionFor(S.tabs[tabId]), String(tabId), STALE_AFTER_MS);
    S.cores.set(tabId, core);
  }
  return core;
}

// ---- frames from the WebClient tab ---------------------------------------------------
function isRepeat(tab, msg) {
  return tab.pageId === msg.pageId && msg.seq <= tab.seq;
}

async function onWebClient(tabId, msg) {
  const tab = S.tabs[tabId] || (S.tabs[tabId] = { pageId: msg.pageId, seq: 0 });
  if (isRepeat(tab, msg)) return;
  if (tab.pageId !== msg.pageId) Object.assign(tab, { pageId: msg.pageId, seq: 0 });
  tab.seq = msg.seq;
  if (msg.type === 'webclient') {
    tab.provision = sanitizeProvision(msg.provision);
    tab.open = true;
    coreFor(tabId).setExtension(extensionFor(tab));
  } else if (msg.type === 'socketClosed') {
    tab.open = false;
  } else if (msg.type === 'frame') {
    tab.open = true;
    tab.lastFrameAt = msg.ts;
    handleOutput(tabId, () => coreFor(tabId).handleFrame(msg.bytes, msg.ts));
  }
  await saveTab(tabId);
  pushIdentity();
  deliver();
}

function sanitizeProvision(p) {
  const s = (v, max) => (typeof v === 'string' && v.length <= max ? v : '');
  return p && typeof p === 'object'
    ? { extension: /^[0-9]{1,10}$/.test(p.extension) ? p.extension : '', domain: s(p.domain, 253), webclientVersion: s(p.webclientVersion, 64), userName: s(p.userName, 128) }
    : {};
}

// Runs a core call that yields {events, …}; numbers the events for the offscreen document.
function handleOutput(tabId, call) {
  let out;
  try {
    out = call();
  } catch (e) {
    log(`tab ${tabId}: frame rejected: ${e.message}`);
    return;
  }
  for (const note of out.notes || []) log(`tab ${tabId}: ${note}`);
  if (out.extensionDetected) {
    const tab = S.tabs[tabId];
    if (tab) tab.detectedExtension = out.extensionDetected;
    dlog(`tab ${tabId}: PBX reports extension ${out.extensionDetected}`);
  }
  out.events.forEach((json, i) => {
    S.pending.push({ seq: ++S.eventSeq, json });
    log(`tab ${tabId}: ${out.summaries[i]}`);
  });
  for (const c of out.confirmed || []) log(`tab ${tabId}: ${c}`);
  for (const x of out.expired || []) onCommandExpired(tabId, x);
  scheduleTimeout();
}

// ---- the offscreen document: connector link ------------------------------------------
let creating = null;
async function ensureOffscreen() {
  if (await chrome.offscreen.hasDocument()) return;
  if (!creating) {
    creating = chrome.offscreen.createDocument({
      url: OFFSCREEN_URL,
      reasons: ['WORKERS'],
      justification: 'Keeps the WebSocket to the local DATEV connector and the PestRoutes event stream open while the service worker sleeps.',
    }).catch((e) => { if (!String(e.message).includes('single offscreen')) throw e; })
      .finally(() => { creating = null; });
  }
  await creating;
}

async function toOffscreen(msg) {
  await ensureOffscreen();
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const r = await chrome.runtime.sendMessage({ target: 'offscreen', ...msg });
      if (r !== undefined) return r;
    } catch (_) { /* document still loading */ }
    await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
  }
  throw new Error('offscreen document does not answer');
}

let delivering = false;
async function deliver() {
  if (delivering) return;
  delivering = true;
  try {
    while (S.pending.length) {
      const batch = S.pending.slice(0, 200);
      const r = await toOffscreen({ type: 'events', events: batch });
      S.pending = S.pending.filter((e) => e.seq > r.lastSeq);
      await chrome.storage.session.set({ pending: S.pending });
    }
  } catch (e) {
    log('could not hand events to the connector link:', e.message);
  } finally {
    delivering = false;
  }
}

function identity() {
  const tabs = Object.values(S.tabs).filter((t) => t.provision);
  const best = tabs.find((t) => t.open) || tabs[0] || {};
  const p = best.provision || {};
  return {
    extension: S.settings.extensionNumber || p.extension || best.detectedExtension || '',
    domain: p.domain || '',
    webclientVersion: p.webclientVersion || '',
    userName: p.userName || '',
  };
}

let lastIdentity = '';
async function pushIdentity(force) {
  const config = { ...identity(), bridgePort: S.settings.bridgePort, debug };
  const key = JSON.stringify([config, S.settings.serverAddress, S.settings.sharedSecret]);
  if (!force && key === lastIdentity) return;
  lastIdentity = key;
  const { lastGoodPort = 0 } = await chrome.storage.local.get('lastGoodPort');
  try {
    await toOffscreen({ type: 'config', ...config, lastGoodPort });
    await toOffscreen({
      type: 'pestroutesConfig',
      serverAddress: S.settings.serverAddress,
      sharedSecret: S.settings.sharedSecret,
      agent: config.extension,
    });
  } catch (e) {
    lastIdentity = '';
    log('could not configure the connector link:', e.message);
  }
}

// ---- commands from the connector -----------------------------------------------------
function webclientTab() {
  const open = Object.entries(S.tabs).filter(([, t]) => t.open);
  open.sort((a, b) => (b[1].lastFrameAt || 0) - (a[1].lastFrameAt || 0));
  return open.length ? Number(open[0][0]) : null;
}

async function toTab(tabId, msg) {
  try {
    return await chrome.tabs.sendMessage(tabId, msg);
  } catch (e) {
    return { ok: false, why: e.message };
  }
}

async function onCommand(cmd) {
  const now = Date.now();
  if (now - S.lastCommandAt < COMMAND_MIN_GAP_MS) {
    log(`${cmd.kind.toUpperCase()} refused: a second command within ${COMMAND_MIN_GAP_MS} ms`);
    return;
  }
  S.lastCommandAt = now;
  const tabId = webclientTab();
  if (tabId === null) {
    log(`${cmd.kind.toUpperCase()} refused: no 3CX WebClient tab is open`);
    await chrome.storage.session.set({ lastCommandAt: now });
    return;
  }
  const core = coreFor(tabId);
  if (cmd.kind === 'dial') await dial(tabId, core, cmd);
  else if (cmd.kind === 'drop') await dropCall(tabId, core, cmd);
  await saveTab(tabId);
}

async function dial(tabId, core, cmd) {
  let number;
  try {
    number = dialString(cmd.number);
  } catch (e) {
    log(`DIAL ${cmd.masked} refused: ${e.message}`);
    return;
  }
  const method = S.settings.dialMethod;
  if (method === 'tel') return telDial(tabId, number);
  const frame = core.dial(number, Date.now(), DIAL_CONFIRM_MS);
  const r = await toTab(tabId, { type: 'sendFrame', frame });
  if (!r || !r.ok) {
    log(`DIAL ${maskNumber(number)}: RequestMakeCall not sent (${(r && r.why) || 'no answer'})`);
    if (method === 'auto') telDial(tabId, number);
    return;
  }
  log(`DIAL ${maskNumber(number)}: RequestMakeCall sent`);
  scheduleTimeout();
}

async function telDial(tabId, number) {
  const r = await toTab(tabId, { type: 'telDial', number, delay: S.settings.dialDelay });
  log(`DIAL ${maskNumber(number)}: tel: link method ${r && r.ok ? 'started' : 'failed: ' + ((r && r.why) || 'no answer')}`);
}

async function dropCall(tabId, core, cmd) {
  let d;
  try {
    d = core.dropCall(cmd.callId || undefined, Date.now(), DROP_CONFIRM_MS);
  } catch (e) {
    log(`DROP refused: ${e.message}`);
    return;
  }
  const r = await toTab(tabId, { type: 'sendFrame', frame: d.frame });
  log(`DROP call ${d.callId}: RequestDropCall ${r && r.ok ? 'sent' : 'not sent: ' + ((r && r.why) || 'no answer')}`);
  scheduleTimeout();
}

function onCommandExpired(tabId, x) {
  if (x.kind === 'dial') {
    if (S.settings.dialMethod === 'auto') {
      log(`DIAL ${maskNumber(x.number)}: the PBX did not react to RequestMakeCall; falling back to the tel: link`);
      telDial(tabId, x.number);
    } else {
      log(`DIAL ${maskNumber(x.number)}: the PBX did not react to RequestMakeCall`);
    }
  } else {
    log(`DROP call ${x.callId}: the PBX did not end the call`);
  }
}

// Stale calls and command deadlines: a timer while the worker lives, an alarm otherwise.
let timer = null;
function scheduleTimeout() {
  let next = Infinity;
  for (const core of S.cores.values()) next = Math.min(next, core.pollTimeout() ?? Infinity);
  clearTimeout(timer);
  if (next === Infinity) return;
  const delay = Math.max(0, next - Date.now());
  timer = setTimeout(() => serial(onTimeout), delay + 5);
  if (delay > 25000) chrome.alarms.create('timeout', { when: next + 5 });
}

async function onTimeout() {
  const now = Date.now();
  for (const [tabId, core] of S.cores) {
    handleOutput(tabId, () => core.handleTimeout(now));
    await saveTab(tabId);
  }
  deliver();
}

// ---- link status and badge -----------------------------------------------------------
const BADGE = {
  off: ['', '#777'], waiting: ['…', '#777'], searching: ['…', '#b26b00'],
  connecting: ['…', '#b26b00'], connected: ['…', '#b26b00'], ready: ['ON', '#1a7f37'],
};
function showLink(status) {
  S.link = status;
  chrome.storage.session.set({ link: status });
  const [text, color] = BADGE[status.state] || ['!', '#c62828'];
  chrome.action.setBadgeText({ text });
  chrome.action.setBadgeBackgroundColor({ color });
}

// ---- PestRoutes screen-pops ----------------------------------------------------------
let popChain = Promise.resolve();

async function onScreenPop(pop) {
  const term = pop.phone ? maskNumber(pop.phone) : pop.customerId;
  const outcome = await openCustomer(S.settings.pestroutesUrl, pop);
  log(`screen-pop ${term}${pop.customerId && pop.phone ? ` (customer ${pop.customerId})` : ''}: ${outcome}`);
  S.pops = [{ at: Date.now(), term, customerId: pop.customerId, outcome }, ...S.pops].slice(0, POPS_KEPT);
  await chrome.storage.session.set({ pops: S.pops });
}

// ---- popup ---------------------------------------------------------------------------
function popupStatus() {
  const calls = [];
  for (const [tabId, core] of S.cores) {
    for (const json of core.currentCalls(Date.now())) {
      const ev = JSON.parse(json);
      calls.push({ tabId, id: ev.call.id, direction: ev.call.direction, state: ev.call.state, number: ev.call.remoteNumber, name: ev.call.remoteName });
    }
  }
  const tabId = webclientTab();
  return {
    webclient: tabId === null ? null : { tabId, extension: identity().extension },
    link: S.link,
    stream: S.stream,
    screenPops: S.pops,
    pendingEvents: S.pending.length,
    calls,
  };
}

// ---- wiring (top level, so a message can wake the worker) ---------------------------
chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (!msg || typeof msg !== 'object' || sender.id !== chrome.runtime.id) return undefined;
  if (msg.target === 'offscreen') return undefined;
  // Content scripts speak for a web page; extension pages (popup, offscreen) have our URL,
  // even when the popup is opened in a tab.
  const fromPage = !!sender.tab && !String(sender.url).startsWith(chrome.runtime.getURL(''));
  const tabId = fromPage ? sender.tab.id : undefined;
  if (fromPage && ['frame', 'webclient', 'socketClosed'].includes(msg.type)) {
    if (typeof msg.pageId !== 'string' || !Number.isInteger(msg.seq)) return undefined;
    if (msg.type === 'frame' && !(msg.bytes instanceof Uint8Array)) {
      log(`tab ${tabId}: frame that is not bytes ignored`);
      reply({ ok: true });
      return undefined;
    }
    serial(() => onWebClient(tabId, msg)).then(() => reply({ ok: true }), (e) => { log('frame handling failed:', e.message); reply({ ok: false }); });
    return true;
  }
  if (fromPage) return undefined; // content scripts may send nothing else
  if (msg.target === 'background' && msg.type === 'command') {
    serial(() => onCommand(msg.command)).then(() => reply({ ok: true }), (e) => { log('command failed:', e.message); reply({ ok: true }); });
    return true;
  }
  if (msg.target === 'background' && msg.type === 'linkStatus') {
    serial(async () => {
      showLink(msg.status);
      if (msg.status.port && msg.status.state === 'ready') await chrome.storage.local.set({ lastGoodPort: msg.status.port });
      if (msg.status.needConfig) await pushIdentity(true);
      if (msg.status.state === 'ready') deliver();
    }).then(() => reply({ ok: true }));
    return true;
  }
  if (msg.target === 'background' && msg.type === 'streamStatus') {
    serial(async () => {
      S.stream = msg.status;
      await chrome.storage.session.set({ stream: S.stream });
    }).then(() => reply({ ok: true }));
    return true;
  }
  if (msg.target === 'background' && msg.type === 'screenPop') {
    // Answer at once, and keep screen-pops off the call-tracking queue: a PestRoutes tab
    // that takes seconds to load must not delay a CALL_EVENT.
    popChain = popChain.then(() => load()).then(() => onScreenPop(msg.pop)).catch((e) => log('screen-pop failed:', e.message));
    reply({ ok: true });
    return undefined;
  }
  if (msg.type === 'popupStatus') {
    serial(popupStatus).then(reply);
    return true;
  }
  return undefined;
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' && area !== 'managed') return;
  serial(async () => {
    const { values } = await CtiSettings.load();
    S.settings = values;
    debug = values.debugLogging;
    for (const [tabId, core] of S.cores) core.setExtension(extensionFor(S.tabs[tabId]));
    await pushIdentity();
  });
});

// A closed WebClient tab takes its calls with it: end them in DATEV now, since nothing
// more will ever be heard of them.
chrome.tabs.onRemoved.addListener((tabId) => serial(async () => {
  if (!S.tabs[tabId]) return;
  const core = S.cores.get(tabId);
  if (core) handleOutput(tabId, () => core.endAll(Date.now()));
  S.cores.delete(tabId);
  delete S.tabs[tabId];
  await chrome.storage.session.remove(`core:${tabId}`);
  await saveTab(tabId);
  deliver();
}));

chrome.alarms.onAlarm.addListener((a) => { if (a.name === 'timeout') serial(onTimeout); });

// Every start: restore, make sure the link runs, hand over what is pending.
serial(async () => {
  showLink(S.link);
  await pushIdentity(true);
  deliver();
  scheduleTimeout();
});
