// The DATEV side of the simulated 3CX–DATEV connector (tests/lib/connector.js): what the
// real connector's CallEventProcessor, CallTracker and DatevCommandHandler do with the
// events its socket layer hands on, and so what DATEV ends up with. Modelled on the C#
// source (mjv88/MyCXFAVEVClient, 3CXDatevConnector/, commit 1f0e1ea); each quirk names the
// file and method that shows it. Only defaults of the connector's settings are modelled
// (Core/Config/AppConfig.cs, Defaults), plus the few a test needs to switch.
'use strict';

/**
 * The socket layer's call as it hands it on (WebclientConnectionMethod builds a
 * TapiCallEvent per call id and updates it in place for each event).
 * @typedef {{callId: number, state: 'OFFERING' | 'RINGBACK' | 'CONNECTED' | 'DISCONNECTED',
 *   incoming: boolean, callerNumber: string | null, callerName: string | null,
 *   calledNumber: string | null, calledName: string | null}} TapiEvent
 */

/**
 * A call as DATEV knows it: one per CallRecord the connector created (and so one per
 * NewCall DATEV received).
 * @typedef {{id: number, run: number, datevCallId: string, direction: 'inbound' | 'outbound',
 *   number: string | null, created: 'offering' | 'ringback' | 'dial' | 'connected',
 *   linked: boolean, syncId: string | null, contact: Contact | null, states: string[],
 *   result: 'answered' | 'missed' | null, listed: boolean,
 *   removed: 'ended' | 'stale' | 'restart' | null, start: number, begin: number, end: number}} DatevCall
 */

/** @typedef {{number: string, id: string, name: string}} Contact */

/**
 * What DATEV was told, in order (NotificationManager: NewCall, CallStateChanged, NewJournal).
 * @typedef {{kind: 'NewCall' | 'CallStateChanged' | 'NewJournal', datevCallId: string, state: string, at: number}} Notice
 */

/**
 * A journal the operator may write: a journal popup (CallEventProcessor.ShowJournalPopup)
 * or a call-history entry (CallHistoryStore.AddEntry, ConnectorService.SendHistoryJournal).
 * @typedef {{from: 'popup' | 'history', call: DatevCall, number: string | null, contact: Contact | null, sent: boolean}} JournalItem
 */

/**
 * A DATEV-initiated dial waiting for its call (CallTracker._pendingCalls).
 * @typedef {{tempId: string, number: string, syncId: string, datevCallId: string, contact: Contact | null, start: number}} Pending
 */

/**
 * PhoneNumberNormalizer.Normalize (Extensions/PhoneNumberNormalizer.cs): a leading `00` is
 * cut only when the trimmed text is longer than 4 characters, else a leading `+`; then
 * every non-digit goes. `+49 89 1234567` → `49891234567`, `0049 89 1234567` → the same,
 * `089 1234567` → `0891234567` (a leading 0 stays, so it never equals the `+49` form).
 * @param {string | null | undefined} number @returns {string}
 */
function normalize(number) {
  if (number === null || number === undefined || !number.trim()) return '';
  let t = number.trim();
  if (t.startsWith('00') && t.length > 4) t = t.slice(2);
  else if (t.startsWith('+')) t = t.slice(1);
  return t.replace(/[^0-9]+/g, '');
}

/** PhoneNumberNormalizer.NormalizeForComparison: the last `max` digits. @param {string | null} number @param {number} max */
function normalizeForComparison(number, max) {
  const n = normalize(number);
  return n.length <= max ? n : n.slice(n.length - max);
}

/** The TapiCallState names of Core/CallStateMachine.cs and its allowed transitions (IsValidTransition). */
const NEXT = /** @type {Record<string, string[]>} */ ({
  Initializing: ['Ringing', 'Ringback', 'Connected', 'Disconnected'],
  Ringing: ['Connected', 'Disconnected'],
  Ringback: ['Connected', 'Disconnected'],
  Connected: ['Disconnected'],
  Disconnected: [],
});

