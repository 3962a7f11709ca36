// The floor's service worker: hands each frame's bytes to the offscreen document on a
// MessageChannel (Client.postMessage), as dist/'s worker sent a CALL_EVENT while the core
// was in the worker (before the call path moved to the offscreen document; the floor's
// direct route is today's path).
// A new worker attaches to the document while the page's port connects; frames that
// arrive before that wait in order.
(() => {
  'use strict';
  const sw = /** @type {any} */ (self);
  /** @type {MessagePort | null} */
  let channel = null;
  /** @type {Uint8Array[]} */
  const waiting = [];

  async function attach() {
    /** @param {any[]} list */
    const offscreen = (list) => list.find((c) => c.url.endsWith('/offscreen.html'));
    let client = offscreen(await sw.clients.matchAll({ type: 'window', includeUncontrolled: true }));
    if (!client) {
      await chrome.offscreen.createDocument({
        url: 'offscreen.html', reasons: [chrome.offscreen.Reason.WORKERS], justification: 'benchmark floor',
      }).catch(() => {});
      client = offscreen(await sw.clients.matchAll({ type: 'window', includeUncontrolled: true }));
    }
    if (!client) throw new Error('no offscreen document');
    const ch = new MessageChannel();
    client.postMessage('attach', [ch.port2]);
    channel = ch.port1;
    for (const b of waiting.splice(0)) channel.postMessage(b);
  }

  chrome.runtime.onConnect.addListener((port) => {
    // A direct port is the offscreen document's (floor/offscreen.js); left alone here, as
    // disconnecting it would close it for the document too.
    if (port.name !== 'floor') return;
    port.onMessage.addListener((/** @type {{bytes: Uint8Array}} */ m) => {
      if (channel) channel.postMessage(m.bytes);
      else waiting.push(m.bytes);
    });
  });
  attach().catch((e) => console.error('floor: attach failed', e));
})();
