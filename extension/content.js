// Content script (isolated world) on candidate pages. Decides whether this is a 3CX
// WebClient page, and if so relays the hook's frames to the service worker (as bytes, in
// order, retried until the worker has stored their effect) and the worker's commands to
// the hook.
(() => {
  'use strict';
  const channel = new MessageChannel();
  const hook = channel.port1;
  // Hand the hook its private port (see hook.js for why no page script can take it).
  window.postMessage({ __ctiBridgePort: true }, location.origin, [channel.port2]);

  const pageId = crypto.randomUUID();
  let seq = 0;
  let active = false;
  const queue = [];          // messages for the service worker, in order
  let pumping = false;
  const waiting = new Map(); // command id -> resolve, for the hook's 'sent' answers

  function provision() {
    const read = (k) => { try { return JSON.parse(localStorage.getItem(k)); } catch (_) { return null; } };
    const p = read('wc.provision') || {};
    const version = read('wc.version');
    const name = localStorage.getItem('yourname');
    return {
      extension: typeof p.username === 'string' || typeof p.username === 'number' ? String(p.username) : '',
      domain: typeof p.domain === 'string' ? p.domain : '',
      webclientVersion: typeof version === 'string' ? version : '',
      userName: typeof name === 'string' ? name : '',
    };
  }

  function hasProvision() {
    try { return localStorage.getItem('wc.provision') !== null; } catch (_) { return false; }
  }

  async function isWebClientPage() {
    if (location.pathname.startsWith('/webclient') || hasProvision()) return true;
    try {
      const { values } = await CtiSettings.load();
      return values.webclientOrigins.includes(location.origin);
    } catch (_) {
      return false;
    }
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // Sends queued messages one at a time; a worker that is starting or was stopped
  // mid-message gets the same message again (it recognises repeats by pageId/seq).
  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length) {
        let delivered = false;
        for (let attempt = 0; attempt < 40 && !delivered; attempt++) {
          try {
            const r = await chrome.runtime.sendMessage(queue[0]);
            delivered = !!(r && r.ok);
          } catch (_) {
            // Worker restarting, or the extension was reloaded.
          }
          if (!delivered) await sleep(Math.min(100 * (attempt + 1), 1000));
        }
        if (!delivered) console.warn('[3CX Bridge] service worker unreachable; a WebClient frame was not delivered');
        queue.shift();
      }
    } finally {
      pumping = false;
    }
  }

  function toWorker(msg) {
    queue.push(msg);
    pump();
  }

  function announce() {
    toWorker({ type: 'webclient', pageId, seq: ++seq, provision: provision() });
  }

  hook.onmessage = (ev) => {
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.t === 'frame' && m.buf instanceof ArrayBuffer) {
      toWorker({ type: 'frame', pageId, seq: ++seq, ts: m.ts, bytes: new Uint8Array(m.buf) });
    } else if (m.t === 'open') {
      announce();
    } else if (m.t === 'close') {
      toWorker({ type: 'socketClosed', pageId, seq: ++seq });
    } else if (m.t === 'sent' && waiting.has(m.id)) {
      waiting.get(m.id)(m);
      waiting.delete(m.id);
    }
  };

  let nextCommand = 1;
  function toHook(msg) {
    return new Promise((resolve) => {
      const id = nextCommand++;
      waiting.set(id, resolve);
      hook.postMessage({ ...msg, id });
      setTimeout(() => { if (waiting.delete(id)) resolve({ ok: false, why: 'page hook did not answer' }); }, 2000);
    });
  }

  chrome.runtime.onMessage.addListener((msg, sender, reply) => {
    if (sender.id !== chrome.runtime.id || !active || !msg || typeof msg !== 'object') return;
    if (msg.type === 'sendFrame' && msg.frame instanceof Uint8Array) {
      toHook({ t: 'send', frame: msg.frame }).then(reply);
      return true;
    }
    if (msg.type === 'telDial' && typeof msg.number === 'string') {
      toHook({ t: 'tel', number: msg.number, delay: msg.delay }).then(reply);
      return true;
    }
    return undefined;
  });

  (async () => {
    if (!(await isWebClientPage())) {
      // The WebClient may write its provisioning after login: look once more later.
      await sleep(3000);
      if (!(await isWebClientPage())) return;
    }
    active = true;
    hook.postMessage({ t: 'activate' });
    announce();
  })();
})();
