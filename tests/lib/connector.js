// A simulated 3CX–DATEV connector on loopback, modelled on the real connector's C# source
// (mjv88/MyCXFAVEVClient, folder 3CXDatevConnector/, commit 1f0e1ea; each quirk below names
// the file and method that shows it). Two layers, as there:
//
// - the socket layer (Webclient/WebSocketBridgeServer.cs, Webclient/WebclientConnectionMethod.cs):
//   a raw TCP listener that serves one connection at a time (others wait unanswered in the
//   backlog), answers a plain GET/HEAD with `OK`, speaks just enough WebSocket, keeps per
//   call id the last state and an active-call map with numeric ids, and forgets both
//   when the socket ends;
// - the DATEV layer (tests/lib/datev.js: Core/CallEventProcessor.cs, Core/CallTracker.cs,
//   Core/DatevCommandHandler.cs), which keeps its calls across sockets, and records what
//   DATEV is told: `conn.datev`.
//
// Around them the start-up order of Core/ConnectorService.cs and
// Core/ConnectionMethodSelector.cs: explicit WebClient mode (`mode: 'webclient'`, the
// simulator's default, so tests see a connector that listens at once) or Auto mode (the
// real connector's default) with its detection windows and the events it drops until
// DATEV's contacts are loaded.
//
// What tests read: `received` (every JSON message, in order, across sessions), `events()`,
// `hellos()`, `accepted` (CALL_EVENTs handed to the DATEV layer), `log` (what the connector
// dropped or refused, at either layer; routine lines go to `trace`), `commands` (COMMAND
// texts it wrote), `sessions`, `probes`, `connections`, `client`, `phase`, `wired`, `port`,
// and `datev` (what DATEV ends up with: calls, listed(), popups, journal…). A call
// announced again after a reconnect leaves `log` empty (the connector sees nothing wrong):
// its duplicate shows in `datev.calls`. What tests do: start(), stop(), restart() (a
// process restart), datevDial(), datevDrop(), cleanup(), send(), closeAndHold().
//
// Not real connector behaviour, kept for tests: `ackHello: false` (never acknowledges),
// `beforeAck` / `afterAck` (messages written right before / behind the HELLO_ACK; the
// real connector can let a DIAL pass before its ACK, as `beforeAck` does), `send()` (any
// text from the test) and `closeAndHold()` (the real connector sends a Close frame only
// in answer to one).
'use strict';
const net = require('node:net');
const crypto = require('node:crypto');
const { Datev, normalize } = require('./datev');

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_FRAME = 1024 * 1024;      // WebSocketBridgeServer.MaxFrameSize
const HEADER_BUFFER = 4096;         // WebSocketBridgeServer.PerformHandshakeAsync's buffer
const PAUSE_MS = 500;               // WebSocketBridgeServer.RunAsync, after each WebSocket client
const RELISTEN_MS = 1000;           // WebclientConnectionMethod.StartWebSocketAsync, after the detected session
const RETRY_BIND_MS = 1000;         // StartWebSocketAsync's loop when RunAsync throws (no free port)
const PROBE_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK';

/**
 * BridgeMessageBuilder.EscapeJson (Webclient/Protocol.cs): only backslash, quote, \n, \r
 * and \t are escaped; other control characters go out raw (then not valid JSON); null or
 * empty becomes "".
 * @param {string | null | undefined} s
 */
