// A simulated 3CX–DATEV connector (spec/connector-v1.md) on loopback: answers the `OK`
// probe, serves one WebSocket client at a time, requires HELLO first and answers
// HELLO_ACK with its port, keeps per-call state (drops an event whose state equals the
// last one, drops `ended` for a call it never saw) and forgets it all on close. It records
// every message it receives, in order.
//
// `ackExtension` makes it a squatter: it acknowledges HELLO for that extension instead of
// the one in the HELLO (another user's connector, or a process posing as one), and
// `beforeAck` / `afterAck` messages are sent right before / behind the HELLO_ACK (e.g. a
// DIAL).
'use strict';
const http = require('node:http');
const { WebSocketServer } = require('ws');

class Connector {
  /**
   * @param {{port: number, ackHello?: boolean, ackExtension?: string, beforeAck?: Array<object | string>, afterAck?: Array<object | string>}} opts
   *   (a string in beforeAck / afterAck is sent as it is, not as JSON)
   */
  constructor({ port, ackHello = true, ackExtension, beforeAck = [], afterAck = [] }) {
    this.port = port;
    this.ackHello = ackHello;
    this.ackExtension = ackExtension;
    this.beforeAck = beforeAck;
    this.afterAck = afterAck;
    /** @type {any[]} every JSON message, in order, across sessions */
    this.received = [];
    /**
     * Called with each JSON message and `performance.now()` taken as it arrived, before it
     * was parsed (the benchmark's clock). @type {((m: any, at: number) => void) | null}
     */
    this.onMessage = null;
    /** @type {any[]} CALL_EVENTs it would pass on to DATEV */
    this.accepted = [];
    /** @type {string[]} what the real connector would log */
    this.log = [];
    this.sessions = 0;
    this.probes = 0;
    /** @type {import('ws').WebSocket | null} */
    this.client = null;
    /** Each client's TCP connection (for `closeAndHold`). @type {WeakMap<import('ws').WebSocket, import('node:stream').Duplex>} */
    this.tcp = new WeakMap();
    /** Connections `closeAndHold` keeps open. @type {Set<import('node:stream').Duplex>} */
    this.held = new Set();
    /** @type {import('node:http').Server} */
    this.server;
    /** @type {import('ws').WebSocketServer} */
    this.wss;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      this.probes++;
      res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('OK');
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    this.server.on('upgrade', (req, sock, head) => {
      if (this.client) { this.log.push('second client refused'); sock.destroy(); return; }
      this.wss.handleUpgrade(req, sock, head, (ws) => { this.tcp.set(ws, sock); this.onClient(ws); });
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve(undefined));
    });
    return this;
  }

  /** @param {import('ws').WebSocket} ws */
  onClient(ws) {
    this.client = ws;
    this.sessions++;
    let hello = false;
    /** @type {Map<string, string>} */
    const state = new Map();
    ws.on('message', (data) => {
      const at = performance.now();
      /** @type {any} */
      let m;
      try { m = JSON.parse(String(data)); } catch (_) { this.log.push('not JSON'); return; }
      this.received.push(m);
      if (this.onMessage) this.onMessage(m, at);
      const type = String(m.type || '').toUpperCase();
      if (type === 'HELLO') {
        hello = true;
        if (!this.ackHello) return;
        const put = (/** @type {object | string} */ msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
        this.beforeAck.forEach(put);
        const extension = this.ackExtension === undefined ? m.extension : this.ackExtension;
        ws.send(JSON.stringify({ v: 1, type: 'HELLO_ACK', bridgeVersion: 'sim-1.0', extension, port: this.port, ready: true }));
        this.afterAck.forEach(put);
        return;
      }
      if (type !== 'CALL_EVENT') { this.log.push(`unknown type ${m.type}`); return; }
      if (!hello) { this.log.push('CALL_EVENT before HELLO'); return; }
      const id = String(m.call.id), st = String(m.call.state).toLowerCase();
      if (state.get(id) === st) { this.log.push(`duplicate ${st} for ${id}`); return; }
      if (st === 'ended' && !state.has(id)) { this.log.push(`ended for unknown call ${id}`); return; }
      state.set(id, st);
      this.accepted.push(m);
    });
    ws.on('close', () => { if (this.client === ws) this.client = null; });
  }

  /** CALL_EVENTs received, as "id state direction number" strings. @param {any[]} [list] @returns {string[]} */
  events(list = this.received) {
    return list.filter((m) => m.type === 'CALL_EVENT').map((m) => `${m.call.id} ${m.call.state} ${m.call.direction} ${m.call.remoteNumber}`);
  }

  hellos() { return this.received.filter((m) => m.type === 'HELLO'); }

  /** @param {object | string} obj */
  send(obj) {
    if (!this.client) throw new Error('no client');
    this.client.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /**
   * Starts the closing handshake (a Close frame, code 1000) and keeps the TCP connection
   * open for `ms` without reading from it, then cuts it. Until then the extension's socket
   * is CLOSING and its close event has not fired: the moment a connector that shuts down
   * leaves between its Close and the end of the connection, widened so a test can hit it.
   * A new client is served meanwhile. @param {number} ms
   */
  closeAndHold(ms) {
    const ws = this.client;
    const sock = ws && this.tcp.get(ws);
    if (!ws || !sock) throw new Error('no client');
    this.client = null;
    sock.pause();
    sock.write(Buffer.from([0x88, 0x02, 0x03, 0xe8])); // FIN + Close, 2 bytes: 1000
    this.held.add(sock);
    setTimeout(() => { this.held.delete(sock); sock.destroy(); }, ms).unref();
  }

  async stop() {
    for (const sock of this.held) sock.destroy();
    this.held.clear();
    if (this.client) this.client.terminate();
    this.client = null;
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

module.exports = { Connector };
