// A simulated 3CX PBX on loopback: serves a WebClient-like page that opens
// `/ws/webclient` early (in <head>, as the real PWA does), pushes scripted MyExtensionInfo
// frames, and answers command frames as a PBX would: RequestMakeCall starts an outbound
// call, RequestDropCall deletes the leg. With `honourCommands = false` it ignores command
// frames silently (the PBX quirk the tel: fallback exists for); the page's own dial dialog
// (opened by a tel: link, confirmed with Enter) works, as in the real WebClient, unless
// `honourPageDials = false` (a dialog that opens while the operator's phone starts nothing).
'use strict';
const http = require('node:http');
const https = require('node:https');
const { WebSocketServer } = require('ws');
const proto = require('./proto');

const PAGE = (/** @type {string} */ ext, /** @type {string} */ headScript) => `<!doctype html>
<html><head><meta charset="utf-8"><title>3CX WebClient (simulated)</title>
${headScript ? `<script>${headScript}</script>` : ''}
<script>
  localStorage.setItem('wc.provision', JSON.stringify({ username: ${JSON.stringify(ext)}, domain: 'pbx.test' }));
  localStorage.setItem('wc.version', JSON.stringify('20.0.1000'));
  localStorage.setItem('yourname', 'Erika Operator');
  // Opened while the document is still parsing: a late hook would miss it.
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/webclient?sessionId=SESSION-SECRET&pass=PASS-SECRET');
  ws.binaryType = 'arraybuffer';
  window.__received = 0;
  ws.onmessage = (e) => { if (e.data instanceof ArrayBuffer && e.data.byteLength > 0) window.__received++; };
  // The WebClient's tel: handling: a click on a tel: link opens the dial dialog.
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest && e.target.closest('a[href^="tel:"]');
    if (!a) return;
    e.preventDefault();
    const input = document.createElement('input');
    input.id = 'dial-dialog';
    input.value = decodeURIComponent(a.getAttribute('href').slice(4));
    document.body.appendChild(input);
    input.focus();
    input.addEventListener('keydown', (k) => {
      if (k.key === 'Enter' && document.getElementById('dial-dialog')) {
        ws.send(JSON.stringify({ dial: input.value }));
        input.remove();
      }
    });
  }, true);
</script></head><body><h1>WebClient</h1></body></html>`;

class Pbx {
  /**
   * @param {{extension?: string, tls?: {key: string, cert: string} | null, host?: string, headScript?: string}} [opts]
   * `tls` serves https (with `host` as the origin's name, mapped to 127.0.0.1 by Chromium's
   * --host-resolver-rules); `headScript` runs in the page before the WebClient's script.
   */
  constructor({ extension = '1005', tls = null, host = '127.0.0.1', headScript = '' } = {}) {
    this.extension = extension;
    this.tls = tls;
    this.host = host;
    this.headScript = headScript;
    this.honourCommands = true;
    this.honourPageDials = true;
    /** @type {ReturnType<typeof proto.command>[]} decoded command frames received */
    this.commands = [];
    /** @type {string[]} dials made through the page's own dialog */
    this.pageDials = [];
    /** @type {Set<import('ws').WebSocket>} */
    this.clients = new Set();
    this.nextLeg = 500;
    this.nextCall = 90;
    /** @type {Map<number | undefined, number>} leg id -> call id (for drops) */
    this.legs = new Map();
    /** @type {import('node:http').Server} */
    this.server;
    /** @type {import('ws').WebSocketServer} */
    this.wss;
    this.port = 0;
    this.origin = '';
  }

  async start() {
    /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
    const handler = (req, res) => {
      const url = req.url || '/';
      if (url.startsWith('/webclient')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(PAGE(this.extension, this.headScript));
      } else if (url.startsWith('/other')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>not a WebClient</title><body>plain page</body>');
      } else {
        res.writeHead(404);
        res.end();
      }
    };
    this.server = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, sock, head) => {
      if (!(req.url || '').startsWith('/ws/webclient')) return sock.destroy();
      this.wss.handleUpgrade(req, sock, head, (ws) => this.onClient(ws));
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', () => r(undefined)));
    this.port = /** @type {import('node:net').AddressInfo} */ (this.server.address()).port;
    this.origin = `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
    return this;
  }

  /** @param {import('ws').WebSocket} ws */
  onClient(ws) {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(String(data));
        if (m.dial) {
          this.pageDials.push(m.dial);
          if (this.honourPageDials) this.startOutbound(m.dial);
        }
        return;
      }
      const cmd = proto.command(new Uint8Array(/** @type {Buffer} */ (data)));
      this.commands.push(cmd);
      if (!this.honourCommands) return;
      if (cmd.makeCall) this.startOutbound(cmd.makeCall.destination);
      if (cmd.dropCall && this.legs.has(cmd.dropCall.localConnectionId)) {
        this.send(proto.extensionInfo({ list18: { action: 3, items: [{ action: 4, id: cmd.dropCall.localConnectionId }] } }));
        this.legs.delete(cmd.dropCall.localConnectionId);
      }
    });
  }

  /** @param {string | undefined} number */
  startOutbound(number) {
    const id = this.nextLeg++, callId = this.nextCall++;
    this.legs.set(id, callId);
    this.send(proto.extensionInfo({ list18: { action: 3, items: [{ action: 2, id, callId, state: 2, incoming: false, callerId: number }] } }));
    return { id, callId };
  }

  get connected() { return this.clients.size; }

  /** Sends a frame (Uint8Array) to every WebClient socket. */
  /** @param {Uint8Array} frame */
  send(frame) {
    for (const ws of this.clients) ws.send(frame);
  }

  /** Shorthand: one delta list in field 18. */
  /** @param {proto.Leg[]} items */
  legs18(items) {
    for (const it of items) {
      if (it.action === 4) this.legs.delete(it.id);
      else if (it.callId !== undefined) this.legs.set(it.id, it.callId);
    }
    this.send(proto.extensionInfo({ list18: { action: 3, items } }));
  }

  /** Deletes every leg the PBX knows of. */
  hangUpAll() {
    const items = [...this.legs.keys()].map((id) => ({ action: 4, id }));
    if (items.length) this.legs18(items);
  }

  async stop() {
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

module.exports = { Pbx };