function escapeJson(s) {
  if (!s) return '';
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/** BridgeMessageBuilder.BuildHelloAck: `ready` is the literal `true`, always. @param {string} version @param {string} extension @param {number} port */
function buildHelloAck(version, extension, port) {
  return `{"v":1,"type":"HELLO_ACK","bridgeVersion":"${escapeJson(version)}","extension":"${escapeJson(extension)}","port":${port},"ready":true}`;
}

/**
 * BridgeMessageBuilder.BuildDialCommand. The connector itself never passes a sync id:
 * WebclientConnectionMethod.MakeCall calls SendDial(destination) only.
 * @param {string} number @param {string | null} [syncId]
 */
function buildDial(number, syncId) {
  const ctx = syncId ? `,"context":{"syncId":"${escapeJson(syncId)}"}` : '';
  return `{"v":1,"type":"COMMAND","cmd":"DIAL","number":"${escapeJson(number)}"${ctx}}`;
}

/** BridgeMessageBuilder.BuildDropCommand: no `callId` key when there is none. @param {string | null} callId */
function buildDrop(callId) {
  return `{"v":1,"type":"COMMAND","cmd":"DROP"${callId ? `,"callId":"${escapeJson(callId)}"` : ''}}`;
}

/**
 * SimpleJsonParser.Parse (Webclient/Protocol.cs), modelled: a lenient reader that
 * flattens nested objects into dotted keys (matched case-insensitively: lower-cased here),
 * keeps numbers and booleans as their literal text, skips arrays, drops `null`, and keeps
 * what it read before anything it cannot read (so text that is not JSON gives no keys).
 * @param {string} text @returns {Map<string, string>}
 */
function flatParse(text) {
  /** @type {Map<string, string>} */
  const dict = new Map();
  let pos = 0;
  const white = () => { while (pos < text.length && /\s/.test(text[pos])) pos++; };
  const str = () => {
    if (text[pos] !== '"') return null;
    pos++;
    let out = '';
    while (pos < text.length) {
      const c = text[pos];
      if (c === '\\' && pos + 1 < text.length) {
        const e = text[++pos];
        if (e === 'n') out += '\n';
        else if (e === 'r') out += '\r';
        else if (e === 't') out += '\t';
        else if (e === 'u') {
          const hex = pos + 4 < text.length ? text.slice(pos + 1, pos + 5) : '';
          if (/^\s*[0-9a-f]+\s*$/i.test(hex)) { out += String.fromCharCode(parseInt(hex.trim(), 16)); pos += 4; } else out += 'u';
        } else out += e; // also " \ /
        pos++;
      } else if (c === '"') { pos++; return out; } else { out += c; pos++; }
    }
    return out;
  };
  const skipArray = () => {
    let depth = 1;
    pos++;
    while (pos < text.length && depth > 0) {
      if (text[pos] === '[') depth++;
      else if (text[pos] === ']') depth--;
      else if (text[pos] === '"') { str(); continue; }
      pos++;
    }
  };
  /** @param {string} prefix */
  const obj = (prefix) => {
    white();
    if (text[pos] !== '{') return;
    pos++;
    while (pos < text.length) {
      white();
      if (pos >= text.length || text[pos] === '}') { pos++; return; }
      if (text[pos] === ',') { pos++; continue; }
      const key = str();
      if (key === null) return;
      white();
      if (text[pos] !== ':') return;
      pos++;
      white();
      const full = prefix ? `${prefix}.${key}` : key;
      if (text[pos] === '{') obj(full);
      else if (text[pos] === '[') skipArray();
      else if (text[pos] === '"') { const v = str(); if (v !== null) dict.set(full.toLowerCase(), v); } else {
        const start = pos;
        while (pos < text.length && !/[,}\]\s]/.test(text[pos])) pos++;
        const v = text.slice(start, pos).trim();
        if (v !== 'null') dict.set(full.toLowerCase(), v);
      }
    }
  };
  obj('');
  return dict;
}

/**
 * ExtensionMessage.Parse: the fields the connector reads. `ts` is read there but used
 * nowhere, so it is not kept. `v` is int.TryParse'd (0 when it is not an integer).
 * @param {string} text
 */
function parseMessage(text) {
  const d = flatParse(text);
  const get = (/** @type {string} */ k) => d.get(k) ?? null;
  const v = get('v');
  return {
    version: v !== null && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : 0,
    type: get('type'), extension: get('extension'),
    callId: get('call.id'), direction: get('call.direction'), state: get('call.state'),
    remoteNumber: get('call.remotenumber'), remoteName: get('call.remotename'),
  };
}

/** A server frame (WebSocketBridgeServer.WriteFrame): FIN set, never masked. @param {number} opcode @param {Buffer} payload */
function wsFrame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n])
    : n <= 65535 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 255])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  return Buffer.concat([head, payload]);
}

/** case-insensitive equality as String.Equals(…, OrdinalIgnoreCase), null equal to null. @param {string | null} a @param {string | null} b */
const eqi = (a, b) => (a === null || b === null ? a === b : a.toLowerCase() === b.toLowerCase());

/**
 * WebclientConnectionMethod.ComputePreferredPort: base + extension when the extension is
 * a positive integer and the sum lies in 1024..65535, else none (0). It may lie outside
 * the range (101 → 19901).
 * @param {string} extension @param {number} base
 */
function preferredPort(extension, base) {
  if (!extension || !/^\s*\+?\d+\s*$/.test(extension)) return 0;
  const ext = Number(extension);
  if (!(ext > 0) || ext > 2147483647) return 0;
  const p = base + ext;
  return p < 1024 || p > 65535 ? 0 : p;
}

/** The WebSocket session of one client (WebSocketBridgeServer's ClientConnection). */
class Session {
  /** @param {net.Socket} sock @param {number} port @param {number} n */
  constructor(sock, port, n) {
    this.sock = sock;
    this.port = port;      // BoundPort when it was accepted: what its HELLO_ACKs name
    this.n = n;
    this.hello = false;    // ClientConnection.HelloReceived
    this.open = true;
    /** @type {Buffer} bytes of a frame not complete yet */
    this.buf = Buffer.alloc(0);
  }