class Datev {
  /**
   * @param {{now: () => number, extension: () => string, log: (line: string) => void, trace: (line: string) => void,
   *   contacts?: Contact[], journalPopup?: boolean, journalPopupOutbound?: boolean, callerPopupOutbound?: boolean,
   *   historyOutbound?: boolean, staleCallMs?: number, stalePendingMs?: number}} opts
   */
  constructor(opts) {
    this.now = opts.now;
    this.extension = opts.extension;
    this.problem = opts.log;
    this.trace = opts.trace;
    this.contacts = opts.contacts || [];
    // AppConfig.Defaults: EnableJournalPopup "false", EnableJournalPopupOutbound "false",
    // EnableCallerPopupOutbound "false", CallHistoryOutbound "false" (the Defaults entry
    // wins over the default written at the call site, AppConfig.GetBool).
    this.journalPopupOn = opts.journalPopup === true;
    this.journalPopupOutbound = opts.journalPopupOutbound === true;
    this.callerPopupOutbound = opts.callerPopupOutbound === true;
    this.historyOutbound = opts.historyOutbound === true;
    // CallTracker constructor: StaleCallTimeoutMinutes 240, StalePendingTimeoutSeconds 300.
    this.staleCallMs = opts.staleCallMs ?? 240 * 60000;
    this.stalePendingMs = opts.stalePendingMs ?? 300 * 1000;
    /** @type {DatevCall[]} every call DATEV was told of, across connector restarts */
    this.calls = [];
    /** @type {Notice[]} */
    this.notifications = [];
    /** @type {Array<{call: DatevCall, number: string | null, name: string | null, contact: Contact | null, incoming: boolean}>} caller popups shown */
    this.popups = [];
    /** @type {JournalItem[]} journal popups shown (none with the default settings) */
    this.journalPopups = [];
    /** @type {JournalItem[]} call-history entries (inbound calls with a DATEV contact, by default) */
    this.history = [];
    /** @type {Array<{datevCallId: string, syncId: string, note: string, number: string | null, contact: Contact | null, begin: number, end: number}>} journals DATEV received */
    this.journal = [];
    this.run = 1;
    /** @type {Map<string, DatevCall>} CallTracker._calls, keyed by the numeric id as text */
    this.tracker = new Map();
    /** @type {Map<string, Pending>} CallTracker._pendingCalls (insertion order stands for its hash order) */
    this.pendingCalls = new Map();
    /** @type {Map<string, string>} CallTracker._phoneNumberToPendingId */
    this.phoneIndex = new Map();
    this.nextTempId = 1000; // CallTracker._nextTempId
    this.dialCount = 0;
  }

  /** A new connector process: CallTracker and its pending dials are empty, temp ids start again. */
  processStart() {
    this.run++;
    this.tracker.clear();
    this.pendingCalls.clear();
    this.phoneIndex.clear();
    this.nextTempId = 1000;
  }

  /** The process ends: DATEV keeps what it was told; calls it never heard end stay open there. */
  processEnd() {
    for (const c of this.tracker.values()) { c.listed = false; c.removed = 'restart'; }
    this.tracker.clear();
  }

  /** Calls the connector still lists (CallTracker.Count > 0 blocks every journal). @returns {DatevCall[]} */
  listed() { return [...this.tracker.values()]; }

  /** Calls DATEV was told of and never told finished (listed, stale-removed or from an earlier run). */
  unfinished() { return this.calls.filter((c) => c.result === null); }

  /** Pending DATEV dials. @returns {Pending[]} */
  pending() { return [...this.pendingCalls.values()]; }

  /** ShowJournalPopup's callback and SendHistoryJournal refuse while any call is listed. */
  journalBlocked() { return this.tracker.size > 0; }

  /** CallIdGenerator.Next: Extension-ddMMyyyy-HHmm-Random7 (extension "0" until one is known). */
  nextCallId() {
    const d = new Date(this.now());
    const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
    const rnd = 1000000 + Math.floor(Math.random() * 8999999);
    return `${this.extension() || '0'}-${p(d.getDate())}${p(d.getMonth() + 1)}${d.getFullYear()}-${p(d.getHours())}${p(d.getMinutes())}-${rnd}`;
  }

