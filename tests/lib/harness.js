// Real Chromium (Debian's) with the real unpacked extension from dist/, driven by
// Playwright. Every server in the tests binds to 127.0.0.1 and is stopped by the test.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { WebSocket } = require('ws');
const { unpackedId } = require('./policy');

const DIST = path.resolve(__dirname, '..', '..', 'dist');

/** @typedef {Awaited<ReturnType<typeof launch>>} Harness */

/**
 * @param {{args?: string[], lang?: string, extensions?: string[], ext?: string}} [opts] extra
 *   Chromium arguments; the browser's UI language (chrome.i18n follows it); other unpacked
 *   extensions to load beside ours (hostile neighbours); the extension to drive instead of
 *   dist/ (the benchmark's bare relay, tests/bench/floor)
 */
async function launch({ args = [], lang, extensions = [], ext = DIST } = {}) {
  if (!fs.existsSync(path.join(ext, 'manifest.json'))) throw new Error(`${ext}/manifest.json is missing${ext === DIST ? ': run ./build.sh' : ''}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', `--disable-extensions-except=${[ext, ...extensions].join(',')}`,
      `--load-extension=${[ext, ...extensions].join(',')}`,
      '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      // For docConsole(): Playwright does not show the offscreen document. 0: a free port,
      // on 127.0.0.1 (Chromium's default), written to DevToolsActivePort.
      '--remote-debugging-port=0',
      ...(lang ? [`--lang=${lang}`] : []),
      ...args,
    ],
    // On Linux Chromium takes its UI language from the environment; --lang alone is not enough.
    ...(lang ? { env: { ...process.env, LANGUAGE: lang, LANG: `${lang}.UTF-8` } } : {}),
  });
  // CTI_DEBUG=1 prints every console line of the extension's contexts (worker, offscreen).
  if (process.env.CTI_DEBUG) context.on('console', (m) => console.log(`[console ${Date.now() % 100000}] ${m.text()}`));
  // Ours, not a neighbour's: Chrome names an unpacked extension after its manifest's key
  // (dist/ has one since build.sh writes it), or after its path when it has none.
  const extensionId = unpackedId(ext);
  const ours = (/** @type {import('playwright-core').Worker} */ w) => new URL(w.url()).host === extensionId;
  if (!context.serviceWorkers().some(ours)) await context.waitForEvent('serviceworker', { predicate: ours, timeout: 10000 });
  /** @type {string[]} */
  const logs = [];
  /** A DevTools connection of its own to the offscreen document (docConsole, docEval). */
  async function docDevTools() {
    const port = fs.readFileSync(path.join(dir, 'DevToolsActivePort'), 'utf8').split('\n')[0];
    const url = `chrome-extension://${extensionId}/offscreen.html`;
    const doc = await waitFor(async () => {
      const list = /** @type {Array<{url: string, webSocketDebuggerUrl: string}>} */ (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json());
      return list.find((t) => t.url === url);
    }, 5000, 'the offscreen document');
    const ws = new WebSocket(doc.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return ws;
  }
  const h = {
    context, extensionId, logs,
    /** The current service worker (a new one after a restart). */
    async worker() {
      for (let i = 0; i < 100; i++) {
        const w = context.serviceWorkers().find((x) => x.url().startsWith(`chrome-extension://${extensionId}/`));
        if (w) return w;
        await sleep(50);
      }
      throw new Error('no service worker');
    },
    /** @param {Record<string, unknown>} values */
    async settings(values) {
      const w = await h.worker();
      await w.evaluate((v) => chrome.storage.local.set(v), values);
    },
    /** The status the worker publishes for the popup (storage.session `status`). @returns {Promise<any>} */
    async status() {
      const w = await h.worker();
      return (await w.evaluate(() => chrome.storage.session.get('status'))).status;
    },
    /**
     * Stops the extension's service worker through CDP, as Chrome does when idle. A worker
     * stopped with work under way (the offscreen document's store or status not yet
     * taken) is started again at once for it, as after any stop; Chrome would not have
     * stopped it then, so it is stopped again once it has done that work.
     */
    async stopWorker() {
      for (let attempt = 1; ; attempt++) {
        await closeTarget(context, (t) => isOurWorker(t, extensionId), 'service worker');
        const stopped = await waitFor(async () => !(await workerTargets(context, extensionId)), 2000, 'worker stopped')
          .then(() => sleep(300)).then(async () => !(await workerTargets(context, extensionId)), () => false);
        if (stopped) return;
        if (attempt === 5) throw new Error('the worker keeps starting again after a stop');
        await waitFor(() => workerTargets(context, extensionId), 2000, 'the worker started again').catch(() => {});
        await sleep(300); // the work it was started for
      }
    },
    async workerRunning() { return workerTargets(context, extensionId); },
    /**
     * Leaves the extension as a browser start or a crash does: the worker stopped, the
     * offscreen document closed, both checked through CDP (the document, when its worker
     * stops, may start it again to hand over what it had for it: that is waited out).
     * Whatever asks the core next finds nobody there. Close the WebClient pages first:
     * their content scripts ask for a new document at once.
     */
    async stopWorkerAndDocument() {
      await h.stopWorker();
      await sleep(500);
      if (await workerTargets(context, extensionId)) await h.stopWorker();
      await h.closeOffscreen();
      await sleep(300);
      if (await workerTargets(context, extensionId)) throw new Error('the worker started again');
      if (await hasTarget(context, isOurDocument(extensionId))) throw new Error('the offscreen document is open again');
    },
    /** Closes the extension's offscreen document through CDP, as a crash would. */
    async closeOffscreen() {
      await closeTarget(context, isOurDocument(extensionId), 'offscreen document');
    },
    /**
     * Opens the simulated PBX's WebClient. Each test's PBX listens on a new port, so a new
     * origin: unless told otherwise, it is configured as the trusted WebClient origin (as an
     * administrator would), instead of relying on the first origin pinned.
     */
    /** @param {{origin: string, connected: number}} pbx @param {{trust?: boolean, hash?: string}} [opts] `hash`: appended to the page's address (the bench floor's "#direct") */
    async openWebClient(pbx, { trust = true, hash = '' } = {}) {
      if (trust) {
        await h.settings({ webclientOrigins: [pbx.origin] });
        // The worker applies settings asynchronously: wait until its status shows them.
        const w = await h.worker();
        await waitFor(async () => {
          const { status } = await w.evaluate(() => chrome.storage.session.get('status'));
          return status && /** @type {any} */ (status).trust.configured.includes(pbx.origin);
        }, 15000, 'trusted origin applied'); // right after launch the policy store answers slowly
      }
      const page = await context.newPage();
      page.on('console', (m) => logs.push(`page: ${m.text()}`));
      await page.goto(`${pbx.origin}/webclient/${hash}`);
      await waitFor(() => pbx.connected > 0, 5000, 'WebClient socket');
      return page;
    },
    /**
     * Calls `onLine` with each line the offscreen document writes to its console from now
     * on (args joined by spaces, as Playwright's `text()`), over a DevTools connection of
     * its own. Returns a function that stops listening.
     * @param {(line: string) => void} onLine
     */
    async docConsole(onLine) {
      const ws = await docDevTools();
      // Runtime.enable reports earlier lines too: only those after this call count.
      const since = Date.now();
      ws.on('message', (data) => {
        const m = JSON.parse(String(data));
        if (m.method !== 'Runtime.consoleAPICalled' || m.params.timestamp < since) return;
        onLine(m.params.args.map((/** @type {{value?: unknown, description?: string}} */ a) => (a.value !== undefined ? String(a.value) : a.description)).join(' '));
      });
      ws.send(JSON.stringify({ id: 1, method: 'Runtime.enable' }));
      return () => ws.close();
    },
    /**
     * Evaluates `expression` in the offscreen document (awaited; the value as JSON).
     * @param {string} expression @returns {Promise<any>}
     */
    async docEval(expression) {
      const ws = await docDevTools();
      try {
        const reply = new Promise((resolve) => ws.on('message', (data) => {
          const m = JSON.parse(String(data));
          if (m.id === 1) resolve(m);
        }));
        ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }));
        const m = /** @type {any} */ (await reply);
        if (m.error || m.result.exceptionDetails) throw new Error(`docEval: ${JSON.stringify(m.error || m.result.exceptionDetails)}`);
        return m.result.result.value;
      } finally {
        ws.close();
      }
    },
    async popup() {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/popup.html`);
      return page;
    },
    async options() {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/options.html`);
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** @typedef {{targetId: string, type: string, url: string}} TargetInfo */

