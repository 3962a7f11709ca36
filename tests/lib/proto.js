// A small protobuf writer/reader for the simulated PBX: an independent implementation of
// the wire facts in /work/shared/spec/3cx-webclient.md, checked against the encoders of the
// real WebClient 20.0.7 (Internal.js, character offsets below). Field numbers are repeated
// here on purpose, so that a mistake in the extension's schema is not mirrored by the
// simulator.
//
// Messages are described by schemas ({field: [Name, type, repeated?]}); `write` encodes an
// object with those names, `decode` reads one STRICTLY: a known field with the wrong wire
// type throws a ProtoError, as protobuf-net (the PBX's serializer) throws on a wire-type
// mismatch; unknown fields are skipped, as protobuf-net and protobufjs both do.
'use strict';

/** @typedef {number[]} Bytes */
/**
 * A LocalConnection (a leg) in the simulator's short names; `dn` is OtherPartyDn.
 * @typedef {{action?: number, id?: number, callId?: number, legId?: number, state?: number,
 *   name?: string, callerId?: string, incoming?: boolean, dn?: string, ownerDn?: string,
 *   originatorDn?: string, capabilities?: number, deviceContact?: string, sipDialogId?: string,
 *   directControl?: boolean}} Leg
 */
/** @typedef {{action: number, items: Leg[]}} LegList */
/**
 * A Registration (field 9 of MyExtensionInfo) in short names.
 * @typedef {{action?: number, id?: number, contact?: string, sourceAddress?: string, userAgent?: string, expiresAt?: Date}} Reg
 */
/** @typedef {{action: number, items: Reg[]}} RegList */
/**
 * A WebRTCCall (in MyWebRTCEndpoint, 227) in short names.
 * @typedef {{action?: number, id?: number, sdpType?: number, name?: string, number?: string,
 *   transactionId?: number, sdp?: string, sipDialogId?: string, holdState?: number}} WebRtcCall
 */
/** @typedef {'int32' | 'int64' | 'bool' | 'string' | 'bytes' | Schema} FieldType */
/** @typedef {{[field: number]: [string, FieldType, boolean?]}} Schema */

const State = { Unknown: 0, Ringing: 1, Dialing: 2, Connected: 3, WaitingForNewParty: 4, TryingToTransfer: 5 };
const Action = { NoUpdates: 0, FullUpdate: 1, Inserted: 2, Updated: 3, Deleted: 4 };
/** ErrorCodes (Internal.js 23,223 ff., module 1211): the ones the simulator answers with. */
const ErrorCode = { Success: 0, NoSuchRequest: 1, ExceptionOccured: 2, RequestIsNotSupported: 3, NoPermission: 9 };
/** RejectAction (Internal.js, near RequestDropCall 410,898). */
const RejectAction = { Terminate: 0, Busy: 1, NoAnswer: 2 };
/** WebRTCEndpointSDPState (Internal.js, after MyWebRTCEndpoint 523,898). */
const SdpType = { Terminate: 0, Offer: 1, Answer: 2, Confirm: 3, RequestForOffer: 4, Reject: 5, Initial: 10 };
/** ConnectionCapabilities (Internal.js, after LocalConnectionState): a bit mask. */
const Caps = { None: 0, Drop: 1, Divert: 2, Transfer: 4, Pickup: 8, BargeIn: 16, Quality: 32 };

// ---- schemas (from the encoders in Internal.js; offsets of the spec and of this reading) ----