  /**
   * DatevContactRepository.GetContactByNumber: the last 10 digits (MaxCompareLength) equal,
   * else the longest suffix match of at least 6 digits; numbers shorter than
   * MinCallerIdLength (2, or the extension's length when longer) are not looked up
   * (CallEventProcessor.LookupAndFillContact). Routing among several contacts of one
   * number is not modelled: the first is taken.
   * @param {string | null} number @returns {Contact | null}
   */
  lookup(number) {
    const min = Math.max(2, (this.extension() || '').length);
    if (!number || number.length < min) return null;
    const key = normalizeForComparison(number, 10);
    const exact = this.contacts.find((c) => normalizeForComparison(c.number, 10) === key);
    if (exact) return exact;
    if (key.length < 6) return null;
    let best = 0;
    /** @type {Contact | null} */
    let found = null;
    for (const c of this.contacts) {
      const k = normalizeForComparison(c.number, 10);
      if (k.length < 6) continue;
      const len = key.endsWith(k) ? k.length : k.endsWith(key) ? key.length : 0;
      if (len > best) { best = len; found = c; }
    }
    return found;
  }

  /** @param {DatevCall} c @param {'NewCall' | 'CallStateChanged' | 'NewJournal'} kind @param {string} state */
  notify(c, kind, state) {
    this.notifications.push({ kind, datevCallId: c.datevCallId, state, at: this.now() });
  }

  /**
   * CallStateMachine.TryTransition: an invalid transition is logged and ignored.
   * @param {DatevCall} c @param {string} to
   */
  transition(c, to) {
    const from = c.states.length ? c.states[c.states.length - 1] : 'Initializing';
    if (NEXT[from].includes(to)) { c.states.push(to); return true; }
    this.problem(`DATEV: call ${c.id} invalid transition ${from} -> ${to} (ignored)`);
    return false;
  }

  /**
   * CallTracker.AddCall + CallEventProcessor.CreateCallData.
   * @param {number} id @param {boolean} incoming @param {string | null} number @param {DatevCall['created']} created
   * @returns {DatevCall}
   */
  addCall(id, incoming, number, created) {
    const t = this.now();
    /** @type {DatevCall} */
    const c = {
      id, run: this.run, datevCallId: this.nextCallId(), direction: incoming ? 'inbound' : 'outbound', number, created,
      linked: false, syncId: null, contact: this.lookup(number), states: [], result: null, listed: true, removed: null,
      start: t, begin: t, end: t,
    };
    this.tracker.set(String(id), c);
    this.calls.push(c);
    return c;
  }

  /**
   * CallEventProcessor.OnTapiCallStateChanged.
   * @param {TapiEvent} ev
   */
  onCallState(ev) {
    const key = String(ev.callId);
    switch (ev.state) {
      case 'OFFERING': return this.offering(key, ev);
      case 'RINGBACK': return this.ringback(key, ev);
      case 'CONNECTED': return this.connected(key, ev);
      case 'DISCONNECTED': return this.disconnected(key);
    }
  }

  /**
   * HandleOffering: a call new to this layer is an incoming call with a caller popup
   * (EnableCallerPopup defaults to true) and a NewCall; the number is the event's
   * CallerNumber, which for an `outbound` event in state `offered` is the connector's own
   * extension (WebclientConnectionMethod.OnExtensionCallEvent fills it so).
   * @param {string} key @param {TapiEvent} ev
   */
  offering(key, ev) {
    const known = this.tracker.get(key);
    if (known) { this.transition(known, 'Ringing'); return; }
    const c = this.addCall(ev.callId, true, ev.callerNumber, 'offering');
    this.transition(c, 'Ringing');
    this.popups.push({ call: c, number: ev.callerNumber, name: ev.callerName, contact: c.contact, incoming: true });
    this.notify(c, 'NewCall', 'eCSOffered');
    this.trace(`DATEV: NewCall ${c.datevCallId} inbound ${ev.callerNumber} (call ${c.id})`);
  }

