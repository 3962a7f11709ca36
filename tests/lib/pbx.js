// A simulated 3CX PBX (version 20) on loopback, with a page that behaves like its WebClient.
// Sources: /work/shared/spec/3cx-webclient.md and the real WebClient 20.0.7's JavaScript
// (Internal.js in mjv88/MyCXFAVEVClient at 329ada0; character offsets in the comments).
//
// The PBX side:
// - `/ws/webclient?sessionId=<key>&pass=<pass>` only SENDS: text START when the session is
//   ready, ADDP keep-alives, NOT AUTH / STOP when the session is over, binary GenericMessage
//   pushes (Internal.js 1,259,445 and 1,776,620). What a client writes there is recorded in
//   `socketWrites` and otherwise ignored: the WebClient never writes there.
// - `POST /MyPhone/MPWebService.asmx` (30871 at 1,786,886) takes one GenericMessage and
//   answers one: the state for state requests (201 for RequestMyInfo), 207
//   ResponseAcknowledge, 261 ResponseCallControl, 228 for WebRTC offers. It decodes strictly.
// The page side (served at /webclient/): opens the socket early in <head>, and on START POSTs
// the WebClient's state requests and treats their answers like pushes; keeps the operator's
// phone device in localStorage; has the WebClient's dialer routes (#/call?phone=,
// #/dialer?phone=, and tel: links) and dials and hangs up as the WebClient does.
'use strict';
const http = require('node:http');
const https = require('node:https');
const { WebSocketServer } = require('ws');
const P = require('./proto');

const WEBRTC_UA = '3CX WebRTC proxy';
const ENDPOINT = '/myphone/mpwebservice.asmx';

/**
 * What the page's script gets (JSON in the page). The session key and pass are in it as they
 * are in the real WebClient's memory; the page never prints them.
 * @typedef {{ext: string, key: string, pass: string, addpMs: number, dialerLoadMs: number,
 *   staleDialer: boolean, staleDialerMs: number | null, reconnect: boolean, reconnectMs: number,
 *   selectedDevice?: unknown, messages: Record<number, [string, import('./proto').Schema]>}} PageConfig
 */

/**
 * The WebClient-like page's script. Serialized with toString() into the page: it must not use
 * anything outside itself. Behaviours copied from the real WebClient name their offset in
 * Internal.js.
 * @param {PageConfig} cfg
 */