/** @type {Schema} DateTime, 53,012 */
const DateTime = { 1: ['Year', 'int32'], 2: ['Month', 'int32'], 3: ['Day', 'int32'], 4: ['Hour', 'int32'], 5: ['Minute', 'int32'], 6: ['Second', 'int32'] };
/** @type {Schema} Registration, 83,116 */
const Registration = { 1: ['Action', 'int32'], 2: ['Id', 'int32'], 3: ['Contact', 'string'], 4: ['SourceAddress', 'string'], 5: ['UserAgent', 'string'], 6: ['ExpiresAt', DateTime] };
/** @type {Schema} Registrations, 85,466 */
const Registrations = { 1: ['Action', 'int32'], 2: ['Items', Registration, true] };
/** @type {Schema} LocalConnection, 124,196 (the fields the simulator writes or reads) */
const LocalConnection = {
  1: ['Action', 'int32'], 2: ['Id', 'int32'], 3: ['CallId', 'int32'], 4: ['LegId', 'int32'], 5: ['State', 'int32'],
  6: ['OriginatorType', 'int32'], 7: ['OriginatorDn', 'string'], 8: ['OriginatorName', 'string'],
  9: ['OtherPartyType', 'int32'], 10: ['OtherPartyDisplayName', 'string'], 11: ['OtherPartyCallerId', 'string'],
  12: ['IsIncoming', 'bool'], 13: ['StartedAt', DateTime], 14: ['AnsweredAt', DateTime],
  15: ['OwnerType', 'int32'], 16: ['OwnerDn', 'string'], 17: ['OwnerDisplayName', 'string'],
  19: ['CallCapabilitiesMask', 'int32'], 22: ['OtherPartyDn', 'string'], 25: ['DeviceContact', 'string'],
  26: ['Recording', 'bool'], 29: ['DeviceDirectControl', 'bool'], 32: ['SIPDialogID', 'string'],
};
/** @type {Schema} LocalConnections, 133,940 */
const LocalConnections = { 1: ['Action', 'int32'], 2: ['Items', LocalConnection, true] };
/** @type {Schema} MyExtensionInfo, 152,305 (decoder: 1..47; these are the ones written) */
const MyExtensionInfo = {
  1: ['Action', 'int32'], 2: ['Id', 'int32'], 3: ['Number', 'string'], 4: ['MobileNumber', 'string'], 5: ['Email', 'string'],
  7: ['FirstName', 'string'], 8: ['LastName', 'string'], 9: ['ActiveDevices', Registrations], 14: ['DND', 'bool'],
  18: ['Connections', LocalConnections], 20: ['OtherConnections', LocalConnections], 24: ['MissedCallsCount', 'int32'],
  44: ['AllowWebrtcEndpoint', 'bool'],
};
/** @type {Schema} WebRTCCall, 527,436 */
const WebRTCCall = {
  1: ['Action', 'int32'], 2: ['Id', 'int32'], 3: ['sdpType', 'int32'], 4: ['otherPartyDisplayname', 'string'],
  5: ['otherPartyNumber', 'string'], 6: ['transactionId', 'int32'], 7: ['sdp', 'string'], 8: ['SIPDialogID', 'string'], 9: ['holdState', 'int32'],
};
/** @type {Schema} MyWebRTCEndpoint, 523,898 */
const MyWebRTCEndpoint = { 1: ['Action', 'int32'], 2: ['Items', WebRTCCall, true], 3: ['isWebRTCEnpointRegistered', 'bool'], 4: ['DeviceContact', 'string'] };
/** @type {Schema} ResponseAcknowledge, 313,419 (7 Parameters is missing from the spec's table) */
const ResponseAcknowledge = {
  1: ['Success', 'bool'], 2: ['ErrorCode', 'int32'], 3: ['Message', 'string'], 4: ['ExceptionType', 'string'],
  5: ['ExceptionMessage', 'string'], 6: ['ErrorType', 'int32'], 7: ['Parameters', 'string', true], 8: ['IsCustomMessage', 'bool'],
};
/** @type {Schema} ResponseCallControl, 412,901 */
const ResponseCallControl = { 1: ['Success', 'bool'], 2: ['Message', 'string'], 3: ['LocalConnectionId', 'int32'] };
/** @type {Schema} RequestMakeCall, 423,867 */
const RequestMakeCall = { 1: ['Destination', 'string'], 2: ['UseIntercomToSource', 'bool'], 3: ['DeviceID', 'string'], 4: ['EnableCallControl', 'bool'] };
/** @type {Schema} RequestDropCall, 410,898 */
const RequestDropCall = { 1: ['LocalConnectionId', 'int32'], 2: ['IsLocal', 'bool'], 3: ['ActionIfRinging', 'int32'] };
/** @type {Schema} RequestDivertCall, 417,433 */
const RequestDivertCall = { 1: ['LocalConnectionId', 'int32'], 2: ['IsLocal', 'bool'], 3: ['Destination', 'string'], 4: ['vmail', 'bool'] };
/** @type {Schema} RequestPickupCall, 419,638 */
const RequestPickupCall = { 1: ['LocalConnectionId', 'int32'], 2: ['IsLocal', 'bool'], 3: ['DeviceID', 'string'], 4: ['EnableCallControl', 'bool'] };
/** @type {Schema} RequestTransferCall, 421,879 */
const RequestTransferCall = { 1: ['LocalConnectionId', 'int32'], 2: ['IsLocal', 'bool'], 3: ['Destination', 'string'] };
/** @type {Schema} RequestConnectionAccessRights (124), 481,351 */
const RequestConnectionAccessRights = { 1: ['LocalConnectionId', 'int32'] };
/** @type {Schema} ResponseConnectionAccessRights (214), 482,769 */
const ResponseConnectionAccessRights = { 1: ['ConnectionCapabilities', 'int32'] };
/** @type {Schema} RequestRegisterWebRTCEndpoint (163), 537,511 */
const RequestRegisterWebRTCEndpoint = { 1: ['register', 'bool'], 2: ['NeedsRegistration', 'bool'] };
/** @type {Schema} RequestWebRTCChangeSDPState (164), 530,470 */
const RequestWebRTCChangeSDPState = {
  1: ['Id', 'int32'], 2: ['sdpType', 'int32'], 3: ['transactionId', 'int32'], 4: ['sdp', 'string'], 5: ['destinationNumber', 'string'],
  6: ['CallerDisplayName', 'string'], 7: ['CallerID', 'string'], 8: ['replaceConnectionId', 'int32'], 9: ['sipRejectCode', 'int32'],
};
/** @type {Schema} ResponseWebRTCChangeSDPState (228), 533,899 */
const ResponseWebRTCChangeSDPState = { 1: ['Success', 'bool'], 2: ['Message', 'string'], 3: ['CallId', 'int32'] };
/** @type {Schema} RequestLookupContact (104), 233,077 */
const RequestLookupContact = {
  1: ['Input', 'string'], 2: ['Offset', 'int32'], 3: ['Count', 'int32'], 4: ['ExtIncluded', 'bool'], 5: ['SortBy', 'int32'],
  6: ['MustHaveEmail', 'bool'], 7: ['SearchBy', 'int32'], 8: ['SearchBridge', 'bool'], 9: ['SearchCompany', 'bool'],
  10: ['SearchPersonal', 'bool'], 11: ['SysExtsMask', 'int32'], 12: ['MustHaveMobile', 'bool'], 13: ['IncludeCompanyOptions', 'int32'],
  14: ['IncludePersonalOptions', 'int32'],
};
/** @type {Schema} Groups (208), 109,558 (Items not modelled) */
const Groups = { 1: ['Action', 'int32'], 3: ['FromLocalPbx', 'bool'], 4: ['RemotePbx', 'string'] };
/** @type {Schema} ResponseSystemParameters (210), 437,990 (a few fields) */
const ResponseSystemParameters = { 1: ['VmailDialCode', 'string'], 2: ['IntercomDialCode', 'string'], 12: ['IsLastFirst', 'bool'], 19: ['AllowWebrtcEndpoint', 'bool'] };
/** @type {Schema} ResponseServerTime (218), 496,954 */
const ResponseServerTime = { 1: ['ArrivedAtServerLocalUTCtime', DateTime], 2: ['SentAtServerLocalUTCtime', DateTime], 3: ['ArrivedAtMSecs', 'int32'], 4: ['SentAtMSecs', 'int32'] };
/** @type {Schema} LoginInfo (200), 46,243 (the first fields) */
const LoginInfo = { 1: ['ExtensionId', 'int32'], 2: ['IsAuthenticated', 'bool'], 3: ['ValidationMessage', 'string'], 4: ['Nonce', 'string'], 5: ['SessionId', 'string'], 6: ['AddpTimeout', 'int32'] };
/** @type {Schema} */
const Empty = {};

