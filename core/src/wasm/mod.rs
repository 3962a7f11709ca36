//! The WebAssembly surface used by the extension's service worker and offscreen document.
//!
//! Bytes come in as `&[u8]`; only what the shell must act on goes out: CALL_EVENT texts
//! ready to send, command frames ready to put on the WebClient socket, screen-pops to run,
//! and short log lines. Decoded protobuf fields never cross into JavaScript.

use serde::Serialize;
use wasm_bindgen::prelude::*;

// One submodule per browser role's state machine; each only translates between JS and
// the core.
mod bridge;
mod session;
mod stream;

use crate::command::{drop_call_frame, DialString, PendingCommand};
use crate::connector::{self, Command, Hello, Incoming};
use crate::privacy;
use crate::screenpop;
use crate::sse::SseParser;
use crate::tracker::CallTracker;

pub(crate) fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Plain objects (not Maps) so the shell can read fields and hand them to chrome.* APIs.
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

pub(crate) fn ms(now_ms: f64) -> u64 {
    if now_ms.is_finite() && now_ms > 0.0 {
        now_ms as u64
    } else {
        0
    }
}

/// What handling a frame or a timeout produced.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Output {
    /// CALL_EVENT JSON texts, in order.
    events: Vec<String>,
    /// Masked one-line summaries of the events, for the log.
    summaries: Vec<String>,
    extension_detected: Option<String>,
    notes: Vec<String>,
    /// Commands that the PBX has now visibly carried out ("dial 1 confirmed").
    confirmed: Vec<String>,
    /// Commands whose confirmation did not come in time.
    expired: Vec<PendingView>,
    active_calls: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingView {
    kind: &'static str,
    number: Option<String>,
    call_id: Option<String>,
}

fn summary(ev: &connector::CallEvent) -> String {
    format!(
        "call {} {:?} {} {}{}",
        ev.call.id,
        ev.call.direction,
        ev.call.state.as_str(),
        privacy::mask_number(&ev.call.remote_number),
        if ev.call.remote_name.is_empty() { String::new() } else { format!(" ({})", privacy::mask_name(&ev.call.remote_name)) }
    )
}

/// The call state of one WebClient tab.
#[wasm_bindgen]
pub struct Core {
    tracker: CallTracker,
    pending: Vec<PendingCommand>,
}

#[derive(Serialize, serde::Deserialize)]
struct Snapshot {
    tracker: CallTracker,
    pending: Vec<PendingCommand>,
}

#[wasm_bindgen]
impl Core {
    #[wasm_bindgen(constructor)]
    pub fn new(extension: &str, tab_id: &str, stale_after_ms: f64) -> Core {
        Core { tracker: CallTracker::new(extension, tab_id, ms(stale_after_ms)), pending: Vec::new() }
    }

    /// Rebuilds a Core from `snapshot()` output (the service worker restarted).
    pub fn restore(snapshot: &str) -> Result<Core, JsError> {
        let s: Snapshot = serde_json::from_str(snapshot).map_err(|e| JsError::new(&format!("bad snapshot: {e}")))?;
        Ok(Core { tracker: s.tracker, pending: s.pending })
    }

    pub fn snapshot(&self) -> String {
        serde_json::to_string(&Snapshot { tracker: self.tracker.clone(), pending: self.pending.clone() })
            .expect("tracker state always serialises")
    }

    pub fn extension(&self) -> String {
        self.tracker.extension().to_owned()
    }

    #[wasm_bindgen(js_name = setExtension)]
    pub fn set_extension(&mut self, extension: &str) {
        self.tracker.set_extension(extension);
    }

    #[wasm_bindgen(js_name = activeCalls)]
    pub fn active_calls(&self) -> usize {
        self.tracker.active_calls()
    }

    /// One binary frame from the WebClient socket. Throws (changing nothing) when the frame
    /// is malformed.
    #[wasm_bindgen(js_name = handleFrame)]
    pub fn handle_frame(&mut self, bytes: &[u8], now_ms: f64) -> Result<JsValue, JsError> {
        let now = ms(now_ms);
        let outcome = self.tracker.handle_frame(bytes, now).map_err(|e| JsError::new(&e.to_string()))?;
        let mut out = Output { extension_detected: outcome.extension_detected, notes: outcome.notes, ..Default::default() };
        self.settle(outcome.events, now, &mut out);
        Ok(to_js(&out))
    }

