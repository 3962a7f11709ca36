// A simulated PestRoutes middleware (spec/pestroutes-sse.md, the Pode/PowerShell server)
// on loopback. It writes what Pode writes: the SSE headers (with X-Pode-Sse-*), a lone
// `retry:` line, `pode.open`, the middleware's `connected`, then `openCustomer` per
// /notify, every line ending in CRLF; `pode.close` on shutdown; 400 without agent and 403
// on a wrong secret. An event for an agent with no open stream is dropped, as Pode does.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');

const line = (/** @type {string} */ s) => `${s}\r\n`;
const stamp = () => new Date().toISOString().replace('T', ' ').slice(0, 19);

/** @typedef {import('node:http').ServerResponse} Response */
/** @typedef {{res: Response, agent: string, clientId: string}} Stream */

class Middleware {
  /** @param {{secret?: string, port?: number, retryMs?: number}} [opts] */
  constructor({ secret = 'S3CRET', port = 0, retryMs = 1500 } = {}) {
    this.secret = secret;
    this.port = port;
    this.retryMs = retryMs;
    /** @type {Set<Stream>} */
    this.streams = new Set();
    this.sseRequests = 0;
    /** @type {object[]} notifies for agents without a stream */
    this.dropped = [];
    /** @type {object[]} */
    this.delivered = [];
    /**
     * A hostile or broken server for the abuse tests: `closeAtOnce` sends `retry: 0` and
     * ends every stream right after opening it; `hugeData` starts an event whose `data`
     * line is `hugeBytes` long before it ends.
     * @type {null | 'closeAtOnce' | 'hugeData'}
     */
    this.hostile = null;
    this.hugeBytes = 50 * 1000 * 1000;
    /** @type {Promise<void> | null} resolves when the huge line has been written */
    this.hugeDone = null;
    /** @type {null | (() => Promise<void>)} awaited halfway through the huge line */
    this.atHalf = null;
    /** @type {import('node:http').Server} */
    this.server;
  }

  async start() {
    this.server = http.createServer((req, res) => this.route(req, res));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve(undefined));
    });
    this.port = /** @type {import('node:net').AddressInfo} */ (this.server.address()).port;
    return this;
  }

  /** @param {import('node:http').IncomingMessage} req @param {Response} res */
  route(req, res) {
    const url = new URL(req.url || '/', 'http://x');
    const q = (/** @type {string} */ k) => url.searchParams.get(k) || '';
    if (url.pathname === '/sse') {
      this.sseRequests++;
      if (!q('agent')) { res.writeHead(400, { 'Content-Type': 'text/plain' }); return res.end('Missing agent parameter'); }
      if (q('secret') !== this.secret) { res.writeHead(403, { 'Content-Type': 'text/plain' }); return res.end('Forbidden'); }
      if (!String(req.headers.accept || '').includes('text/event-stream')) {
        // Pode makes a stream only for Accept: text/event-stream; otherwise a plain reply.
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('SSE endpoint');
      }
      const clientId = crypto.randomUUID();
      const agent = q('agent');
      res.writeHead(200, {
        'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive',
        'X-Pode-Sse-Name': 'Operators', 'X-Pode-Sse-Group': agent, 'X-Pode-Sse-Client-Id': clientId,
      });
      if (this.hostile === 'closeAtOnce') {
        res.write(line('retry: 0'));
        this.write(res, 'pode.open', { clientId, group: agent, name: 'Operators' });
        return res.end();
      }
      res.write(line(`retry: ${this.retryMs}`));
      this.write(res, 'pode.open', { clientId, group: agent, name: 'Operators' });
      if (this.hostile === 'hugeData') this.hugeDone = this.huge(res);
      this.write(res, 'connected', { status: 'connected', agent, clientId, timestamp: stamp() });
      const s = { res, agent, clientId };
      this.streams.add(s);
      req.on('close', () => this.streams.delete(s));
      return undefined;
    }
    if (url.pathname === '/notify') {
      const customerID = q('customerID'), phone = q('phone'), agent = q('agent');
      if (!customerID && !phone) { res.writeHead(400); return res.end('customerID or phone required'); }
      const n = this.push(agent, 'openCustomer', { type: 'openCustomer', customerID, phone, agent, timestamp: stamp() });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ status: 'ok', delivered: n }));
    }
    if (url.pathname === '/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ status: 'ok', streams: this.streams.size }));
    }
    res.writeHead(404);
    return res.end();
  }

  /** @param {Response} res @param {string} event @param {unknown} data */
  write(res, event, data) {
    res.write(line(`event: ${event}`) + line(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}`) + line(''));
  }

  /** Writes one `data` line of `hugeBytes`, in 1 MB pieces as the socket takes them.
   * @param {Response} res */
  async huge(res) {
    const piece = 'A'.repeat(1000 * 1000);
    res.write(line('event: openCustomer') + 'data: ');
    for (let sent = 0; sent < this.hugeBytes && !res.destroyed; sent += piece.length) {
      if (!res.write(piece)) {
        // Whichever comes first; the other listener goes too (50 pieces would leave 50).
        await new Promise((r) => {
          const done = () => { res.off('drain', done); res.off('close', done); r(undefined); };
          res.once('drain', done);
          res.once('close', done);
        });
      }
      if (sent === piece.length * Math.floor(this.hugeBytes / piece.length / 2) && this.atHalf) await this.atHalf();
    }
    res.write(line('') + line(''));
  }

  /** @param {string} agent */
  agentStreams(agent) { return [...this.streams].filter((s) => s.agent === agent).length; }

  /** @param {string} agent @param {string} event @param {unknown} data */
  push(agent, event, data) {
    const targets = [...this.streams].filter((s) => s.agent === agent);
    if (!targets.length) this.dropped.push({ agent, event, data });
    for (const s of targets) this.write(s.res, event, data);
    if (targets.length) this.delivered.push({ agent, event, data });
    return targets.length;
  }

  /** Raw bytes down every stream of `agent` (malformed events). */
  /** @param {string} agent @param {string} text */
  raw(agent, text) {
    for (const s of this.streams) if (s.agent === agent) s.res.write(text);
  }

  /** /notify as 3CX calls it. */
  /** @param {Record<string, string>} params @returns {Promise<any>} */
  async notify(params) {
    const r = await fetch(`http://127.0.0.1:${this.port}/notify?${new URLSearchParams(params)}`);
    return r.json();
  }

  async stop() {
    for (const s of this.streams) { this.write(s.res, 'pode.close', ''); s.res.end(); }
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

module.exports = { Middleware };