/**
 * MessageId -> [name, payload schema] (typeId/typeName pairs of Internal.js, module 1211).
 * GenericMessage: field 1 MessageId, the payload in the field of the same number.
 * @type {Record<number, [string, Schema]>}
 */
const Messages = {
  102: ['RequestMyInfo', Empty], 104: ['RequestLookupContact', RequestLookupContact], 115: ['RequestDropCall', RequestDropCall],
  116: ['RequestDivertCall', RequestDivertCall], 117: ['RequestPickupCall', RequestPickupCall], 118: ['RequestTransferCall', RequestTransferCall],
  119: ['RequestMakeCall', RequestMakeCall], 122: ['RequestGetSystemParameters', Empty], 124: ['RequestConnectionAccessRights', RequestConnectionAccessRights],
  131: ['RequestServerTime', Empty], 163: ['RequestRegisterWebRTCEndpoint', RequestRegisterWebRTCEndpoint],
  164: ['RequestWebRTCChangeSDPState', RequestWebRTCChangeSDPState], 500: ['RequestAvailableProviders', Empty],
  200: ['LoginInfo', LoginInfo], 201: ['MyExtensionInfo', MyExtensionInfo], 202: ['ResponseLookup', Empty],
  207: ['ResponseAcknowledge', ResponseAcknowledge], 208: ['Groups', Groups], 210: ['ResponseSystemParameters', ResponseSystemParameters],
  214: ['ResponseConnectionAccessRights', ResponseConnectionAccessRights], 218: ['ResponseServerTime', ResponseServerTime],
  227: ['MyWebRTCEndpoint', MyWebRTCEndpoint], 228: ['ResponseWebRTCChangeSDPState', ResponseWebRTCChangeSDPState],
  244: ['ResponseAvailableProviders', Empty], 261: ['ResponseCallControl', ResponseCallControl],
};