    /// The clock moved on: stale calls end, unconfirmed commands expire.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now_ms: f64) -> JsValue {
        let now = ms(now_ms);
        let events = self.tracker.handle_timeout(now);
        self.output(events, now)
    }

    /// The tab is gone: every call in progress ends.
    #[wasm_bindgen(js_name = endAll)]
    pub fn end_all(&mut self, now_ms: f64) -> JsValue {
        let now = ms(now_ms);
        let events = self.tracker.end_all(now);
        self.output(events, now)
    }

    /// When `handleTimeout` should next run, in ms since the epoch (or undefined).
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        let cmd = self.pending.iter().map(|p| p.deadline_ms()).min();
        match (self.tracker.poll_timeout(), cmd) {
            (Some(a), Some(b)) => Some(a.min(b) as f64),
            (a, b) => a.or(b).map(|t| t as f64),
        }
    }

    /// CALL_EVENT texts re-announcing every call in progress.
    #[wasm_bindgen(js_name = currentCalls)]
    pub fn current_calls(&self, now_ms: f64) -> Vec<String> {
        self.tracker.current_calls(ms(now_ms)).iter().map(|e| e.to_json()).collect()
    }

    /// RequestMakeCall for `number`; remembers it until a matching outbound call shows up
    /// or `timeout_ms` passes. Throws when the number is refused.
    pub fn dial(&mut self, number: &str, now_ms: f64, timeout_ms: f64) -> Result<Vec<u8>, JsError> {
        let dial = DialString::parse(number).map_err(|e| JsError::new(&format!("number refused: {e}")))?;
        let frame = dial.make_call_frame();
        self.pending.push(PendingCommand::Dial { number: dial, deadline_ms: ms(now_ms) + ms(timeout_ms) });
        Ok(frame)
    }

    /// RequestDropCall for the call's own leg (absent id: the most recent active call).
    /// Returns `{callId, frame}`; throws when there is no such call.
    #[wasm_bindgen(js_name = dropCall)]
    pub fn drop_call(&mut self, call_id: Option<String>, now_ms: f64, timeout_ms: f64) -> Result<JsValue, JsError> {
        let (call_id, frame) = drop_call_frame(&self.tracker, call_id.as_deref()).map_err(|e| JsError::new(&e.to_string()))?;
        self.pending.push(PendingCommand::Drop { call_id: call_id.clone(), deadline_ms: ms(now_ms) + ms(timeout_ms) });
        let obj = js_sys::Object::new();
        js_sys::Reflect::set(&obj, &"callId".into(), &call_id.into()).ok();
        js_sys::Reflect::set(&obj, &"frame".into(), &js_sys::Uint8Array::from(frame.as_slice())).ok();
        Ok(obj.into())
    }

    fn output(&mut self, events: Vec<connector::CallEvent>, now: u64) -> JsValue {
        let mut out = Output::default();
        self.settle(events, now, &mut out);
        to_js(&out)
    }

    fn settle(&mut self, events: Vec<connector::CallEvent>, now: u64, out: &mut Output) {
        for ev in &events {
            let before = self.pending.len();
            let mut kept = Vec::with_capacity(before);
            for p in self.pending.drain(..) {
                if p.confirmed_by(ev) {
                    out.confirmed.push(match &p {
                        PendingCommand::Dial { .. } => format!("dial confirmed by call {}", ev.call.id),
                        PendingCommand::Drop { call_id, .. } => format!("drop of call {call_id} confirmed"),
                    });
                } else {
                    kept.push(p);
                }
            }
            self.pending = kept;
            out.events.push(ev.to_json());
            out.summaries.push(summary(ev));
        }
        let (expired, kept): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.deadline_ms() <= now);
        self.pending = kept;
        out.expired = expired
            .into_iter()
            .map(|p| match p {
                PendingCommand::Dial { number, .. } => PendingView { kind: "dial", number: Some(number.as_str().to_owned()), call_id: None },
                PendingCommand::Drop { call_id, .. } => PendingView { kind: "drop", number: None, call_id: Some(call_id) },
            })
            .collect();
        out.active_calls = self.tracker.active_calls();
    }
}

/// The validated dial string (digits, `+`, `*`, `#`), or throws with the reason.
#[wasm_bindgen(js_name = dialString)]
pub fn dial_string(number: &str) -> Result<String, JsError> {
    DialString::parse(number).map(|d| d.as_str().to_owned()).map_err(|e| JsError::new(&format!("number refused: {e}")))
}