  /**
   * HandleRingback: only a call NEW to this layer is matched against DATEV's pending dials,
   * by the normalised number compared exactly (CallTracker.FindPendingCallByNumber); a
   * known call only transitions (dialing → ringing is Ringback → Ringback: invalid, logged).
   * @param {string} key @param {TapiEvent} ev
   */
  ringback(key, ev) {
    const known = this.tracker.get(key);
    if (known) { this.transition(known, 'Ringback'); return; }
    const pend = this.findPending(ev.calledNumber);
    if (pend) {
      // CallTracker.PromotePendingCall: the pending record becomes the call, so its
      // StartTime (and DATEV's Begin) is the moment DATEV dialled, not the ringback.
      this.pendingCalls.delete(pend.tempId);
      this.phoneIndex.delete(normalize(pend.number));
      /** @type {DatevCall} */
      const c = {
        id: ev.callId, run: this.run, datevCallId: pend.datevCallId, direction: 'outbound', number: ev.calledNumber,
        created: 'dial', linked: true, syncId: pend.syncId, contact: pend.contact, states: [], result: null, listed: true,
        removed: null, start: pend.start, begin: pend.start, end: pend.start,
      };
      this.tracker.set(key, c);
      this.calls.push(c);
      this.transition(c, 'Ringback');
      this.notify(c, 'NewCall', 'eCSOffered');
      this.trace(`DATEV: NewCall ${c.datevCallId} DATEV-initiated to ${ev.calledNumber} (SyncID ${pend.syncId}, call ${c.id})`);
      return;
    }
    const c = this.addCall(ev.callId, false, ev.calledNumber, 'ringback');
    this.transition(c, 'Ringback');
    if (this.callerPopupOutbound) this.popups.push({ call: c, number: ev.calledNumber, name: ev.calledName, contact: c.contact, incoming: false });
    this.notify(c, 'NewCall', 'eCSOffered');
    this.trace(`DATEV: NewCall ${c.datevCallId} outbound ${ev.calledNumber} (call ${c.id})`);
  }

  /**
   * HandleConnected: a call unknown to this layer gets a record and a NewCall, without a
   * popup (and without pending-dial matching), its direction from the socket layer's
   * first event of the call.
   * @param {string} key @param {TapiEvent} ev
   */
  connected(key, ev) {
    let c = this.tracker.get(key);
    if (!c) {
      this.trace(`DATEV: record for unknown call ${ev.callId} created at connected`);
      c = this.addCall(ev.callId, ev.incoming, ev.incoming ? ev.callerNumber : ev.calledNumber, 'connected');
      this.notify(c, 'NewCall', 'eCSOffered');
    }
    if (!this.transition(c, 'Connected')) return;
    c.begin = c.end = this.now(); // CallData.Begin/End = ConnectedTime
    this.notify(c, 'CallStateChanged', 'eCSConnected');
  }

  /**
   * HandleDisconnected: an unknown call is ignored (logged); otherwise the call leaves the
   * list, finished (it saw Connected) or absent/missed (it did not); `reason` plays no part.
   * A journal popup only for an answered call with a DATEV contact, inbound unless
   * EnableJournalPopupOutbound, and only if EnableJournalPopup (default false).
   * @param {string} key
   */
  disconnected(key) {
    const c = this.tracker.get(key);
    if (!c) { this.problem(`DATEV: ended for unknown call ${key} (ignored)`); return; }
    if (!this.transition(c, 'Disconnected')) return;
    this.tracker.delete(key);
    c.listed = false;
    c.removed = 'ended';
    c.end = this.now();
    const answered = c.states.includes('Connected');
    c.result = answered ? 'answered' : 'missed';
    this.notify(c, 'CallStateChanged', answered ? 'eCSFinished' : 'eCSAbsence');
    this.trace(`DATEV: call ${c.id} ${c.result}`);
    if (!c.contact) return;
    const incoming = c.direction === 'inbound';
    if (incoming || this.historyOutbound) this.history.push({ from: 'history', call: c, number: c.number, contact: c.contact, sent: false });
    if (this.journalPopupOn && answered && (incoming || this.journalPopupOutbound)) {
      this.journalPopups.push({ from: 'popup', call: c, number: c.contact.number, contact: c.contact, sent: false });
    }
  }