// ---- writing ----

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
/** @param {number} field @param {number | bigint} n @param {Bytes} out */
function intField(field, n, out) { key(field, 0, out); varint(n, out); }

/** A Date as the PBX's DateTime message (UTC). @param {Date} d */
function dateTime(d) {
  return { Year: d.getUTCFullYear(), Month: d.getUTCMonth() + 1, Day: d.getUTCDate(), Hour: d.getUTCHours(), Minute: d.getUTCMinutes(), Second: d.getUTCSeconds() };
}

/**
 * Encodes `obj` (keys: the schema's names) in field order, as protobufjs does; undefined and
 * null are left out, false and 0 are written (protobufjs writes what is set).
 * @param {Schema} schema @param {Record<string, any>} obj @returns {Bytes}
 */
function write(schema, obj) {
  /** @type {Bytes} */
  const out = [];
  for (const f of Object.keys(schema).map(Number).sort((a, b) => a - b)) {
    const [name, type, repeated] = schema[f];
    const v = obj[name];
    if (v === undefined || v === null) continue;
    for (const one of repeated ? v : [v]) {
      if (type === 'string') stringField(f, one, out);
      else if (type === 'bytes') bytesField(f, one, out);
      else if (type === 'bool') intField(f, one ? 1 : 0, out);
      else if (type === 'int32' || type === 'int64') intField(f, one, out);
      else bytesField(f, write(type, one), out);
    }
  }
  return out;
}

/**
 * A GenericMessage {1 MessageId, <id> payload}; `payload` is an object for the known schema
 * of that id, or raw bytes.
 * @param {number} id @param {Record<string, any> | ArrayLike<number> & Iterable<number>} [payload]
 */
function message(id, payload = {}) {
  /** @type {Bytes} */
  const msg = [];
  intField(1, id, msg);
  const body = ArrayBuffer.isView(payload) || Array.isArray(payload)
    ? /** @type {ArrayLike<number> & Iterable<number>} */ (payload)
    : write(Messages[id] ? Messages[id][1] : Empty, /** @type {Record<string, any>} */ (payload));
  bytesField(id, body, msg);
  return Uint8Array.from(msg);
}