/// The HELLO text for a new connector socket.
#[wasm_bindgen(js_name = helloMessage)]
pub fn hello_message(extension: &str, domain: Option<String>, webclient_version: Option<String>, user_name: Option<String>) -> String {
    let mut h = Hello::new(extension);
    h.domain = domain.filter(|s| !s.is_empty());
    h.webclient_version = webclient_version.filter(|s| !s.is_empty());
    h.user_name = user_name.filter(|s| !s.is_empty());
    h.to_json()
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum IncomingView {
    #[serde(rename_all = "camelCase")]
    HelloAck { bridge_version: Option<String>, port: Option<u16>, ready: Option<bool> },
    #[serde(rename_all = "camelCase")]
    Dial { number: String, masked: String },
    #[serde(rename_all = "camelCase")]
    Drop { call_id: Option<String> },
}

/// Parses a text frame from the connector into `{kind: "helloAck"|"dial"|"drop", …}`;
/// throws with a clear reason otherwise.
#[wasm_bindgen(js_name = parseConnectorMessage)]
pub fn parse_connector_message(text: &str) -> Result<JsValue, JsError> {
    let msg = connector::parse_incoming(text).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(to_js(&match msg {
        Incoming::HelloAck(a) => IncomingView::HelloAck { bridge_version: a.bridge_version, port: a.port, ready: a.ready },
        Incoming::Command(Command::Dial { number, .. }) => {
            let masked = privacy::mask_number(&number);
            IncomingView::Dial { number, masked }
        }
        Incoming::Command(Command::Drop { call_id }) => IncomingView::Drop { call_id },
    }))
}

#[wasm_bindgen(js_name = maskNumber)]
pub fn mask_number(number: &str) -> String {
    privacy::mask_number(number)
}

/// The PestRoutes middleware's event stream, fed network chunks.
#[wasm_bindgen]
pub struct EventStream {
    parser: SseParser,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StreamEvent {
    event: String,
    data: String,
}

#[wasm_bindgen]
impl EventStream {
    #[wasm_bindgen(constructor)]
    pub fn new() -> EventStream {
        EventStream { parser: SseParser::new() }
    }

    /// Returns the events this chunk completed: `[{event, data}]`.
    pub fn feed(&mut self, chunk: &[u8]) -> JsValue {
        let events: Vec<StreamEvent> =
            self.parser.feed(chunk).into_iter().map(|e| StreamEvent { event: e.event, data: e.data }).collect();
        to_js(&events)
    }

    /// The server's `retry` in ms, if it sent one.
    #[wasm_bindgen(js_name = retryMs)]
    pub fn retry_ms(&self) -> Option<f64> {
        self.parser.retry_ms().map(|r| r as f64)
    }

    pub fn reset(&mut self) {
        self.parser.reset();
    }
}

impl Default for EventStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Validates an `openCustomer` payload for `agent`: `{customerId, phone, searchTerms}`,
/// or throws with the reason it was refused.
#[wasm_bindgen(js_name = parseOpenCustomer)]
pub fn parse_open_customer(data: &str, agent: &str) -> Result<JsValue, JsError> {
    screenpop::parse_open_customer(data, agent).map(|p| to_js(&p)).map_err(|e| JsError::new(&e.to_string()))
}

/// The connector link's outbox, held by the offscreen document for the life of the
/// browser session.
#[wasm_bindgen]
pub struct Link {
    outbox: crate::link::Outbox,
    /// Highest event sequence number accepted from the service worker: a resend after a
    /// worker restart is recognised and not queued twice.
    last_seq: u64,
}

#[wasm_bindgen]
impl Link {
    #[wasm_bindgen(constructor)]
    pub fn new(max_queued: usize) -> Link {
        Link { outbox: crate::link::Outbox::new(max_queued), last_seq: 0 }
    }

    /// A CALL_EVENT text numbered `seq` by the service worker. Returns the texts to send now.
    /// Throws on a text that is not a CALL_EVENT.
    pub fn push(&mut self, seq: f64, event_json: &str) -> Result<Vec<String>, JsError> {
        let seq = ms(seq);
        if seq <= self.last_seq {
            return Ok(Vec::new());
        }
        let ev: connector::CallEvent =
            serde_json::from_str(event_json).map_err(|e| JsError::new(&format!("not a CALL_EVENT: {e}")))?;
        self.last_seq = seq;
        Ok(self.outbox.push(ev))
    }

    #[wasm_bindgen(js_name = lastSeq)]
    pub fn last_seq(&self) -> f64 {
        self.last_seq as f64
    }

    #[wasm_bindgen(js_name = sessionStarted)]
    pub fn session_started(&mut self) -> Vec<String> {
        self.outbox.session_started()
    }

    #[wasm_bindgen(js_name = sessionEnded)]
    pub fn session_ended(&mut self) {
        self.outbox.session_ended()
    }

    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    pub fn dropped(&self) -> f64 {
        self.outbox.dropped() as f64
    }
}

/// `{first: [ports], rest: [ports]}`: probe `first` in order, then `rest` in parallel.
#[wasm_bindgen(js_name = probePlan)]
pub fn probe_plan(extension: &str, configured: u16, last_good: u16) -> JsValue {
    let (first, rest) = crate::link::probe_plan(extension, configured, last_good);
    #[derive(Serialize)]
    struct Plan {
        first: Vec<u16>,
        rest: Vec<u16>,
    }
    to_js(&Plan { first, rest })
}

/// Texts sent on the current connector session (see `crate::link::RecentTexts`).
#[wasm_bindgen]
#[derive(Default)]
pub struct RecentTexts {
    inner: crate::link::RecentTexts,
}

#[wasm_bindgen]
impl RecentTexts {
    #[wasm_bindgen(constructor)]
    pub fn new() -> RecentTexts {
        RecentTexts::default()
    }

    /// Whether `text` has not been sent on this session yet (and is now remembered).
    pub fn admit(&mut self, text: &str) -> bool {
        self.inner.admit(text)
    }

    pub fn clear(&mut self) {
        self.inner.clear();
    }
}
