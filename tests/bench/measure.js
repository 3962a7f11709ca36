// What the benchmark measures with: a ledger of the CALL_EVENTs the simulated PBX's frames
// should cause, stamped on one clock. The PBX's send time and the connector's receipt time
// are both `performance.now()` in this Node process, so no clock offset and no ms rounding
// enters the figures (the event's own `ts` is only used for the secondary hop split).
'use strict';
const proto = require('../lib/proto');

/** Nearest-rank percentile of an ascending list. @param {number[]} sorted @param {number} p */
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

/** @param {number[]} values @returns {{n: number, median: number, p99: number, max: number}} */
function summary(values) {
  const s = values.slice().sort((a, b) => a - b);
  return { n: s.length, median: pct(s, 0.5), p99: pct(s, 0.99), max: s.length ? s[s.length - 1] : NaN };
}

/** @param {number} ms */
const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(2) : String(ms));

// A made-up number; the extension logs it masked, the benchmark never prints it.
const NUMBER = '+49891234567';
/** A leg inserted ringing (inbound): the connector sees `offered`. @param {number} leg @param {number} call */
const ring = (leg, call) => proto.extensionInfo({ list18: { action: 3, items: [{ action: 2, id: leg, callId: call, state: 1, incoming: true, callerId: NUMBER }] } });
/** The leg answered: `connected`. @param {number} leg */
const answer = (leg) => proto.extensionInfo({ list18: { action: 3, items: [{ action: 3, id: leg, state: 3 }] } });
/** The leg deleted: `ended`. @param {number} leg */
const hangUp = (leg) => proto.extensionInfo({ list18: { action: 3, items: [{ action: 4, id: leg }] } });

/** @typedef {{idx: number, sentAt: number, gotAt?: number, resolve?: (at: number) => void}} Entry */

class Ledger {
  /** @param {import('../lib/connector').Connector | null} conn the connector it listens to (none: the caller reports arrivals) */
  constructor(conn) {
    /** @type {Map<string, Entry>} "callId state" -> what was sent */
    this.want = new Map();
    this.next = 0;
    this.maxIdx = -1;
    this.got = 0;
    /** Receipt time of the latest expected event. */
    this.lastAt = 0;
    this.dup = 0;
    this.reordered = 0;
    this.unexpected = 0;
    /** @type {number[]} PBX send -> connector receipt, ms */
    this.lat = [];
    /** @type {number[]} PBX send -> page receipt (the event's ts, whole ms), ms */
    this.toPage = [];
    /** Highest latency since `takeWindowMax()`. */
    this.windowMax = 0;
    if (conn) conn.onMessage = (m, at) => this.arrived(m, at);
  }

  /**
   * Sends `frame` to the WebClient and records the event it should cause, stamped right
   * before the socket write (the frame is encoded already).
   * @param {import('../lib/pbx').Pbx} pbx @param {Uint8Array} frame @param {number} call @param {string} state
   * @returns {Entry}
   */
  send(pbx, frame, call, state) {
    return this.sendAs(`${call} ${state}`, pbx, frame);
  }

  /**
   * `send` with the key its arrival will be looked up by.
   * @param {string} key @param {import('../lib/pbx').Pbx} pbx @param {Uint8Array} frame @returns {Entry}
   */
  sendAs(key, pbx, frame) {
    /** @type {Entry} */
    const e = { idx: this.next++, sentAt: performance.now() };
    this.want.set(key, e);
    pbx.send(frame);
    return e;
  }

  /** Resolves with the latency once the entry's event arrived. @param {Entry} e @param {number} timeout */
  wait(e, timeout) {
    if (e.gotAt !== undefined) return Promise.resolve(e.gotAt - e.sentAt);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no CALL_EVENT within ${timeout} ms`)), timeout);
      e.resolve = (at) => { clearTimeout(t); resolve(at - e.sentAt); };
    });
  }

  /** @param {any} m @param {number} at */
  arrived(m, at) {
    if (m.type !== 'CALL_EVENT') return;
    this.record(this.want.get(`${m.call.id} ${m.call.state}`), at, m.ts);
  }

  /**
   * Counts what arrived at `at` for entry `e` (undefined: nothing was sent for it).
   * @param {Entry | undefined} e @param {number} at @param {number} [pageTs] the page's receipt time, if the message has it
   */
  record(e, at, pageTs) {
    if (!e) { this.unexpected++; return; }
    if (e.gotAt !== undefined) { this.dup++; return; }
    e.gotAt = at;
    this.lastAt = at;
    this.got++;
    if (e.idx < this.maxIdx) this.reordered++;
    else this.maxIdx = e.idx;
    const lat = at - e.sentAt;
    this.lat.push(lat);
    if (lat > this.windowMax) this.windowMax = lat;
    if (pageTs !== undefined) this.toPage.push(pageTs - (performance.timeOrigin + e.sentAt));
    if (e.resolve) e.resolve(at);
  }

  takeWindowMax() {
    const w = this.windowMax;
    this.windowMax = 0;
    return w;
  }

  lost() {
    let n = 0;
    for (const e of this.want.values()) if (e.gotAt === undefined) n++;
    return n;
  }

  /** Starts a new measurement on the same connector (the counters and lists restart). */
  reset() {
    this.want.clear();
    this.next = 0;
    this.maxIdx = -1;
    this.got = this.dup = this.reordered = this.unexpected = 0;
    this.lat = [];
    this.toPage = [];
    this.windowMax = 0;
  }
}

module.exports = { Ledger, summary, pct, fmt, ring, answer, hangUp };