function webClientMain(cfg) {
  const WEBRTC = '3CX WebRTC proxy', MOBILE = '3CX Mobile Client';
  // Device kinds (Internal.js 3,455,533, module 90558).
  const EXCLUDED = ['3cx teams agent', '3cx dialer', '3cxphone for android', '3cxphone for iphone'];
  const OCTET = 'application/octet-stream';
  /** @type {any} */
  const W = window;
  const store = window.localStorage;
  store.setItem('wc.provision', JSON.stringify({ username: cfg.ext, domain: 'pbx.test' }));
  store.setItem('wc.version', JSON.stringify('20.0.1000'));
  store.setItem('yourname', 'Erika Operator');
  // ngx-webstorage: prefix "wc", separator ".", not case sensitive (1,057,571; normalize at
  // 1,126,568 lower-cases); the key is `${Number}__${SelectedPhoneDevice}` (1,887,162, 3,458,353).
  const deviceKey = `wc.${cfg.ext}__SelectedPhoneDevice`.toLowerCase();
  if (cfg.selectedDevice !== undefined) store.setItem(deviceKey, JSON.stringify(cfg.selectedDevice));

  // ---- a small protobuf codec of the page's own (the WebClient uses protobufjs) ----
  const te = new TextEncoder(), td = new TextDecoder();
  /** @param {number | bigint} n @param {number[]} out */
  const varint = (n, out) => {
    let v = BigInt.asUintN(64, BigInt(n));
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
  };
  /** @param {any} schema @param {any} obj @returns {number[]} */
  const encode = (schema, obj) => {
    /** @type {number[]} */
    const out = [];
    for (const f of Object.keys(schema).map(Number).sort((a, b) => a - b)) {
      const [name, type, repeated] = schema[f];
      const v = obj[name];
      if (v === undefined || v === null) continue;
      for (const one of repeated ? v : [v]) {
        if (type === 'int32' || type === 'int64' || type === 'bool') { varint(f * 8, out); varint(type === 'bool' ? (one ? 1 : 0) : one, out); continue; }
        const body = type === 'string' ? [...te.encode(String(one))] : type === 'bytes' ? [...one] : encode(type, one);
        varint(f * 8 + 2, out); varint(body.length, out); for (const b of body) out.push(b);
      }
    }
    return out;
  };
  /** @param {Uint8Array} buf @param {number} pos @returns {[bigint, number]} */
  const readVarint = (buf, pos) => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated');
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return [v, pos];
      shift += 7n;
    }
  };
  /** Own keys: the fields on the wire and the repeated ones, as protobufjs objects have. @param {Uint8Array} buf @param {any} schema @returns {any} */
  const decode = (buf, schema) => {
    /** @type {any} */
    const out = {};
    for (const [name, , repeated] of Object.values(schema)) if (repeated) out[name] = [];
    let pos = 0;
    while (pos < buf.length) {
      let k, v;
      [k, pos] = readVarint(buf, pos);
      const field = Number(k >> 3n), wire = Number(k & 7n);
      if (wire === 0) [v, pos] = readVarint(buf, pos);
      else if (wire === 2) { let len; [len, pos] = readVarint(buf, pos); v = buf.subarray(pos, pos + Number(len)); pos += Number(len); if (pos > buf.length) throw new Error('truncated'); }
      else if (wire === 1 || wire === 5) { pos += wire === 1 ? 8 : 4; continue; }
      else throw new Error('wire type');
      const spec = schema[field];
      if (!spec) continue;
      const [name, type, repeated] = spec;
      if ((wire === 0) !== (type === 'int32' || type === 'int64' || type === 'bool')) throw new Error('wire type');
      const val = type === 'int32' ? Number(BigInt.asIntN(32, /** @type {bigint} */ (v))) : type === 'int64' ? Number(BigInt.asIntN(64, /** @type {bigint} */ (v)))
        : type === 'bool' ? v !== 0n : type === 'string' ? td.decode(/** @type {Uint8Array} */ (v)) : type === 'bytes' ? v : decode(/** @type {Uint8Array} */ (v), type);
      if (repeated) out[name].push(val); else out[name] = val;
    }
    return out;
  };
  /** @param {number} id @param {any} payload */
  const encodeGeneric = (id, payload) => {
    /** @type {number[]} */
    const out = [];
    varint(8, out); varint(id, out);
    const body = encode(cfg.messages[id] ? cfg.messages[id][1] : {}, payload || {});
    varint(id * 8 + 2, out); varint(body.length, out); for (const b of body) out.push(b);
    return Uint8Array.from(out);
  };
  /**
   * The WebClient's decode (85212): the first field that is not MessageId is the message; an
   * undecodable one is dropped ("Invalid notification").
   * @param {Uint8Array} buf @returns {{id: number, msg: any} | null}
   */
  const decodeGeneric = (buf) => {
    try {
      let pos = 0;
      while (pos < buf.length) {
        let k, v;
        [k, pos] = readVarint(buf, pos);
        const field = Number(k >> 3n), wire = Number(k & 7n);
        if (wire === 0) { [v, pos] = readVarint(buf, pos); continue; }
        if (wire !== 2) return null;
        let len;
        [len, pos] = readVarint(buf, pos);
        v = buf.subarray(pos, pos + Number(len));
        pos += Number(len);
        if (pos > buf.length) return null;
        const known = cfg.messages[field];
        return { id: field, msg: known ? decode(v, known[1]) : {} };
      }
    } catch { /* dropped, as the WebClient drops an invalid notification */ }
    return null;
  };

  // ---- the WebClient's merge of pushes into its state (Merge / MergePlainObject, 3,035,286) ----
  /** @param {any} y @param {any} v */
  const merge = (y, v) => {
    if (v.Action === 1 || v.Action === 3) mergePlain(y, v);
    else if (!v.Action) Object.assign(y, v); // Inserted / Deleted at this level: ignored
    return y;
  };
  /** @param {any} y @param {any} v */
  const mergePlain = (y, v) => {
    for (const k of Object.keys(v)) {
      if (k === 'Action' || k === 'Id') continue;
      const R = v[k], x = y[k];
      if (R === undefined) continue;
      if (Array.isArray(R)) {
        if (R.length === 0) { if (v.Action === 1) y[k] = R; continue; }
        if (typeof R[0] !== 'object') { y[k] = R; continue; }
        /** @type {Record<number, any>} keyed by Id: Object.values lists them in Id order */
        const B = {};
        for (const u of x || []) B[u.Id] = u;
        for (const U of R) {
          if (U.Action === 4) delete B[U.Id];
          else if (U.Action === 1) B[U.Id] = U;
          else if (U.Action === 2 || U.Action === 3) B[U.Id] = B[U.Id] === undefined ? U : merge(B[U.Id], U);
        }
        y[k] = Object.values(B);
      } else if (R && typeof R === 'object' && !(R instanceof Uint8Array)) y[k] = x === undefined ? R : merge(x, R);
      else y[k] = R;
    }
  };

  // ---- page-wide state (the services) and the session (one per socket, as MyPhoneSession) ----
  const G = {
    /** @type {Array<{messageId: number, status: number, answer?: number}>} the page's own POSTs */
    posts: [],
    /** @type {any[]} calls the page placed, or refused to place */
    placed: [],
    /** @type {any[]} errors the WebClient would show in a modal */
    errors: [],
    lastDialerNumber: '',
    trying: 0,
    transactionId: 1,
    /** @type {Set<number>} WebRTC calls with media in this page (their 228 CallId) */
    media: new Set(),
    reconnects: 0,
    /** failures in a row without a session that came up */
    failures: 0,
  };
  /** @param {string} key @param {string} pass */
  const newSession = (key, pass) => ({
    key, pass, active: true, status: 'connecting', fullUpdate: false, groups: false, serverTime: false, myInfoSeen: false, initiated: false,
    /** @type {WebSocket | null} */ ws: null,
    /** @type {any} the operator's MyExtensionInfo, as merged */
    myInfo: { Connections: { Items: [] }, OtherConnections: { Items: [] }, ActiveDevices: { Items: [] } },
    /** @type {any} */ webrtc: { isWebRTCEnpointRegistered: false, Items: [] },
    /** @type {Promise<unknown>} the WebClient's concatMap: one item after the other */ queue: Promise.resolve(),
    /** @type {Array<() => void>} */ waiting: [],
    /** @type {ReturnType<typeof setTimeout> | undefined} */ watchdog: undefined,
  });
  let S = newSession(cfg.key, cfg.pass);
  W.__received = 0;

  /** @param {unknown} v */
  const ipOf = (v) => {
    const s = typeof v === 'string' ? v : '';
    const m4 = s.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    if (m4) return m4[0].trim();
    const m6 = s.match(/\[?((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})\]?/);
    return m6 ? m6[1] : undefined;
  };
  /** The device list (function ct, 3,455,533). @returns {any[]} */
  const devices = () => {
    const list = (S.myInfo.ActiveDevices.Items || []).filter((/** @type {any} */ r) => r.UserAgent && !EXCLUDED.some((p) => r.UserAgent.toLowerCase().startsWith(p)));
    if (!list.find((/** @type {any} */ r) => r.UserAgent === WEBRTC)) list.push({ Id: 0, UserAgent: WEBRTC, Contact: 'Browser' });
    /** @type {any[]} */
    const others = [];
    /** @type {any[]} */
    const webrtc = [];
    /** @type {any[]} */
    const cx = [];
    for (const r of list) (r.UserAgent === WEBRTC ? webrtc : r.UserAgent.toLowerCase().includes('3cx') ? cx : others).push(r);
    return others.concat(webrtc, cx);
  };
  /** The selected device (selectedPhoneDevice$, 3,458,353 ff.). */
  const selected = () => {
    /** @type {any} */
    let stored;
    try { stored = JSON.parse(store.getItem(deviceKey) || 'null'); } catch { stored = null; }
    const want = stored === null || typeof stored !== 'object' ? { userAgent: stored } : stored;
    const list = devices();
    return list.find((d) => d.UserAgent === want.userAgent && ipOf(d.Contact) === want.ipAddress)
      || list.find((d) => d.UserAgent === want.userAgent)
      || (want.userAgent === WEBRTC || want.userAgent === MOBILE ? list.find((d) => d.UserAgent === WEBRTC) : undefined)
      || list[0];
  };

  // ---- requests: HTTP POSTs of one GenericMessage (transportImplementation, 1,064,586) ----
  /**
   * @param {number} id @param {any} payload
   * @returns {Promise<{id: number, msg: any} | null>}
   */
  const post = (id, payload) => new Promise((resolve, reject) => {
    const body = encodeGeneric(id, payload);
    const sess = S;
    const x = new XMLHttpRequest();
    // new URL(y.C, domainUrl).href with y.C = "/MyPhone/MPWebService.asmx" (30871)
    x.open('POST', new URL('/MyPhone/MPWebService.asmx', location.href).href);
    // The headers of module 30871 (1,786,886): the session key goes in MyPhoneSession.
    x.setRequestHeader('Accept', OCTET);
    x.setRequestHeader('Content-Type', OCTET);
    x.setRequestHeader('MyPhoneSession', sess.key);
    x.setRequestHeader('ngsw-bypass', 'bypass');
    x.responseType = 'arraybuffer';
    const record = { messageId: id, status: 0, answer: /** @type {number | undefined} */ (undefined) };
    G.posts.push(record);
    x.onload = () => {
      record.status = x.status;
      if (x.status < 200 || x.status >= 300) return reject(Object.assign(new Error(`HTTP ${x.status}`), { status: x.status }));
      const a = decodeGeneric(new Uint8Array(x.response));
      record.answer = a ? a.id : undefined;
      resolve(a);
    };
    x.onerror = () => reject(Object.assign(new Error('network error'), { status: 0 }));
    x.send(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  });
  const ERROR_KEYS = /** @type {Record<number, string>} */ ({ 1: 'NoSuchRequest', 2: 'ExceptionOccurred', 3: 'RequestIsNotSupported', 4: 'ServerIsBusy', 8: 'ExtensionNotFound', 9: 'NoPermission' });
  /**
   * myphone.get (3,545,246): refused while the session is inactive; a LoginInfo that is not
   * authenticated ends the session; a 207 with Success false is an error (processResponse,
   * 1,065,661: IsCustomMessage -> Message, else the text for ErrorType, else Message).
   * @param {number} id @param {any} [payload]
   */
  const get = async (id, payload) => {
    if (!S.active) throw new Error('_i18n.SessionExpired');
    const a = await post(id, payload);
    if (a && a.id === 200 && !a.msg.IsAuthenticated) { fail('not authenticated'); throw new Error('_i18n.SessionExpired'); }
    if (a && a.id === 207 && !a.msg.Success) {
      const m = a.msg.IsCustomMessage ? a.msg.Message : (ERROR_KEYS[a.msg.ErrorType] && `_i18n.${ERROR_KEYS[a.msg.ErrorType]}`) || a.msg.Message || `Received unsuccessful ack for ${cfg.messages[id] ? cfg.messages[id][0] : id}`;
      throw Object.assign(new Error(m), { ack: a.msg });
    }
    return a;
  };

  // ---- the message stream (30203 at 1,776,620) ----
  /** join (1,253,542): what the WebClient does with an answer or a push. @param {{id: number, msg: any} | null} a */
  const apply = (a) => {
    if (!a) return;
    if (a.id === 201) {
      S.myInfoSeen = true;
      if (a.msg.Action === 1) S.fullUpdate = true;
      if (S.fullUpdate) merge(S.myInfo, a.msg); // ignored until a FullUpdate came
    } else if (a.id === 227) merge(S.webrtc, a.msg);
    else if (a.id === 208 && a.msg.FromLocalPbx) S.groups = true;
    else if (a.id === 218) S.serverTime = true;
    // processMyPhoneMessages (1,251,334): the session is up after a MyExtensionInfo, the local
    // PBX's Groups and a ResponseServerTime.
    if (!S.initiated && S.myInfoSeen && S.groups && S.serverTime) {
      S.initiated = true;
      G.failures = 0;
      S.status = 'ready';
      for (const w of S.waiting.splice(0)) w();
    }
  };
  /** @param {() => unknown} fn */
  const enqueue = (fn) => {
    const sess = S;
    sess.queue = sess.queue.then(() => (sess === S && sess.active ? fn() : undefined)).catch((e) => { if (sess === S) fail(`stream: ${e && e.message}`); });
  };
  /** Z (1,776,620): 122 first, then the rest together; 163 and 500 may fail; 207 answers are dropped. */
  const startRequests = async () => {
    /** @param {{id: number, msg: any} | null} a */
    const take = (a) => { if (a && a.id !== 207) apply(a); };
    take(await get(122));
    await Promise.all([
      get(102).then(take),
      get(163, { register: true, NeedsRegistration: !!store.getItem('wc.webrtcregistration') }).then(take, () => {}),
      get(131).then(take),
      get(500).then(take, () => {}),
      get(104, { ExtIncluded: false, SearchBridge: false, SearchCompany: false, SearchPersonal: false, SysExtsMask: 32 | 256, Count: 2, Offset: 0 }).then(take),
    ]);
  };
  /** @param {string} why */
  const fail = (why) => {
    const sess = S;
    if (!sess.active) return;
    sess.active = false;
    sess.status = `closed: ${why}`;
    clearTimeout(sess.watchdog);
    if (sess.ws) { sess.ws.onmessage = null; sess.ws.onclose = null; try { sess.ws.close(); } catch { /* closed */ } }
    // The first retry at once (1,245,810), later ones after a delay (random there).
    if (cfg.reconnect) setTimeout(() => reconnect(1), G.failures++ === 0 ? cfg.reconnectMs : Math.min(5000, 1000 * G.failures));
  };
  /** A new session, as myPhoneApiService.myPhoneSession (1,237,891) does on a retry. @param {number} attempt */
  const reconnect = (attempt) => {
    const x = new XMLHttpRequest();
    x.open('POST', new URL('/webclient/api/MyPhone/session', location.href).href);
    x.setRequestHeader('Content-Type', 'application/json');
    x.responseType = 'json';
    x.onload = () => {
      // 401/403: back to the login page (1,245,810): no more attempts.
      if (x.status === 401 || x.status === 403) { S.status = 'login required'; return; }
      if (x.status !== 200 || !x.response) { if (attempt < 3) setTimeout(() => reconnect(attempt + 1), 1000); return; }
      G.reconnects++;
      S = newSession(x.response.sessionKey, x.response.pass);
      connect();
    };
    x.onerror = () => { if (attempt < 3) setTimeout(() => reconnect(attempt + 1), 1000); };
    x.send('{}');
  };
  const connect = () => {
    const sess = S;
    // 17279 (1,259,445): the URL, binaryType, and NOT AUTH / STOP ending the channel.
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/webclient?sessionId=' + sess.key + '&pass=' + sess.pass);
    ws.binaryType = 'arraybuffer';
    sess.ws = ws;
    let started = false;
    // timeout(2 * addpTimeout) on every frame, ADDP included (1,776,620)
    const arm = () => { clearTimeout(sess.watchdog); sess.watchdog = setTimeout(() => fail('no frame in 2 x ADDP'), 2 * cfg.addpMs); };
    arm();
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer && e.data.byteLength > 0) W.__received++;
      arm();
      if (e.data === 'NOT AUTH' || e.data === 'STOP') return fail(e.data);
      if (e.data === 'ADDP') return;
      if (!started && e.data !== 'START') return; // skipWhile: nothing counts before START
      if (e.data === 'START') { started = true; sess.status = 'starting'; enqueue(startRequests); return; }
      if (e.data instanceof ArrayBuffer) { const a = decodeGeneric(new Uint8Array(e.data)); enqueue(() => apply(a)); }
    };
    ws.onclose = () => fail('socket closed');
  };
  const whenReady = () => new Promise((resolve) => { if (S.initiated) resolve(undefined); else S.waiting.push(() => resolve(undefined)); });

  // ---- dialling and hanging up (call$ 1,436,095; drop 1,424,285) ----
  /** @param {string} raw @param {string} via */
  const call = async (raw, via) => {
    if (raw) G.lastDialerNumber = raw;
    // preprocessPhoneNumber (1,455,380): only %+*#0-9a-zA-Z are kept (27199).
    const number = (raw || '').replace(/[^%+*#0-9a-zA-Z]/g, '');
    await whenReady();
    // isNewCallAllowed (1,419,005): no new call while one is being set up or dialling.
    if (G.trying > 0 || S.myInfo.Connections.Items.some((/** @type {any} */ c) => c.State === 2)) {
      G.placed.push({ number, via, refused: 'a call is being set up' });
      return;
    }
    const dev = selected();
    /** @type {{number: string, via: string, path: string, device: string | null, localConnectionId?: number, capabilities?: number, callId?: number, error?: string}} */
    const entry = { number, via, path: '', device: dev ? dev.Contact : null };
    G.placed.push(entry);
    G.trying++;
    try {
      if (!dev || dev.UserAgent === WEBRTC) {
        // The WebClient places the call itself: 164 with its SDP offer (setupCall, 2,528,225);
        // the message stream waits meanwhile (requestChangeState's suspend, 2,538,168).
        entry.path = 'webrtc';
        /** @type {(v?: unknown) => void} */
        let release = () => {};
        const gate = new Promise((r) => { release = r; });
        const sess = S;
        sess.queue = sess.queue.then(() => gate);
        try {
          const a = await get(164, { Id: 0, sdpType: 1, transactionId: G.transactionId++, sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n', destinationNumber: number });
          if (!a || !a.msg.Success) throw new Error(a && a.msg.Message || 'WebRTC call failed');
          entry.callId = a.msg.CallId;
          G.media.add(a.msg.CallId);
        } finally { release(); }
      } else {
        // Any other device: RequestMakeCall with that device's Contact, then the new leg's
        // rights (124); without capabilities the trying call is dropped again.
        entry.path = 'device';
        const a = await get(119, { Destination: number, DeviceID: dev.Contact, EnableCallControl: true });
        entry.localConnectionId = a && a.msg.LocalConnectionId;
        const r = await get(124, { LocalConnectionId: entry.localConnectionId });
        entry.capabilities = r && r.msg.ConnectionCapabilities;
      }
    } catch (e) {
      entry.error = /** @type {Error} */ (e).message;
      G.errors.push({ what: 'call', number, message: entry.error });
    } finally {
      G.trying--;
    }
  };
  /** @param {number} legId */
  const hangUp = async (legId) => {
    const dev = selected();
    const conn = S.myInfo.Connections.Items.find((/** @type {any} */ c) => c.Id === legId);
    const media = conn && conn.SIPDialogID && S.webrtc.Items.find((/** @type {any} */ w) => w.SIPDialogID === conn.SIPDialogID && G.media.has(w.Id));
    try {
      if (dev && dev.UserAgent === WEBRTC && media) await get(164, { Id: media.Id, sdpType: 0 });
      // 83762 (3,264,378): RA_Busy, the leg's id, IsLocal.
      else await get(115, { LocalConnectionId: legId, IsLocal: true, ActionIfRinging: 1 });
    } catch (e) {
      // onError (1,435,954): "Invalid connection Id" is not shown.
      const m = /** @type {Error} */ (e).message;
      if (m !== 'Invalid connection Id') G.errors.push({ what: 'hangUp', legId, message: m });
      return m;
    }
    return 'ok';
  };

  // ---- the dialer (routes "call" and "dialer", lazy-loaded: 1,033,572) ----
  /** @type {{el: HTMLElement, input: HTMLInputElement, route: string} | null} */
  let dialer = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let staleTimer;
  const confirm = () => {
    if (!dialer) return;
    const n = dialer.input.value;
    if (!n.trim()) return;
    // The dialer service's makeCall (13499, 1,185,488): call, then setTypedPhone() empties it.
    dialer.input.value = '';
    call(n, 'dialer');
  };
  /** @param {string} phone */
  const show = (phone) => {
    if (!dialer) return;
    clearTimeout(staleTimer);
    if (cfg.staleDialer) {
      // The quirk upstream saw: the dialer shows the previous number first.
      dialer.input.value = G.lastDialerNumber;
      if (cfg.staleDialerMs !== null) staleTimer = setTimeout(() => { if (dialer) dialer.input.value = phone; }, cfg.staleDialerMs);
    } else dialer.input.value = phone;
    dialer.input.focus();
  };
  /** @param {string} routeName @param {string} phone */
  const openDialer = (routeName, phone) => {
    clearTimeout(pending);
    if (dialer && dialer.route === routeName) { if (phone) show(phone); return; } // same component, new query
    closeDialer();
    pending = setTimeout(() => {
      const el = document.createElement('app-standalone-dialer');
      el.id = 'wc-dialer';
      el.setAttribute('role', 'dialog');
      const input = document.createElement('input');
      input.id = 'wc-dialer-input';
      input.type = 'tel';
      input.autocomplete = 'off';
      input.setAttribute('aria-label', 'Phone number');
      const button = document.createElement('button');
      button.id = 'wc-dialer-call';
      button.type = 'button';
      button.textContent = 'Call';
      button.setAttribute('aria-label', 'Call');
      input.addEventListener('keydown', (k) => { if (k.key === 'Enter') { k.preventDefault(); confirm(); } });
      button.addEventListener('click', confirm);
      el.append(input, button);
      document.body.appendChild(el);
      dialer = { el, input, route: routeName };
      show(phone);
    }, cfg.dialerLoadMs);
  };
  const closeDialer = () => {
    clearTimeout(pending);
    clearTimeout(staleTimer);
    if (dialer) dialer.el.remove();
    dialer = null;
  };
  /** Angular's query decoding (2,737,511): "+" is a space. @param {string} s */
  const decodeQuery = (s) => { try { return decodeURIComponent(s.replace(/\+/g, '%20')); } catch { return s; } };
  const route = () => {
    const m = /^#\/(call|dialer)(?:\?(.*))?$/.exec(location.hash);
    if (!m) { closeDialer(); return; }
    /** @type {Record<string, string>} */
    const q = {};
    for (const part of (m[2] || '').split('&')) {
      if (!part) continue;
      const i = part.indexOf('=');
      q[decodeQuery(i < 0 ? part : part.slice(0, i))] = decodeQuery(i < 0 ? '' : part.slice(i + 1));
    }
    // queryPhoneNumber$ (13499, 1,182,226): the first "tel:" is removed; an empty one is ignored.
    const phone = q.phone ? q.phone.replace('tel:', '') : '';
    openDialer(m[1], phone);
  };
  window.addEventListener('hashchange', route);
  // A tel: link reaches the same dialer (the PWA's handler opens #/call?phone=<the tel: URL>).
  document.addEventListener('click', (e) => {
    const t = /** @type {Element | null} */ (e.target);
    const a = t && t.closest && t.closest('a[href^="tel:"]');
    if (!a) return;
    e.preventDefault();
    const hash = '#/call?phone=' + encodeURIComponent(a.getAttribute('href') || '');
    // A launch by the tel: handler is a new navigation even to the same address.
    if (location.hash === hash) { closeDialer(); route(); } else location.hash = hash;
  }, true);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
  else route();

  // ---- for tests: the operator's own hands, and a look at the state ----
  W.__dialByHand = (/** @type {string} */ n) => call(String(n), 'byHand');
  W.__hangUpByHand = (/** @type {number} */ id) => hangUp(Number(id));
  /** As the device picker stores a choice (selectPhoneDevice, 3,461,197). @param {any} v */
  W.__selectDevice = (v) => {
    if (v === null || v === undefined) store.removeItem(deviceKey);
    else if (typeof v === 'object' && v.UserAgent) store.setItem(deviceKey, JSON.stringify({ userAgent: v.UserAgent, ipAddress: ipOf(v.Contact) }));
    else store.setItem(deviceKey, JSON.stringify(v));
  };
  W.__wc = {
    deviceKey,
    devices,
    selected,
    posts: G.posts,
    placed: G.placed,
    errors: G.errors,
    state: () => ({
      status: S.status, initiated: S.initiated, reconnects: G.reconnects, lastDialerNumber: G.lastDialerNumber,
      number: S.myInfo.Number, firstName: S.myInfo.FirstName, lastName: S.myInfo.LastName,
      registrations: S.myInfo.ActiveDevices.Items, calls: S.myInfo.Connections.Items, otherCalls: S.myInfo.OtherConnections.Items,
      webrtc: S.webrtc, dialer: dialer ? { route: dialer.route, value: dialer.input.value } : null,
    }),
  };
  connect();
}

/**
 * @typedef {{id: number, userAgent: string, contact: string, sourceAddress?: string, expiresAt?: Date}} Device
 * @typedef {{key: string, pass: string, ended: null | string, served: boolean}} Session
 * @typedef {{at: number, messageId?: number, name?: string, payload?: Record<string, any> | null,
 *   makeCall?: {destination?: string, useIntercomToSource?: boolean, deviceId?: string, enableCallControl?: boolean},
 *   dropCall?: {localConnectionId?: number, isLocal?: boolean, actionIfRinging?: number},
 *   error?: string, headers: Record<string, unknown>, status: number,
 *   answer?: {messageId: number, name: string, payload: Record<string, any> | null}}} RequestEntry
 */

/** @param {string} ext @returns {Device[]} */
function defaultDevices(ext) {
  const expiresAt = new Date(Date.now() + 3600_000);
  return [
    { id: 1, userAgent: 'Yealink SIP-T46S 66.86.0.15', contact: `sip:${ext}@192.168.1.50:5060;transport=udp`, sourceAddress: '192.168.1.50:5060', expiresAt },
    { id: 2, userAgent: WEBRTC_UA, contact: `sip:${ext}@127.0.0.1:5483;transport=tcp;rinstance=webclient${ext}`, sourceAddress: '127.0.0.1:5483', expiresAt },
    { id: 3, userAgent: '3CX Push Service', contact: `sip:${ext}@push.3cx.invalid:5061;transport=tls`, sourceAddress: '', expiresAt },
  ];
}

/** @param {Device} d @param {number} action @returns {import('./proto').Reg} */
const regItem = (d, action) => ({ action, id: d.id, contact: d.contact, sourceAddress: d.sourceAddress, userAgent: d.userAgent, expiresAt: d.expiresAt });

/** @param {string} s */
const js = (s) => s.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

class Pbx {
  /**
   * @param {{extension?: string, tls?: {key: string, cert: string} | null, host?: string, headScript?: string,
   *   firstName?: string, lastName?: string, sessionKey?: string, pass?: string, addpMs?: number,
   *   registrations?: Device[], connections18?: import('./proto').Leg[], connections20?: import('./proto').Leg[],
   *   selectedDevice?: unknown, dialerLoadMs?: number, staleDialer?: boolean, staleDialerMs?: number | null,
   *   reconnect?: boolean, reconnectMs?: number, answerDelayMs?: number, expiredAnswer?: number | 'logininfo'}} [opts]
   * `tls` serves https (with `host` as the origin's name, mapped to 127.0.0.1 by Chromium's
   * --host-resolver-rules); `headScript` runs in the page before the WebClient's script.
   * The defaults: a desk phone, the WebClient's softphone and a push registration; no stored
   * device (so the WebClient takes the first of its list, the desk phone); ADDP every 10 s.
   */
  constructor({
    extension = '1005', tls = null, host = '127.0.0.1', headScript = '', firstName = 'Erika', lastName = 'Operator',
    sessionKey = 'SESSION-SECRET', pass = 'PASS-SECRET', addpMs = 10_000, registrations, connections18 = [], connections20 = [],
    selectedDevice, dialerLoadMs = 150, staleDialer = false, staleDialerMs = 1000, reconnect = false, reconnectMs = 0,
    answerDelayMs = 0, expiredAnswer = 401,
  } = {}) {
    this.extension = extension;
    this.tls = tls;
    this.host = host;
    this.headScript = headScript;
    this.firstName = firstName;
    this.lastName = lastName;
    this.addpMs = addpMs;
    /** Page options, read when the page is served. */
    this.page = { selectedDevice, dialerLoadMs, staleDialer, staleDialerMs, reconnect, reconnectMs };
    // Knobs, changeable at any time:
    /** false: RequestMakeCall / RequestDropCall are answered with success, and nothing happens */
    this.honourCommands = true;
    /** false: the page's own WebRTC calls (164) are answered with success, and nothing happens */
    this.honourPageDials = true;
    /** true: call control (115-119, 123, 164) is refused: 207 {Success false, ErrorCode 9 NoPermission} */
    this.refuseRequests = false;
    /** @type {number | null} every POST to the endpoint is answered with this HTTP status */
    this.failHttp = null;
    /** ms before each POST is answered (the PBX acts at once; only the answer waits) */
    this.answerDelayMs = answerDelayMs;
    /** @type {number | 'logininfo'} the answer to a POST of an ended session (401, 403, or 200 with LoginInfo {IsAuthenticated false}) */
    this.expiredAnswer = expiredAnswer;
    /** true: no ADDP is sent (the WebClient drops a socket that is silent for 2 x ADDP) */
    this.pauseAddp = false;
    /**
     * How the PBX writes a dialled number in the new leg (a PBX reports it in its own
     * form, e.g. `0891234567` for `+49891234567`). @type {(n: string) => string}
     */
    this.spellNumber = (n) => n;
    /**
     * Called with each request that passed the session check, decoded, and the
     * `performance.now()` taken when its body was read (the benchmark's clock).
     * @type {((r: RequestEntry, at: number) => void) | null}
     */
    this.onRequest = null;
    // What was seen:
    /** @type {RequestEntry[]} every POST to the endpoint that passed the session check, decoded (the session key is not kept) */
    this.requests = [];
    /** @type {Array<{method: string, path: string, status: number, reason: string, headers: Record<string, unknown>}>} refused HTTP requests */
    this.rejected = [];
    /** @type {Array<{binary: boolean, data: Uint8Array | string, decoded?: ReturnType<typeof P.command>}>} what clients wrote on the socket */
    this.socketWrites = [];
    /** @type {string[]} destinations of the page's own WebRTC calls (164 offers) */
    this.pageDials = [];
    /** @type {Set<import('ws').WebSocket>} */
    this.clients = new Set();
    // State:
    /** @type {Map<number, Device>} registrations (field 9) by id */
    this.regs = new Map((registrations || defaultDevices(extension)).map((d) => [d.id, { ...d }]));
    /** @type {Map<number, import('./proto').Leg>} the operator's legs (field 18) by id */
    this.legs = new Map();
    /** @type {Map<number, import('./proto').Leg>} other legs (field 20) by id */
    this.others = new Map();
    for (const l of connections18) if (l.id !== undefined) this.legs.set(l.id, { ...l });
    for (const l of connections20) if (l.id !== undefined) this.others.set(l.id, { ...l });
    /** @type {Map<number, {legId: number, sipDialogId: string}>} the page's WebRTC calls by their CallId */
    this.webrtcCalls = new Map();
    this.nextLeg = 500;
    this.nextCall = 90;
    this.nextWebrtc = 7000;
    this.baseKey = sessionKey;
    this.basePass = pass;
    /** @type {Map<string, Session>} */
    this.sessions = new Map();
    /** @type {Session} */
    this.session = this.newSession();
    /** @type {import('node:http').Server} */
    this.server;
    /** @type {import('ws').WebSocketServer} */
    this.wss;
    this.port = 0;
    this.origin = '';
  }

  /** A new session (the first keeps the base key and pass, which hold SESSION-SECRET / PASS-SECRET). */
  newSession() {
    const n = this.sessions.size + 1;
    /** @type {Session} */
    const s = { key: n === 1 ? this.baseKey : `${this.baseKey}-${n}`, pass: n === 1 ? this.basePass : `${this.basePass}-${n}`, ended: null, served: false };
    this.sessions.set(s.key, s);
    this.session = s;
    return s;
  }

  /** The current session key (for a test's own client; never print it). */
  get sessionKey() { return this.session.key; }

  async start() {
    /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
    const handler = (req, res) => {
      const path = new URL(req.url || '/', 'http://x').pathname;
      if (path.toLowerCase() === ENDPOINT) this.onPost(req, res);
      else if (path === '/webclient/api/MyPhone/session') this.onSessionRequest(req, res);
      else if (path.startsWith('/webclient')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(this.pageHtml());
      } else if (path.startsWith('/other')) {
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
      this.wss.handleUpgrade(req, sock, head, (ws) => this.onClient(ws, req));
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', () => r(undefined)));
    this.port = /** @type {import('node:net').AddressInfo} */ (this.server.address()).port;
    this.origin = `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
    return this;
  }

  pageHtml() {
    // Each page load logs in: a session of its own (the first one keeps the base key).
    if (this.session.ended || this.session.served) this.newSession();
    this.session.served = true;
    /** @type {PageConfig} */
    const cfg = {
      ext: this.extension, key: this.session.key, pass: this.session.pass, addpMs: this.addpMs,
      ...this.page, messages: P.Messages,
    };
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>3CX WebClient (simulated)</title>
${this.headScript ? `<script>${this.headScript}</script>` : ''}
<script>(${webClientMain.toString()})(${js(JSON.stringify(cfg))});</script>
</head><body><h1>WebClient</h1></body></html>`;
  }

  /** @param {import('ws').WebSocket} ws @param {import('node:http').IncomingMessage} req */
  onClient(ws, req) {
    const q = new URL(req.url || '/', 'http://x').searchParams;
    const s = this.sessions.get(q.get('sessionId') || '');
    ws.on('message', (data, isBinary) => {
      const bytes = new Uint8Array(/** @type {Buffer} */ (data));
      this.socketWrites.push(isBinary ? { binary: true, data: bytes, decoded: P.command(bytes) } : { binary: false, data: String(data) });
    });
    if (!s || s.ended || s.pass !== q.get('pass')) {
      // A session the PBX does not know: the channel is cancelled at once.
      ws.send('NOT AUTH');
      ws.close(1000);
      return;
    }
    /** @type {any} */ (ws).session = s;
    this.clients.add(ws);
    const addp = setInterval(() => { if (!this.pauseAddp && ws.readyState === ws.OPEN) ws.send('ADDP'); }, this.addpMs);
    addp.unref();
    ws.on('close', () => { clearInterval(addp); this.clients.delete(ws); });
    ws.send('START');
    // The local PBX's Groups: the WebClient's session is up only once it has them
    // (processMyPhoneMessages, 1,251,334), and no START request asks for them.
    ws.send(P.message(208, { Action: P.Action.FullUpdate, FromLocalPbx: true }));
  }

  /**
   * Ends every live session: their sockets get `kind` and are closed; POSTs with their keys
   * get `expiredAnswer`. A page with `reconnect` asks for a new session.
   * @param {'NOT AUTH' | 'STOP'} [kind]
   */
  endSession(kind = 'NOT AUTH') {
    for (const s of this.sessions.values()) if (!s.ended) s.ended = kind;
    for (const ws of this.clients) {
      ws.send(kind);
      ws.close(1000);
    }
  }

  /** POST /webclient/api/MyPhone/session: a new session, as JSON. @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  onSessionRequest(req, res) {
    req.resume();
    if (req.method !== 'POST') { res.writeHead(405); res.end(); return; }
    const s = this.newSession();
    s.served = true;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sessionKey: s.key, pass: s.pass, version: '20.0.7.1080', addpTimeout: this.addpMs }));
  }

  /** The request's headers, with MyPhoneSession replaced by what it was. @param {import('node:http').IncomingMessage} req */
  seenHeaders(req) {
    /** @type {Record<string, unknown>} */
    const h = { ...req.headers };
    const k = req.headers.myphonesession;
    if (k !== undefined) {
      const s = typeof k === 'string' ? this.sessions.get(k) : undefined;
      h.myphonesession = !s ? '<unknown session>' : s.ended ? '<ended session>' : '<session>';
    }
    return h;
  }

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  onPost(req, res) {
    const headers = this.seenHeaders(req);
    /** @param {number} status @param {string} reason */
    const refuse = (status, reason) => {
      req.resume();
      this.rejected.push({ method: req.method || '', path: req.url || '', status, reason, headers });
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(reason);
    };
    if (req.method !== 'POST') return refuse(405, 'POST only');
    if (this.failHttp) return refuse(this.failHttp, 'failHttp');
    const key = req.headers.myphonesession;
    const s = typeof key === 'string' ? this.sessions.get(key) : undefined;
    if (!s) return refuse(401, 'no session');
    if (s.ended) {
      if (this.expiredAnswer !== 'logininfo') return refuse(this.expiredAnswer, 'session ended');
      // What the WebClient also handles (get, 3,545,246): a LoginInfo that is not authenticated.
      req.resume();
      const body = P.message(200, { IsAuthenticated: false, ValidationMessage: 'Session expired' });
      this.rejected.push({ method: 'POST', path: req.url || '', status: 200, reason: 'session ended (LoginInfo)', headers });
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(body);
      return;
    }
    if ((req.headers['content-type'] || '').split(';')[0].trim().toLowerCase() !== 'application/octet-stream') return refuse(415, 'octet-stream only');
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= 1 << 20) chunks.push(c); });
    req.on('end', () => {
      const readAt = performance.now();
      if (size > 1 << 20) return refuse(413, 'too large');
      const buf = new Uint8Array(Buffer.concat(chunks));
      /** @type {RequestEntry} */
      const entry = { at: Date.now(), headers, status: 200 };
      /** @type {Uint8Array} */
      let out;
      try {
        Object.assign(entry, P.request(buf));
        out = this.handle(entry);
      } catch (e) {
        if (!(e instanceof P.ProtoError)) throw e;
        // protobuf-net throws on a wire-type mismatch: the request fails as a whole.
        entry.error = e.message;
        out = P.message(207, {
          Success: false, ErrorCode: P.ErrorCode.ExceptionOccured, Message: e.message,
          ExceptionType: 'ProtoBuf.ProtoException', ExceptionMessage: e.message, ErrorType: P.ErrorCode.ExceptionOccured,
        });
      }
      entry.answer = P.answer(out);
      this.requests.push(entry);
      if (this.onRequest) this.onRequest(entry, readAt);
      const send = () => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-cache' });
        res.end(out);
      };
      if (this.answerDelayMs > 0) setTimeout(send, this.answerDelayMs);
      else send();
    });
  }

  /**
   * Acts on a decoded request and returns the answer (a GenericMessage).
   * @param {RequestEntry} r @returns {Uint8Array}
   */
  handle(r) {
    const id = /** @type {number} */ (r.messageId);
    const p = r.payload || {};
    const ack = (/** @type {Record<string, any>} */ a) => P.message(207, a);
    const control = [115, 116, 117, 118, 119, 123, 164];
    if (this.refuseRequests && control.includes(id)) {
      return ack({ Success: false, ErrorCode: P.ErrorCode.NoPermission, Message: 'No permission', ErrorType: P.ErrorCode.NoPermission });
    }
    if ((id === 119 || id === 115 || id === 164) && !r.payload) {
      // No payload field: the server would dereference null.
      return ack({ Success: false, ErrorCode: P.ErrorCode.ExceptionOccured, Message: 'Object reference not set to an instance of an object.', ErrorType: P.ErrorCode.ExceptionOccured });
    }
    switch (id) {
      case 102: return this.myInfo();
      case 122: return P.message(210, { VmailDialCode: '999', IntercomDialCode: '*9', IsLastFirst: false, AllowWebrtcEndpoint: true });
      case 131: {
        const now = new Date();
        return P.message(218, { ArrivedAtServerLocalUTCtime: P.dateTime(now), SentAtServerLocalUTCtime: P.dateTime(now), ArrivedAtMSecs: now.getUTCMilliseconds(), SentAtMSecs: now.getUTCMilliseconds() });
      }
      case 163: {
        const w = [...this.regs.values()].find((d) => d.userAgent === WEBRTC_UA);
        return P.message(227, { Action: P.Action.FullUpdate, isWebRTCEnpointRegistered: !!w, DeviceContact: w ? w.contact : undefined, Items: [] });
      }
      case 500: return P.message(244, {});
      case 104: return P.message(202, {});
      case 124: {
        const leg = this.legs.get(p.LocalConnectionId);
        return P.message(214, { ConnectionCapabilities: leg ? (leg.capabilities ?? (P.Caps.Drop | P.Caps.Divert | P.Caps.Transfer)) : P.Caps.None });
      }
      case 119: return this.onMakeCall(p);
      case 115: return this.onDropCall(p);
      case 164: return this.onWebRtc(p);
      default:
        // Other requests of the WebClient's set (100-199, 500-599) get a plain success;
        // anything else is not a request.
        if ((id >= 100 && id < 200) || (id >= 500 && id < 600)) return ack({ Success: true });
        return ack({ Success: false, ErrorCode: P.ErrorCode.NoSuchRequest, Message: 'No such request', ErrorType: P.ErrorCode.NoSuchRequest });
    }
  }

  /** @param {Record<string, any>} p */
  onMakeCall(p) {
    const device = [...this.regs.values()].find((d) => d.contact === p.DeviceID);
    if (!device) return P.message(207, { Success: false, Message: `Device ${p.DeviceID === undefined ? '(none)' : 'not registered'}`, IsCustomMessage: true });
    if (!this.honourCommands) return P.message(261, { Success: true, LocalConnectionId: this.nextLeg++ });
    const { id } = this.startOutbound(p.Destination || '', { deviceContact: device.contact });
    return P.message(261, { Success: true, Message: `Call to ${p.Destination} has been initialized`, LocalConnectionId: id });
  }

  /** @param {Record<string, any>} p */
  onDropCall(p) {
    const id = p.LocalConnectionId;
    // The WebClient does not show this one (onError, 1,435,954).
    if (!this.legs.has(id)) return P.message(207, { Success: false, Message: 'Invalid connection Id' });
    if (this.honourCommands) this.dropLeg(id);
    return P.message(207, { Success: true });
  }

  /** RequestWebRTCChangeSDPState: an offer for a new call, or a terminate. @param {Record<string, any>} p */
  onWebRtc(p) {
    if (p.sdpType === P.SdpType.Offer && !p.Id) {
      const number = p.destinationNumber || '';
      this.pageDials.push(number);
      const callId = this.nextWebrtc++;
      if (this.honourPageDials) {
        const sipDialogId = `sim-${callId}@pbx.test`;
        const w = [...this.regs.values()].find((d) => d.userAgent === WEBRTC_UA);
        const { id } = this.startOutbound(number, { sipDialogId, deviceContact: w ? w.contact : undefined });
        this.webrtcCalls.set(callId, { legId: id, sipDialogId });
        this.webrtcEndpoint({ calls: [{ action: P.Action.Inserted, id: callId, sdpType: P.SdpType.Answer, number, sdp: 'v=0\r\n', sipDialogId }] });
      }
      return P.message(228, { Success: true, CallId: callId });
    }
    if (p.sdpType === P.SdpType.Terminate) {
      const c = this.webrtcCalls.get(p.Id);
      if (!c) return P.message(228, { Success: false, Message: 'Call not found' });
      this.dropLeg(c.legId);
      return P.message(228, { Success: true, CallId: p.Id });
    }
    return P.message(228, { Success: true, CallId: p.Id });
  }

  /** Deletes a leg of list 18 (and its WebRTC call). @param {number} id */
  dropLeg(id) {
    if (!this.legs.has(id)) return;
    this.legs18([{ action: P.Action.Deleted, id }]);
    for (const [callId, c] of this.webrtcCalls) {
      if (c.legId !== id) continue;
      this.webrtcCalls.delete(callId);
      this.webrtcEndpoint({ calls: [{ action: P.Action.Deleted, id: callId }] });
    }
  }

  /**
   * A new outbound leg of the operator (list 18, Dialing).
   * @param {string} number @param {Partial<import('./proto').Leg>} [extra]
   */
  startOutbound(number, extra = {}) {
    const id = this.nextLeg++, callId = this.nextCall++;
    this.legs18([{
      action: P.Action.Inserted, id, callId, legId: 1, state: P.State.Dialing, incoming: false,
      callerId: this.spellNumber(number), dn: this.spellNumber(number),
      ownerDn: this.extension, capabilities: P.Caps.Drop | P.Caps.Divert | P.Caps.Transfer, ...extra,
    }]);
    return { id, callId };
  }

  /** The RequestMyInfo answer: MyExtensionInfo, FullUpdate, with the whole state. */
  myInfo() {
    return P.extensionInfo({
      action: P.Action.FullUpdate, id: 17, number: this.extension, firstName: this.firstName, lastName: this.lastName,
      registrations: { action: P.Action.FullUpdate, items: [...this.regs.values()].map((d) => regItem(d, P.Action.FullUpdate)) },
      list18: { action: P.Action.FullUpdate, items: [...this.legs.values()].map((l) => ({ ...l, action: P.Action.FullUpdate })) },
      list20: { action: P.Action.FullUpdate, items: [...this.others.values()].map((l) => ({ ...l, action: P.Action.FullUpdate })) },
      missed: 0, allowWebrtc: true,
    });
  }

  get connected() { return this.clients.size; }

  /** Sends a frame (Uint8Array) to every WebClient socket. @param {Uint8Array} frame */
  send(frame) {
    for (const ws of this.clients) if (ws.readyState === ws.OPEN) ws.send(frame);
  }

  /** @param {Map<number, import('./proto').Leg>} map @param {import('./proto').Leg[]} items */
  static track(map, items) {
    for (const it of items) {
      if (it.id === undefined) continue;
      if (it.action === P.Action.Deleted) map.delete(it.id);
      else if (it.action === P.Action.Updated && map.has(it.id)) map.set(it.id, { ...map.get(it.id), ...it });
      else map.set(it.id, { ...it });
    }
  }

  /** Shorthand: one delta list in field 18 (the operator's calls). @param {import('./proto').Leg[]} items */
  legs18(items) {
    Pbx.track(this.legs, items);
    this.send(P.extensionInfo({ list18: { action: P.Action.Updated, items } }));
  }

  /** One delta list in field 20 (other calls, e.g. a colleague's; the WebClient never shows them). @param {import('./proto').Leg[]} items */
  legs20(items) {
    Pbx.track(this.others, items);
    this.send(P.extensionInfo({ list20: { action: P.Action.Updated, items } }));
  }

  /**
   * Changes the registrations (field 9) and pushes the change: items with action 2/3/4, or the
   * whole list with `action` FullUpdate.
   * @param {Array<Partial<Device> & {id: number, action?: number}>} items @param {number} [action]
   */
  registrations(items, action = P.Action.Updated) {
    if (action === P.Action.FullUpdate) this.regs.clear();
    for (const it of items) {
      if (it.action === P.Action.Deleted) this.regs.delete(it.id);
      else this.regs.set(it.id, /** @type {Device} */ ({ ...this.regs.get(it.id), ...it }));
    }
    this.send(P.extensionInfo({
      registrations: {
        action,
        items: items.map((it) => ({ action: it.action ?? (action === P.Action.FullUpdate ? P.Action.FullUpdate : P.Action.Inserted), id: it.id, contact: it.contact, sourceAddress: it.sourceAddress, userAgent: it.userAgent, expiresAt: it.expiresAt })),
      },
    }));
  }

  /** Pushes a MyWebRTCEndpoint (227). @param {{action?: number, registered?: boolean, deviceContact?: string, calls?: import('./proto').WebRtcCall[]}} [e] */
  webrtcEndpoint(e = {}) {
    this.send(P.webrtcEndpoint(e));
  }

  /** Deletes every leg the PBX knows of (fields 18 and 20). */
  hangUpAll() {
    const items = [...this.legs.keys()].map((id) => ({ action: P.Action.Deleted, id }));
    if (items.length) this.legs18(items);
    const others = [...this.others.keys()].map((id) => ({ action: P.Action.Deleted, id }));
    if (others.length) this.legs20(others);
    this.webrtcCalls.clear();
  }

  /** Decoded requests of one MessageId. @param {number} id */
  requestsOf(id) { return this.requests.filter((r) => r.messageId === id); }

  async stop() {
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}

module.exports = { Pbx, webClientMain };
