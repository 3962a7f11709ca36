// A small protobuf writer/reader for the simulated PBX: an independent implementation of
// the wire facts in spec/3cx-webclient.md (field numbers repeated here on purpose, so a
// mistake in the extension's schema is not mirrored by the simulator).
'use strict';

/** @typedef {number[]} Bytes */
/** @typedef {{action?: number, id?: number, callId?: number, state?: number, name?: string, callerId?: string, incoming?: boolean, dn?: string}} Leg */
/** @typedef {{action: number, items: Leg[]}} LegList */

/** @param {number | bigint} n @param {Bytes} out */
function varint(n, out) {
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}

/** @param {number} field @param {number} wire @param {Bytes} out */
function key(field, wire, out) { varint((field << 3) | wire, out); }

/** @param {number} field @param {ArrayLike<number> & Iterable<number>} body @param {Bytes} out */
function bytesField(field, body, out) {
  key(field, 2, out);
  varint(body.length, out);
  for (const b of body) out.push(b);
}

/** @param {number} field @param {unknown} s @param {Bytes} out */
function stringField(field, s, out) { bytesField(field, [...Buffer.from(String(s), 'utf8')], out); }
/** @param {number} field @param {number} n @param {Bytes} out */
function intField(field, n, out) { key(field, 0, out); varint(n, out); }

/** LocalConnection: {action, id, callId, state, name, callerId, incoming, dn} @param {Leg} c */
function localConnection(c) {
  /** @type {Bytes} */
  const out = [];
  if (c.action !== undefined) intField(1, c.action, out);
  if (c.id !== undefined) intField(2, c.id, out);
  if (c.callId !== undefined) intField(3, c.callId, out);
  if (c.state !== undefined) intField(5, c.state, out);
  if (c.name !== undefined) stringField(10, c.name, out);
  if (c.callerId !== undefined) stringField(11, c.callerId, out);
  if (c.incoming !== undefined) intField(12, c.incoming ? 1 : 0, out);
  if (c.dn !== undefined) stringField(22, c.dn, out);
  return out;
}

/** @param {number} action @param {Leg[]} items */
function connections(action, items) {
  /** @type {Bytes} */
  const out = [];
  intField(1, action, out);
  for (const it of items) bytesField(2, localConnection(it), out);
  return out;
}

/**
 * MyExtensionInfo frame: {number, list18: {action, items}, list20: {action, items}}
 * @param {{number?: string, list18?: LegList, list20?: LegList}} [frame]
 */
function extensionInfo({ number, list18, list20 } = {}) {
  /** @type {Bytes} */
  const info = [];
  if (number !== undefined) stringField(3, number, info);
  intField(7, 1, info); // a presence-like field the extension does not know
  if (list18) bytesField(18, connections(list18.action, list18.items), info);
  if (list20) bytesField(20, connections(list20.action, list20.items), info);
  /** @type {Bytes} */
  const msg = [];
  intField(1, 201, msg);
  bytesField(201, info, msg);
  return Uint8Array.from(msg);
}

/** A frame of another MessageId (227: WebRTC SDP) with an opaque payload. @param {number} id @param {number} len */
function otherFrame(id, len) {
  /** @type {Bytes} */
  const msg = [];
  intField(1, id, msg);
  bytesField(id, Array.from({ length: len }, (_, i) => i % 251), msg);
  return Uint8Array.from(msg);
}

/** @param {Uint8Array} buf @param {number} pos @returns {[bigint, number]} */
function readVarint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
  }
}

/**
 * Decodes a message into {field: [values]} (varints as Numbers, bytes as Uint8Array).
 * @param {Uint8Array} buf @returns {Record<number, any[]>}
 */
function fields(buf) {
  /** @type {Record<number, any[]>} */
  const out = {};
  let pos = 0;
  while (pos < buf.length) {
    let k;
    [k, pos] = readVarint(buf, pos);
    const field = Number(k >> 3n), wire = Number(k & 7n);
    /** @type {any} */
    let val;
    if (wire === 0) { [val, pos] = readVarint(buf, pos); val = Number(BigInt.asIntN(64, val)); }
    else if (wire === 2) { /** @type {bigint} */ let len; [len, pos] = readVarint(buf, pos); val = buf.subarray(pos, pos + Number(len)); pos += Number(len); }
    else if (wire === 1) { val = buf.subarray(pos, pos + 8); pos += 8; }
    else if (wire === 5) { val = buf.subarray(pos, pos + 4); pos += 4; }
    else throw new Error('unsupported wire type ' + wire);
    (out[field] = out[field] || []).push(val);
  }
  return out;
}

/**
 * Reads a command frame the extension sent: {messageId, makeCall?, dropCall?}.
 * @param {Uint8Array} buf
 * @returns {{messageId: number, makeCall?: {destination?: string, enableCallControl?: boolean}, dropCall?: {localConnectionId?: number, isLocal?: boolean, actionIfRinging?: number}}}
 */
function command(buf) {
  const f = fields(buf);
  const messageId = f[1] && f[1][0];
  /** @type {ReturnType<typeof command>} */
  const r = { messageId };
  if (messageId === 119 && f[119]) {
    const m = fields(f[119][0]);
    r.makeCall = { destination: m[1] ? Buffer.from(m[1][0]).toString() : undefined, enableCallControl: m[3] ? !!m[3][0] : undefined };
  }
  if (messageId === 115 && f[115]) {
    const m = fields(f[115][0]);
    r.dropCall = { localConnectionId: m[1] && m[1][0], isLocal: m[2] ? !!m[2][0] : undefined, actionIfRinging: m[3] && m[3][0] };
  }
  return r;
}

const State = { Unknown: 0, Ringing: 1, Dialing: 2, Connected: 3, WaitingForNewParty: 4, TryingToTransfer: 5 };
const Action = { NoUpdates: 0, FullUpdate: 1, Inserted: 2, Updated: 3, Deleted: 4 };

module.exports = { extensionInfo, otherFrame, command, fields, State, Action };