/**
 * Raw fields, for malformed messages in tests: [[field, 'varint' | 'string' | 'bytes', value], …].
 * @param {Array<[number, 'varint' | 'string' | 'bytes', any]>} list
 */
function raw(list) {
  /** @type {Bytes} */
  const out = [];
  for (const [f, kind, v] of list) {
    if (kind === 'varint') intField(f, typeof v === 'boolean' ? (v ? 1 : 0) : v, out);
    else if (kind === 'string') stringField(f, v, out);
    else bytesField(f, v, out);
  }
  return Uint8Array.from(out);
}

/** @param {Leg} c */
function legObject(c) {
  return {
    Action: c.action, Id: c.id, CallId: c.callId, LegId: c.legId, State: c.state, OriginatorDn: c.originatorDn,
    OtherPartyDisplayName: c.name, OtherPartyCallerId: c.callerId, IsIncoming: c.incoming, OwnerDn: c.ownerDn,
    CallCapabilitiesMask: c.capabilities, OtherPartyDn: c.dn, DeviceContact: c.deviceContact,
    DeviceDirectControl: c.directControl, SIPDialogID: c.sipDialogId,
  };
}

/** @param {Reg} r */
function regObject(r) {
  return { Action: r.action, Id: r.id, Contact: r.contact, SourceAddress: r.sourceAddress, UserAgent: r.userAgent, ExpiresAt: r.expiresAt && dateTime(r.expiresAt) };
}

/** @param {LegList | undefined} l */
const legList = (l) => l && { Action: l.action, Items: l.items.map(legObject) };

/**
 * A MyExtensionInfo frame (201). A push from the PBX has Action Updated (3), the default: the
 * WebClient merges a MyExtensionInfo only after one with Action FullUpdate (join, Internal.js
 * 1,253,542) and then only when its Action is FullUpdate or Updated (Merge, 3,035,286: an
 * Inserted or Deleted top-level Action is ignored, none at all replaces the lists).
 * @param {{action?: number | null, id?: number, number?: string, firstName?: string, lastName?: string,
 *   registrations?: RegList, list18?: LegList, list20?: LegList, dnd?: boolean, missed?: number, allowWebrtc?: boolean}} [frame]
 */
function extensionInfo({ action = Action.Updated, id, number, firstName, lastName, registrations, list18, list20, dnd, missed, allowWebrtc } = {}) {
  return message(201, {
    Action: action === null ? undefined : action, Id: id, Number: number, FirstName: firstName, LastName: lastName,
    ActiveDevices: registrations && { Action: registrations.action, Items: registrations.items.map(regObject) },
    // DND: a field the extension's call tracking does not need (skipped by a reader).
    DND: dnd === undefined ? false : dnd,
    Connections: legList(list18), OtherConnections: legList(list20), MissedCallsCount: missed, AllowWebrtcEndpoint: allowWebrtc,
  });
}

/**
 * A MyWebRTCEndpoint frame (227).
 * @param {{action?: number, registered?: boolean, deviceContact?: string, calls?: WebRtcCall[]}} [e]
 */
function webrtcEndpoint({ action = Action.Updated, registered, deviceContact, calls = [] } = {}) {
  return message(227, {
    Action: action, isWebRTCEnpointRegistered: registered, DeviceContact: deviceContact,
    Items: calls.map((c) => ({
      Action: c.action, Id: c.id, sdpType: c.sdpType, otherPartyDisplayname: c.name, otherPartyNumber: c.number,
      transactionId: c.transactionId, sdp: c.sdp, SIPDialogID: c.sipDialogId, holdState: c.holdState,
    })),
  });
}

/** A frame of another MessageId (227: WebRTC SDP) with an opaque payload. @param {number} id @param {number} len */
function otherFrame(id, len) {
  return message(id, Array.from({ length: len }, (_, i) => i % 251));
}

/** RequestMakeCall (119) as the WebClient writes it. @param {{destination?: string, useIntercomToSource?: boolean, deviceId?: string, enableCallControl?: boolean}} r */
function makeCall(r) {
  return message(119, { Destination: r.destination, UseIntercomToSource: r.useIntercomToSource, DeviceID: r.deviceId, EnableCallControl: r.enableCallControl });
}