  /** WebSocketBridgeServer.SendJson: false once the connection is gone. @param {string | Buffer} data */
  send(data) {
    if (!this.open || this.sock.destroyed) return false;
    this.sock.write(wsFrame(1, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
    return true;
  }
}

/**
 * The socket layer's record of a call (a TapiCallEvent in WebclientConnectionMethod._activeCalls).
 * @typedef {{key: string, callId: number, state: 'OFFERING' | 'RINGBACK' | 'CONNECTED' | 'DISCONNECTED', incoming: boolean,
 *   callerNumber: string | null, callerName: string | null, calledNumber: string | null, calledName: string | null}} ActiveCall
 */

/**
 * @typedef {{port?: number, extension?: string, ackExtension?: string, mode?: 'webclient' | 'auto',
 *   contactsLoadMs?: number, windowMs?: number, retryMs?: number, portBase?: number, portRange?: number,
 *   foreignSession?: boolean, now?: () => number, staleCallMs?: number, stalePendingMs?: number, cleanupEveryMs?: number,
 *   contacts?: import('./datev').Contact[], journalPopup?: boolean, journalPopupOutbound?: boolean,
 *   callerPopupOutbound?: boolean, historyOutbound?: boolean,
 *   ackHello?: boolean, beforeAck?: Array<object | string>, afterAck?: Array<object | string>}} ConnectorOptions
 */

class Connector {
  /**
   * @param {ConnectorOptions} opts
   *   port: bind exactly this port (else the connector's own choice: 19800 + extension, then
   *     the range walk); extension: the connector's configured extension (default empty:
   *     it adopts the first HELLO's); ackExtension: the same, kept for the tests' squatter;
   *     mode: 'webclient' (explicit, default here) or 'auto' (the real default);
   *     contactsLoadMs: how long DATEV's contacts take to load (default 0; real: up to
   *     ContactLoadTimeoutSeconds, 120 s); windowMs / retryMs: Auto mode's detection window
   *     (8000) and pause between windows (30000); portBase / portRange (19800, 100);
   *     foreignSession: every connection comes from another Windows session (closed at once);
   *     now: the clock for DATEV times and stale ages; staleCallMs / stalePendingMs /
   *     cleanupEveryMs: CallTracker's 4 h, 5 min and its 1 min timer; contacts and the popup
   *     switches: see tests/lib/datev.js. A string in beforeAck / afterAck is sent as it is.
   */
  constructor(opts = {}) {
    this.opts = opts;
    this.mode = opts.mode || 'webclient';
    /** The explicit port, then the port bound last. @type {number} */
    this.port = opts.port || 0;
    /** The connector's extension (its settings; an adopted one is saved there and kept). */
    this.extension = opts.extension ?? opts.ackExtension ?? '';
    this.ackHello = opts.ackHello ?? true;
    this.beforeAck = opts.beforeAck || [];
    this.afterAck = opts.afterAck || [];
    this.contactsLoadMs = opts.contactsLoadMs ?? 0;
    this.windowMs = opts.windowMs ?? 8000;   // min(Webclient.ConnectTimeoutSec 8, Auto.DetectionTimeoutSec 10) s
    this.retryMs = opts.retryMs ?? 30000;    // Auto.RetryIntervalSec, 30 s
    this.portBase = opts.portBase ?? 19800;
    this.portRange = opts.portRange ?? 100;
    this.now = opts.now || Date.now;
    /** @type {any[]} every JSON message, in order, across sessions */
    this.received = [];
    /**
     * Called with each JSON message and `performance.now()` taken as it arrived, before it
     * was parsed (the benchmark's clock). @type {((m: any, at: number) => void) | null}
     */
    this.onMessage = null;
    /** @type {any[]} CALL_EVENTs the socket layer handed on to the DATEV layer */
    this.accepted = [];
    /** @type {string[]} what the connector dropped or refused (events, messages, commands, journals) */
    this.log = [];
    /** @type {string[]} routine lines: sessions, probes, phases, DATEV notifications */
    this.trace = [];
    /** @type {string[]} every COMMAND text the connector wrote (DIAL, DROP) */
    this.commands = [];
    this.sessions = 0;      // WebSocket handshakes answered
    this.probes = 0;        // plain GET / HEAD requests answered with OK
    this.connections = 0;   // TCP connections the listening socket took (answered or not)
    this.runs = 0;          // process starts
    /** @type {Session | null} the WebSocket client being served */
    this.client = null;
    /** @type {'stopped' | 'loading' | 'window' | 'between' | 'detected' | 'run'} what the connector is doing */
    this.phase = 'stopped';
    /** DATEV's contacts are loaded and the provider's events are subscribed (ConnectorService step 4). */
    this.wired = false;
    /** Connections `closeAndHold` keeps open. @type {Set<net.Socket>} */
    this.held = new Set();
    this.datev = new Datev({
      now: () => this.now(), extension: () => this.extension,
      log: (l) => { this.log.push(l); }, trace: (l) => { this.trace.push(l); },
      contacts: opts.contacts, journalPopup: opts.journalPopup, journalPopupOutbound: opts.journalPopupOutbound,
      callerPopupOutbound: opts.callerPopupOutbound, historyOutbound: opts.historyOutbound,
      staleCallMs: opts.staleCallMs, stalePendingMs: opts.stalePendingMs,
    });
    /** @type {Map<string, ActiveCall>} WebclientConnectionMethod._activeCalls (insertion order stands for its enumeration order) */
    this.active = new Map();
    /** @type {Map<string, string | null>} WebclientConnectionMethod._lastCallState */
    this.lastState = new Map();
    this.connected = false; // _connected: a HELLO on the current socket (IsMonitoring)
    this.counter = 0;       // WebclientConnectionMethod._numericCallIdCounter
    /** @type {net.Server | null} */
    this.listener = null;
    /** @type {net.Socket[]} connections the OS accepted that wait for the accept loop */
    this.queue = [];
    this.serving = false;       // the accept loop is busy with a connection
    this.pausing = false;       // RunAsync's 500 ms after a client
    this.handshaking = false;   // reading a request (SetupClientAsync cannot be cancelled)
    this.expiryPending = false; // a detection window ended while a request was being read
    this.firstWindow = false;
    this.preferred = 0;         // the current provider's preferred port
    this.gen = 0;
    /** @type {NodeJS.Timeout | null} */
    this.windowTimer = null;
    /** @type {net.Socket | null} the connection whose request is being read */
    this.reading = null;
    /** @type {NodeJS.Timeout | undefined} */
    this.cleanupTimer = undefined;
    /** @type {Set<NodeJS.Timeout>} */
    this.timers = new Set();
  }

  /** WebclientConnectionMethod.OnTransportDisconnected / CleanupConnection. */
  resetSocketLayer() {
    this.active.clear();
    this.lastState.clear();
    this.connected = false;
  }

  /** A timer that belongs to this process run and never keeps Node alive. @param {number} ms @param {() => void} fn */
  after(ms, fn) {
    const gen = this.gen;
    const t = setTimeout(() => { this.timers.delete(t); if (gen === this.gen) fn(); }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  /**
   * Starts the connector process (TrayApplication → ConnectorService.StartAsync). Resolves
   * once it listens when it listens at once (explicit mode with contactsLoadMs 0, or Auto
   * mode's first window); otherwise at once.
   */
  async start() {
    if (this.phase !== 'stopped') throw new Error('already running');
    this.gen++;
    this.runs++;
    // A new process: WebclientConnectionMethod._numericCallIdCounter is static, so numeric
    // ids start at 1 again; both layers are empty; an adopted extension was saved
    // (ConnectorService.AdoptExtensionFromProvider → AppConfig.Set) and is kept.
    this.counter = 0;
    this.resetSocketLayer();
    this.wired = false;
    if (this.runs > 1) this.datev.processStart();
    const every = this.opts.cleanupEveryMs ?? 60000; // CallTracker's cleanup timer
    const gen = this.gen;
    const iv = setInterval(() => { if (gen === this.gen) this.datev.cleanup(); }, every);
    iv.unref();
    this.cleanupTimer = iv;
    if (this.mode === 'auto') {
      await this.openWindow(true, true);
    } else {
      // ConnectionMethodSelector.SelectExplicit_WebclientAsync only creates the provider;
      // ConnectorService.StartAsync loads DATEV's contacts (step 3) before it starts the
      // provider (step 4): nothing listens until then.
      this.phase = 'loading';
      this.preferred = preferredPort(this.extension, this.portBase);
      if (this.contactsLoadMs > 0) this.after(this.contactsLoadMs, () => { void this.wire(false); });
      else await this.wire(true);
    }
    return this;
  }

  /** The process exits: the listener and any connection close (no Close frame); DATEV keeps what it was told. */
  async stop() {
    if (this.phase === 'stopped') return;
    this.gen++;
    this.phase = 'stopped';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    const s = this.client;
    if (s) { this.endSession(s, 'connector stopped'); s.sock.destroy(); }
    for (const sock of this.held) sock.destroy();
    this.held.clear();
    if (this.reading) this.reading.destroy();
    this.reading = null;
    this.serving = this.pausing = this.handshaking = false;
    await this.unlisten();
    this.datev.processEnd();
  }

  /** A process restart (not a socket close): both layers start empty, numeric ids from 1. */
  async restart() {
    await this.stop();
    return this.start();
  }

  /** Runs CallTracker's stale cleanup now (it runs every minute on its own). */
  cleanup() { this.datev.cleanup(); }

  // ===== listening =====

  /**
   * WebSocketBridgeServer.StartListener: 127.0.0.1 only; the preferred port first, then
   * base..base+range-1; only "address in use" moves on. An explicit `port` replaces it all.
   * @returns {Promise<boolean>}
   */
  async listen() {
    const ports = this.opts.port ? [this.opts.port] : [];
    if (!this.opts.port) {
      if (this.preferred > 0) ports.push(this.preferred);
      for (let p = this.portBase; p <= Math.min(65535, this.portBase + this.portRange - 1); p++) if (p !== this.preferred) ports.push(p);
    }
    const gen = this.gen;
    for (const p of ports) {
      const server = net.createServer({ pauseOnConnect: true }, (sock) => this.onConnection(server, sock));
      try {
        await new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: p, host: '127.0.0.1', exclusive: true }, () => resolve(undefined));
        });
      } catch (e) {
        if (/** @type {any} */ (e).code === 'EADDRINUSE' && !this.opts.port) continue;
        this.log.push(`no free port: ${/** @type {Error} */ (e).message}`);
        return false;
      }
      if (gen !== this.gen) { server.close(); return false; }
      server.unref();
      server.on('error', () => {});
      this.listener = server;
      this.port = p;
      this.trace.push(`listening on 127.0.0.1:${p}${p === this.preferred ? ' (from the extension)' : ''}`);
      return true;
    }
    this.log.push(`no free port in ${this.portBase}-${this.portBase + this.portRange - 1}`);
    return false;
  }