  /**
   * The operator writes a journal in a journal popup or from the call history: a blank
   * note is skipped; while any call is listed it is refused ("Journal blockiert",
   * CallEventProcessor.ShowJournalPopup / ConnectorService.SendHistoryJournal).
   * @param {JournalItem} item @param {string} note @returns {'sent' | 'blocked' | 'skipped'}
   */
  submitJournal(item, note) {
    if (!note || !note.trim()) return 'skipped';
    if (this.tracker.size > 0) {
      this.problem(`DATEV: journal blocked, ${this.tracker.size} call(s) listed`);
      return 'blocked';
    }
    const c = item.call;
    const entry = { datevCallId: this.nextCallId(), syncId: '', note, number: item.number, contact: item.contact, begin: c.begin, end: c.end };
    this.journal.push(entry);
    this.notifications.push({ kind: 'NewJournal', datevCallId: entry.datevCallId, state: '', at: this.now() });
    item.sent = true;
    return 'sent';
  }

  /**
   * CallTracker.FindPendingCallByNumber: the index first (normalised number → the latest
   * dial to it), then a linear search in insertion order.
   * @param {string | null} number @returns {Pending | null}
   */
  findPending(number) {
    const n = normalize(number);
    if (!n) return null;
    const id = this.phoneIndex.get(n);
    if (id !== undefined) {
      const p = this.pendingCalls.get(id);
      if (p) return p;
      this.phoneIndex.delete(n);
    }
    for (const p of this.pendingCalls.values()) {
      if (normalize(p.number) === n) { this.phoneIndex.set(n, p.tempId); return p; }
    }
    return null;
  }

  /**
   * DatevCommandHandler.HandleDialCommandAsync up to MakeCall: a pending call keyed by a
   * temp id (DATEV_1001, …), indexed by the normalised number. `makeCall` returns false
   * when nothing could be written; the pending call is then removed again.
   * @param {string} number @param {string} syncId @param {{datevCallId?: string, contact?: Contact}} extra
   * @param {(number: string) => boolean} makeCall
   * @returns {Pending}
   */
  addPending(number, syncId, extra, makeCall) {
    const tempId = `DATEV_${++this.nextTempId}`;
    /** @type {Pending} */
    const p = {
      tempId, number, syncId: syncId || '', datevCallId: extra.datevCallId ?? `DATEV-DIAL-${++this.dialCount}`,
      contact: extra.contact || null, start: this.now(),
    };
    this.pendingCalls.set(tempId, p);
    const n = normalize(number);
    if (n) this.phoneIndex.set(n, tempId);
    if (!makeCall(number)) {
      this.pendingCalls.delete(tempId);
      this.phoneIndex.delete(n);
      this.problem(`DATEV Dial: MakeCall failed, pending ${tempId} removed`);
    }
    return p;
  }

  /**
   * CallTracker.FindCallByDatevCallId (calls, then pending dials).
   * @param {string} datevCallId @returns {{tapiId: string} | null}
   */
  findByDatevCallId(datevCallId) {
    for (const [k, c] of this.tracker) if (c.datevCallId === datevCallId) return { tapiId: k };
    for (const p of this.pendingCalls.values()) if (p.datevCallId === datevCallId) return { tapiId: p.tempId };
    return null;
  }

  /**
   * CallTracker.CleanupStaleCalls (a timer, every minute in the C#): listed calls older
   * than StaleCallTimeoutMinutes and pending dials older than StalePendingTimeoutSeconds
   * (both from their StartTime) are dropped silently: DATEV is not told, so such a call
   * stays open in DATEV, but it no longer blocks journals.
   */
  cleanup() {
    const t = this.now();
    for (const [k, c] of this.tracker) {
      if (t - c.start > this.staleCallMs) {
        this.tracker.delete(k);
        c.listed = false;
        c.removed = 'stale';
        this.trace(`DATEV: stale call ${k} removed (DATEV not told)`);
      }
    }
    for (const [k, p] of this.pendingCalls) {
      if (t - p.start > this.stalePendingMs) {
        this.pendingCalls.delete(k);
        this.phoneIndex.delete(normalize(p.number));
        this.trace(`DATEV: stale pending dial ${k} removed`);
      }
    }
  }
}

module.exports = { Datev, normalize, normalizeForComparison };