/** RequestDropCall (115). @param {{localConnectionId?: number, isLocal?: boolean, actionIfRinging?: number}} r */
function dropCall(r) {
  return message(115, { LocalConnectionId: r.localConnectionId, IsLocal: r.isLocal, ActionIfRinging: r.actionIfRinging });
}

// ---- reading ----

class ProtoError extends Error {
  /** @param {string} msg @param {number} [wire] */
  constructor(msg, wire) {
    super(msg);
    this.name = 'ProtoError';
    this.wire = wire;
  }
}

const WIRE_NAMES = ['Varint', 'Fixed64', 'String', 'StartGroup', 'EndGroup', 'Fixed32'];

/** @param {Uint8Array} buf @param {number} pos @returns {[bigint, number]} */
function readVarint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
    if (shift > 63n) throw new ProtoError('varint too long');
  }
}

/**
 * One field at `pos`: [field, wire, value, next position]; varints as BigInt, others as bytes.
 * @param {Uint8Array} buf @param {number} pos @returns {[number, number, bigint | Uint8Array, number]}
 */
function readField(buf, pos) {
  let k;
  [k, pos] = readVarint(buf, pos);
  const field = Number(k >> 3n), wire = Number(k & 7n);
  if (field === 0) throw new ProtoError('invalid field number 0');
  if (wire === 0) { const [v, p] = readVarint(buf, pos); return [field, wire, v, p]; }
  if (wire === 2) {
    const [len, p] = readVarint(buf, pos);
    if (p + Number(len) > buf.length) throw new ProtoError('unexpected end of stream');
    return [field, wire, buf.subarray(p, p + Number(len)), p + Number(len)];
  }
  const n = wire === 1 ? 8 : wire === 5 ? 4 : -1;
  if (n < 0) throw new ProtoError(`unsupported wire type ${wire}`, wire);
  if (pos + n > buf.length) throw new ProtoError('unexpected end of stream');
  return [field, wire, buf.subarray(pos, pos + n), pos + n];
}

/**
 * Decodes a message into {field: [values]} (varints as Numbers, bytes as Uint8Array), without
 * a schema.
 * @param {Uint8Array} buf @returns {Record<number, any[]>}
 */
function fields(buf) {
  /** @type {Record<number, any[]>} */
  const out = {};
  let pos = 0;
  while (pos < buf.length) {
    const [field, wire, v, next] = readField(buf, pos);
    pos = next;
    const val = wire === 0 ? Number(BigInt.asIntN(64, /** @type {bigint} */ (v))) : v;
    (out[field] = out[field] || []).push(val);
  }
  return out;
}

/**
 * Decodes `buf` by `schema`, strictly: a known field with another wire type throws a
 * ProtoError worded as protobuf-net's ("Invalid wire-type (Varint); …"). Repeated fields are
 * always present (as arrays); others only when on the wire.
 * @param {Uint8Array} buf @param {Schema} schema @returns {Record<string, any>}
 */
function decode(buf, schema) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [name, , repeated] of Object.values(schema)) if (repeated) out[name] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [field, wire, v, next] = readField(buf, pos);
    pos = next;
    const spec = schema[field];
    if (!spec) continue; // unknown: skipped
    const [name, type, repeated] = spec;
    const want = type === 'int32' || type === 'int64' || type === 'bool' ? 0 : 2;
    if (wire !== want) {
      throw new ProtoError(`Invalid wire-type (${WIRE_NAMES[wire]}); this usually means you have over-written a file without truncating or setting the length; see https://stackoverflow.com/q/2152978/23354`, wire);
    }
    let val;
    if (type === 'int32') val = Number(BigInt.asIntN(32, /** @type {bigint} */ (v)));
    else if (type === 'int64') val = Number(BigInt.asIntN(64, /** @type {bigint} */ (v)));
    else if (type === 'bool') val = /** @type {bigint} */ (v) !== 0n;
    else if (type === 'string') val = Buffer.from(/** @type {Uint8Array} */ (v)).toString('utf8');
    else if (type === 'bytes') val = Uint8Array.from(/** @type {Uint8Array} */ (v));
    else val = decode(/** @type {Uint8Array} */ (v), type);
    if (repeated) out[name].push(val);
    else out[name] = val;
  }
  return out;
}