  /** WebSocketBridgeServer.StopListener: the port closes; connections still in the backlog are reset. */
  async unlisten() {
    const server = this.listener;
    this.listener = null;
    for (const sock of this.queue) sock.destroy();
    this.queue = [];
    if (server) await new Promise((r) => server.close(() => r(undefined)));
  }

  /** @param {net.Server} server @param {net.Socket} sock */
  onConnection(server, sock) {
    sock.on('error', () => {});
    sock.unref();
    if (server !== this.listener) { sock.destroy(); return; }
    this.connections++;
    this.queue.push(sock);
    this.pump();
  }

  /** The accept loop takes the next connection when it is free (one at a time). */
  pump() {
    if (!this.listener || this.serving || this.pausing) return;
    const sock = this.queue.shift();
    if (!sock) return;
    this.serving = true;
    if (this.opts.foreignSession) {
      // AcceptAndVerifyAsync: a peer from another Windows session (LoopbackPeerSession)
      // is closed at once, without an answer; no pause follows.
      this.trace.push('connection from another Windows session closed');
      sock.destroy();
      this.served();
      return;
    }
    this.readRequest(sock);
  }

  /** The accept loop is free again without a pause (a probe, a refused or failed handshake). */
  served() {
    this.serving = false;
    if (this.expiryPending) { this.expiryPending = false; this.windowOver(); return; }
    this.pump();
  }