/**
 * Runs `fn` on a CDP session of the browser's first page (Target.* sees every target).
 * @template T
 * @param {import('playwright-core').BrowserContext} context
 * @param {(cdp: import('playwright-core').CDPSession) => Promise<T>} fn
 */
async function withCdp(context, fn) {
  const page = context.pages()[0] || (await context.newPage());
  const cdp = await context.newCDPSession(page);
  try {
    return await fn(cdp);
  } finally {
    await cdp.detach();
  }
}

/** @param {TargetInfo} t @param {string} extensionId */
const isOurWorker = (t, extensionId) => t.type === 'service_worker' && t.url.startsWith(`chrome-extension://${extensionId}/`);

/** @param {string} extensionId @returns {(t: TargetInfo) => boolean} */
const isOurDocument = (extensionId) => (t) => t.url === `chrome-extension://${extensionId}/offscreen.html`;

/** @param {import('playwright-core').BrowserContext} context @param {(t: TargetInfo) => boolean} match */
async function hasTarget(context, match) {
  const { targetInfos } = await withCdp(context, (cdp) => cdp.send('Target.getTargets'));
  return targetInfos.some(match);
}

/** @param {import('playwright-core').BrowserContext} context @param {string} extensionId */
const workerTargets = (context, extensionId) => hasTarget(context, (t) => isOurWorker(t, extensionId));

/**
 * Closes the first target that `match` picks, as a crash or Chrome's idle stop would.
 * @param {import('playwright-core').BrowserContext} context
 * @param {(t: TargetInfo) => boolean} match @param {string} what
 */
async function closeTarget(context, match, what) {
  await withCdp(context, async (cdp) => {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const target = targetInfos.find(match);
    if (!target) throw new Error(`${what} target not found`);
    await cdp.send('Target.closeTarget', { targetId: target.targetId });
  });
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns something truthy (and returns that), or throws after `timeout` ms.
 * @template T
 * @param {() => T | Promise<T>} fn @param {number} [timeout] @param {string} [what]
 * @returns {Promise<NonNullable<T>>}
 */
async function waitFor(fn, timeout = 5000, what = 'condition') {
  const end = Date.now() + timeout;
  /** @type {unknown} */
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      last = v;
      if (v) return /** @type {NonNullable<T>} */ (v);
    } catch (e) { last = e; }
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

module.exports = { launch, waitFor, sleep, DIST };