/**
 * Decodes a GenericMessage strictly: {messageId, name, payload}. Field 1 must be a varint and
 * every other field a length-delimited payload (all of them are messages); the payload of a
 * known MessageId is decoded by its schema, an unknown one is kept raw.
 * @param {Uint8Array} buf
 * @returns {{messageId: number, name: string, payload: Record<string, any> | null, raw: Uint8Array | null}}
 */
function generic(buf) {
  /** @type {Record<string, any>} */
  const top = decode(buf, new Proxy(/** @type {Schema} */ ({}), {
    get: (_, p) => (p === '1' ? ['MessageId', 'int32'] : /^\d+$/.test(String(p)) ? [String(p), 'bytes'] : undefined),
  }));
  const messageId = top.MessageId;
  if (messageId === undefined) throw new ProtoError('no MessageId');
  const body = top[String(messageId)];
  const known = Messages[messageId];
  return {
    messageId,
    name: known ? known[0] : `Message${messageId}`,
    payload: body && known ? decode(body, known[1]) : null,
    raw: body || null,
  };
}

/**
 * The simulator's view of a request: {messageId, name, payload, makeCall?, dropCall?}, strict
 * (throws ProtoError). `makeCall` and `dropCall` keep the short names the tests used before.
 * @param {Uint8Array} buf
 */
function request(buf) {
  const g = generic(buf);
  /** @type {{messageId: number, name: string, payload: Record<string, any> | null,
   *   makeCall?: {destination?: string, useIntercomToSource?: boolean, deviceId?: string, enableCallControl?: boolean},
   *   dropCall?: {localConnectionId?: number, isLocal?: boolean, actionIfRinging?: number}}} */
  const r = { messageId: g.messageId, name: g.name, payload: g.payload };
  const p = g.payload;
  if (g.messageId === 119 && p) r.makeCall = { destination: p.Destination, useIntercomToSource: p.UseIntercomToSource, deviceId: p.DeviceID, enableCallControl: p.EnableCallControl };
  if (g.messageId === 115 && p) r.dropCall = { localConnectionId: p.LocalConnectionId, isLocal: p.IsLocal, actionIfRinging: p.ActionIfRinging };
  return r;
}

/**
 * A frame a client wrote on the socket (which the PBX ignores), read leniently:
 * {messageId, makeCall?, dropCall?, error?}.
 * @param {Uint8Array} buf
 */
function command(buf) {
  try {
    return request(buf);
  } catch (e) {
    return { messageId: undefined, error: String(/** @type {Error} */ (e).message) };
  }
}

/**
 * Reads an answer or a push (a GenericMessage) for tests: {messageId, name, payload}.
 * @param {Uint8Array} buf
 */
function answer(buf) {
  const g = generic(buf);
  return { messageId: g.messageId, name: g.name, payload: g.payload };
}

module.exports = {
  // writers
  message, raw, extensionInfo, webrtcEndpoint, otherFrame, makeCall, dropCall, write, dateTime,
  // readers
  fields, decode, generic, request, command, answer, ProtoError,
  // schemas and enums
  Messages, Schemas: {
    DateTime, Registration, Registrations, LocalConnection, LocalConnections, MyExtensionInfo, WebRTCCall, MyWebRTCEndpoint,
    ResponseAcknowledge, ResponseCallControl, RequestMakeCall, RequestDropCall, RequestDivertCall, RequestPickupCall,
    RequestTransferCall, RequestConnectionAccessRights, ResponseConnectionAccessRights, RequestRegisterWebRTCEndpoint,
    RequestWebRTCChangeSDPState, ResponseWebRTCChangeSDPState, RequestLookupContact, Groups, ResponseSystemParameters,
    ResponseServerTime, LoginInfo,
  },
  State, Action, ErrorCode, RejectAction, SdpType, Caps,
};