  /**
   * WebSocketBridgeServer.PerformHandshakeAsync: reads into a 4096-byte buffer until it
   * holds a blank line (or is full); no timeout, so a silent connection blocks the accept
   * loop until it closes. Bytes of the last read after the blank line are lost.
   * @param {net.Socket} sock
   */
  readRequest(sock) {
    this.handshaking = true;
    this.reading = sock;
    let got = Buffer.alloc(0);
    let done = false;
    /** @param {Buffer | null} rest what lies beyond the buffer (left in the stream) */
    const finish = (/** @type {Buffer | null} */ rest) => {
      if (done) return;
      done = true;
      this.handshaking = false;
      this.reading = null;
      sock.pause();
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      if (rest === null) { sock.destroy(); this.served(); return; } // the peer closed first: no answer
      this.handle(sock, got.toString('latin1'), rest);
    };
    const onData = (/** @type {Buffer} */ chunk) => {
      const take = chunk.subarray(0, HEADER_BUFFER - got.length);
      got = Buffer.concat([got, take]);
      if (got.includes('\r\n\r\n') || got.length >= HEADER_BUFFER) finish(chunk.subarray(take.length));
    };
    const onEnd = () => finish(null);
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    if (sock.destroyed) { finish(null); return; }
    sock.resume();
  }

  /**
   * After the request: no Sec-WebSocket-Key → a GET or HEAD gets the `OK` answer (HEAD
   * with its body too), anything else nothing; then the connection closes. With a key
   * the 101 goes out; nothing else of the request is checked (path, Upgrade, version,
   * Origin: any web page in the browser can connect).
   * @param {net.Socket} sock @param {string} request @param {Buffer} rest
   */
  handle(sock, request, rest) {
    const key = /Sec-WebSocket-Key:\s*(\S+)/i.exec(request);
    if (!key) {
      if (/^(GET|HEAD) /i.test(request)) {
        this.probes++;
        this.trace.push(`probe answered on ${this.port}`);
        sock.end(PROBE_ANSWER);
      } else {
        this.trace.push(`request without a WebSocket key and not GET/HEAD closed on ${this.port}`);
        sock.end();
      }
      sock.resume(); // read (and drop) until the peer closes too
      this.served();
      return;
    }
    const accept = crypto.createHash('sha1').update(key[1].trim() + WS_GUID).digest('base64');
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sock.setNoDelay(true);
    const s = new Session(sock, this.port, ++this.sessions);
    this.client = s;
    this.trace.push(`session ${s.n} on ${this.port}`);
    sock.on('data', (chunk) => this.feed(s, chunk));
    const gone = () => { if (s.open) { this.endSession(s, 'closed by the peer'); sock.destroy(); this.afterSession(); } };
    sock.on('end', gone);
    sock.on('close', gone);
    if (this.expiryPending) {
      // TryAcceptAsync: the window ended during the handshake; the wait for HELLO ends at once.
      this.expiryPending = false;
      this.windowOver();
      return;
    }
    if (rest.length) this.feed(s, rest);
    sock.resume();
  }

  /**
   * WebSocketBridgeServer.ReadLoopAsync / ReadFrameAsync: FIN and RSV bits are not looked
   * at (a fragment is read as a whole message, continuations are ignored); masking is
   * optional; a length over 1 MiB drops the connection without a Close frame; Close is
   * answered with an empty Close, Ping with Pong; binary and other opcodes are ignored.
   * @param {Session} s @param {Buffer} chunk
   */
  feed(s, chunk) {
    if (!s.open) return;
    s.buf = s.buf.length ? Buffer.concat([s.buf, chunk]) : chunk;
    for (;;) {
      const b = s.buf;
      if (b.length < 2) return;
      const opcode = b[0] & 0x0f, masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f, off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; } else if (len === 127) {
        if (b.length < 10) return;
        len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6); // a set top bit is negative there: dropped as well
        off = 10;
      }
      if (len > MAX_FRAME) {
        this.log.push(`frame of ${len} bytes: connection dropped without a Close frame`);
        this.endSession(s, 'oversized frame');
        s.sock.destroy();
        this.afterSession();
        return;
      }
      const maskAt = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i % 4)];
      s.buf = b.subarray(off + len);
      if (opcode === 0x1) {
        this.onText(s, payload.toString('utf8'));
        if (!s.open) return;
      } else if (opcode === 0x8) {
        s.sock.write(wsFrame(0x8, Buffer.alloc(0)));
        this.endSession(s, 'Close frame received');
        s.sock.end();
        this.afterSession();
        return;
      } else if (opcode === 0x9) {
        s.sock.write(wsFrame(0xa, payload));
      }
    }
  }

  /**
   * A session ended (ReadLoopAsync's finally → Disconnected →
   * WebclientConnectionMethod.OnTransportDisconnected): the socket layer forgets its calls
   * and last states; the DATEV layer keeps its list. The caller closes the connection.
   * @param {Session} s @param {string} why
   */
  endSession(s, why) {
    if (!s.open) return;
    s.open = false;
    if (this.client === s) this.client = null;
    this.resetSocketLayer();
    this.trace.push(`session ${s.n} ended: ${why}`);
  }

  /** What the connector does once a session has ended, by phase. */
  afterSession() {
    if (this.phase === 'run') {
      // RunAsync: 500 ms after every WebSocket client; connections wait in the backlog.
      this.serving = false;
      this.pausing = true;
      this.after(PAUSE_MS, () => { this.pausing = false; this.pump(); });
    } else if (this.phase === 'detected') {
      // The listener was stopped when detection succeeded. StartWebSocketAsync (once the
      // provider runs) waits for this end, then 1 s, then listens for good (RunAsync).
      this.serving = false;
      if (this.wired) this.after(RELISTEN_MS, () => { void this.listenRun(false); });
    }
    // 'window': TryAcceptAsync waits for HELLO until the window ends, even with the client gone.
  }

  // ===== Auto mode: detection windows (ConnectionMethodSelector.AutoDetectAsync → TryConnectAsync → TryAcceptAsync) =====

  /** @param {boolean} first the window at start, before DATEV's contacts load @param {boolean} strict */
  async openWindow(first, strict = false) {
    this.phase = 'window';
    this.firstWindow = first;
    // A new WebclientConnectionMethod per attempt: its preferred port from the extension now.
    this.preferred = preferredPort(this.extension, this.portBase);
    const ok = await this.listen();
    if (!ok) {
      if (strict && this.opts.port) throw new Error(`cannot listen on ${this.opts.port}`);
      this.windowOver(); // TryConnectAsync fails at once
      return;
    }
    this.trace.push(`detection window of ${this.windowMs} ms`);
    this.windowTimer = this.after(this.windowMs, () => this.windowExpired());
  }

  windowExpired() {
    if (this.phase !== 'window') return;
    if (this.handshaking) { this.expiryPending = true; return; }
    this.windowOver();
  }

  /** TryAcceptAsync returned false: a client without HELLO is dropped, the port closes (refused). */
  windowOver() {
    const s = this.client;
    if (s) { this.endSession(s, 'no HELLO within the detection window'); s.sock.end(); }
    this.serving = false;
    void this.unlisten();
    if (this.firstWindow) {
      // ConnectorService.StartAsync: no provider found; DATEV's contacts load (step 3), then
      // ConnectWithRetryAsync starts with a detection attempt at once (step 4).
      this.phase = 'loading';
      this.after(this.contactsLoadMs, () => { void this.openWindow(false); });
    } else {
      this.phase = 'between';
      this.after(this.retryMs, () => { void this.openWindow(false); });
    }
  }

  /** HELLO during a window: detection succeeded; the listener stops, the client stays (TryAcceptAsync). */
  detected() {
    if (this.windowTimer) { clearTimeout(this.windowTimer); this.timers.delete(this.windowTimer); }
    this.phase = 'detected';
    void this.unlisten();
    this.trace.push(`detected${this.firstWindow ? `: events reach DATEV after the contacts load (${this.contactsLoadMs} ms)` : ''}`);
    if (this.firstWindow) this.after(this.contactsLoadMs, () => { void this.wire(false); });
    else void this.wire(false);
  }

  /**
   * ConnectorService step 4 (ConnectWithRetryAsync): the provider's events are subscribed
   * (from now on they reach DATEV), then WebclientConnectionMethod.StartAsync: with the
   * detected client still there it waits for its end (then 1 s); else it listens now.
   * @param {boolean} strict
   */
  async wire(strict) {
    this.wired = true;
    this.trace.push('DATEV contacts loaded: events are passed on');
    if (this.client && this.client.hello) { this.phase = 'detected'; return; }
    await this.listenRun(strict);
  }

  /** RunAsync: listen for good; when no port can be bound, again after 1 s. @param {boolean} strict */
  async listenRun(strict) {
    this.phase = 'run';
    this.serving = this.pausing = false;
    if (await this.listen()) { this.pump(); return; }
    if (strict) throw new Error(`cannot listen${this.opts.port ? ` on ${this.opts.port}` : ''}`);
    this.after(RETRY_BIND_MS, () => { void this.listenRun(false); });
  }

  // ===== messages (WebSocketBridgeServer.ProcessMessage) =====

  /** @param {Session} s @param {string} text */
  onText(s, text) {
    const at = performance.now();
    /** @type {any} */
    let json;
    try { json = JSON.parse(text); } catch (_) { json = undefined; }
    if (json !== undefined) {
      this.received.push(json);
      if (this.onMessage) this.onMessage(json, at);
    }
    if (text === '') { this.log.push('empty message: not parsed'); return; }
    const msg = parseMessage(text);
    if (msg.version !== 1) this.log.push(`protocol version ${msg.version}, expected 1 (processed anyway)`);
    if (eqi(msg.type, 'HELLO')) this.onHello(s, msg);
    else if (eqi(msg.type, 'CALL_EVENT')) {
      if (!s.hello) { this.log.push('CALL_EVENT before HELLO'); return; }
      this.onCallEvent(msg, json);
    } else this.log.push(`unknown type ${msg.type ?? ''}`);
  }

  /**
   * HELLO: WebclientConnectionMethod.OnHelloReceived (adopts the HELLO's extension only
   * while its own is empty; never compares them), then SendHelloAck("1.0", own extension)
   * with the bound port and `ready: true` whatever the connector's state. Another HELLO
   * on the same socket is acknowledged again.
   * @param {Session} s @param {ReturnType<typeof parseMessage>} msg
   */
  onHello(s, msg) {
    s.hello = true;
    this.connected = true;
    if (msg.extension && !this.extension) {
      this.extension = msg.extension;
      this.trace.push(`extension ${msg.extension} adopted from HELLO`);
    }
    if (this.ackHello) {
      const put = (/** @type {object | string} */ m) => s.send(typeof m === 'string' ? m : JSON.stringify(m));
      this.beforeAck.forEach(put);
      s.send(buildHelloAck('1.0', this.extension, s.port));
      this.afterAck.forEach(put);
    }
    if (this.phase === 'window') this.detected();
  }

  /**
   * WebclientConnectionMethod.OnExtensionCallEvent.
   * @param {ReturnType<typeof parseMessage>} msg @param {any} json
   */
  onCallEvent(msg, json) {
    const id = msg.callId, state = msg.state;
    if (!id) { this.log.push('CALL_EVENT without a call id'); return; }
    const key = id.toLowerCase(); // the dictionaries compare call ids OrdinalIgnoreCase
    // Debounce on the last state of this id; recorded before anything else is checked, and
    // kept after `ended` (until the socket ends).
    if (this.lastState.has(key) && eqi(this.lastState.get(key) ?? null, state)) {
      this.log.push(`duplicate ${state} for ${id}`);
      return;
    }
    this.lastState.set(key, state);
    const incoming = eqi(msg.direction, 'inbound'); // anything else is outbound
    /** @type {ActiveCall['state'] | null} */
    const tapi = eqi(state, 'offered') ? 'OFFERING'
      : eqi(state, 'dialing') || eqi(state, 'ringing') ? (incoming ? 'OFFERING' : 'RINGBACK')
        : eqi(state, 'connected') ? 'CONNECTED' : eqi(state, 'ended') ? 'DISCONNECTED' : null;
    if (!tapi) { this.log.push(`unknown state ${state} for ${id}`); return; }
    if (tapi === 'DISCONNECTED' && !this.active.has(key)) { this.log.push(`ended for unknown call ${id}`); return; }
    // The global counter moves on every event that gets here, so numeric ids have gaps.
    const n = ++this.counter;
    let call = this.active.get(key);
    if (!call) {
      call = { key: id, callId: n, state: tapi, incoming, callerNumber: null, callerName: null, calledNumber: null, calledName: null };
      this.active.set(key, call);
    }
    call.state = tapi;
    if (msg.remoteNumber) {
      // Numbers by this event's direction; the own side is the connector's extension.
      if (incoming) { call.callerNumber = msg.remoteNumber; call.callerName = msg.remoteName; call.calledNumber = this.extension; } else {
        call.calledNumber = msg.remoteNumber; call.calledName = msg.remoteName; call.callerNumber = this.extension;
      }
    }
    this.trace.push(`${tapi} ${id} → call ${call.callId}`);
    if (this.wired) {
      this.accepted.push(json ?? { v: msg.version, type: msg.type, call: { id, state, direction: msg.direction, remoteNumber: msg.remoteNumber } });
      this.datev.onCallState({ ...call });
    } else {
      // Auto mode before ConnectorService subscribes CallStateChanged: the event goes
      // nowhere, but the socket layer has recorded it (state, active call, numeric id).
      this.log.push(`not passed on (DATEV contacts not loaded yet): ${id} ${state}`);
    }
    if (tapi === 'DISCONNECTED') this.active.delete(key);
  }

  // ===== DATEV's commands (Core/DatevCommandHandler.cs) =====

  /** WebSocketBridgeServer.SendJson on the current session. @param {string} text */
  write(text) {
    if (!this.client || !this.client.send(text)) return false;
    this.commands.push(text);
    return true;
  }

  /**
   * DATEV dials (HandleDialCommandAsync): refused unless the provider runs and has had a
   * HELLO on the current socket; else a pending call (temp id, normalised-number index)
   * and MakeCall, which writes a DIAL with the number as DATEV gave it and without any
   * sync id. The sync id stays on DATEV's side and is linked to the first outbound
   * RINGBACK of a call new to the DATEV layer whose normalised number equals it.
   * @param {string} number @param {string} [syncId] @param {{datevCallId?: string, contact?: import('./datev').Contact}} [extra]
   * @returns {string | null} the COMMAND text written, or null
   */
  datevDial(number, syncId = '', extra = {}) {
    if (!number || !number.trim()) { this.log.push('DATEV Dial: no number'); return null; }
    if (!this.wired || !this.connected) { this.log.push('DATEV Dial: not connected'); return null; }
    /** @type {string | null} */
    let sent = null;
    this.datev.addPending(number, syncId, extra, (n) => {
      const text = buildDial(n);
      if (this.connected && this.write(text)) sent = text;
      return sent !== null;
    });
    return sent;
  }

  /**
   * DATEV hangs up its call `datevCallId` (HandleDropCommandAsync →
   * WebclientConnectionMethod.FindCallById / DropCall): the call must still be listed and
   * its numeric id still known to the socket layer (not after a reconnect); then the DROP
   * names the LAST active call of _activeCalls, whichever DATEV meant. The C# takes
   * LastOrDefault over a ConcurrentDictionary, whose order is its hash order; modelled
   * here as insertion order, so the most recently announced active call. Without an active
   * call the DROP has no callId (all calls).
   * @param {string} datevCallId @returns {string | null} the COMMAND text written, or null
   */
  datevDrop(datevCallId) {
    if (!datevCallId || !datevCallId.trim()) { this.log.push('DATEV Drop: no CallID'); return null; }
    const rec = this.datev.findByDatevCallId(datevCallId);
    if (!rec) { this.log.push(`DATEV Drop: call ${datevCallId} not found`); return null; }
    if (!this.wired || !this.connected) { this.log.push('DATEV Drop: not connected'); return null; }
    if (!/^\s*[+-]?\d+\s*$/.test(rec.tapiId)) { this.log.push(`DATEV Drop: invalid TapiCallId ${rec.tapiId}`); return null; }
    const n = Number(rec.tapiId);
    if (![...this.active.values()].some((c) => c.callId === n)) { this.log.push(`DATEV Drop: no call handle for ${n}`); return null; }
    const live = [...this.active.values()].filter((c) => c.state !== 'DISCONNECTED');
    const text = buildDrop(live.length ? live[live.length - 1].key : null);
    return this.write(text) ? text : null;
  }

  // ===== for the tests =====

  /** CALL_EVENTs received, as "id state direction number" strings. @param {any[]} [list] @returns {string[]} */
  events(list = this.received) {
    return list.filter((m) => m && m.type === 'CALL_EVENT').map((m) => `${m.call.id} ${m.call.state} ${m.call.direction} ${m.call.remoteNumber}`);
  }

  hellos() { return this.received.filter((m) => m && m.type === 'HELLO'); }

  /** Sends any text to the current client (not something the connector does). @param {object | string} obj */
  send(obj) {
    if (!this.client) throw new Error('no client');
    this.client.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /**
   * Starts the closing handshake (a Close frame, code 1000) and keeps the TCP connection
   * open for `ms` without reading from it, then cuts it. Until then the extension's socket
   * is CLOSING and its close event has not fired: the moment a connector that shuts down
   * leaves between its Close and the end of the connection, widened so a test can hit it.
   * For the connector the session is over at once (its socket layer forgets; the next
   * client is served after the usual pause). @param {number} ms
   */
  closeAndHold(ms) {
    const s = this.client;
    if (!s) throw new Error('no client');
    s.sock.pause();
    s.sock.write(Buffer.from([0x88, 0x02, 0x03, 0xe8])); // FIN + Close, 2 bytes: 1000
    this.held.add(s.sock);
    this.endSession(s, 'closeAndHold');
    const t = setTimeout(() => { this.held.delete(s.sock); s.sock.destroy(); }, ms);
    t.unref();
    this.afterSession();
  }
}

module.exports = { Connector, buildDial, buildDrop, buildHelloAck, escapeJson, flatParse, preferredPort, normalize };
