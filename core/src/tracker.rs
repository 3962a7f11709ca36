//! Call tracking: LocalConnection legs in, CALL_EVENTs out.
//!
//! The tracker never trusts an action tag to say what happened to a call. It keeps the
//! legs it has been told about, groups them by call id into logical calls, and derives
//! each call's state from its legs taken together (`spec/3cx-webclient.md`, "Mapping to
//! the connector protocol"). Events come only from transitions of that derived state, and
//! each call remembers which states it has announced, so:
//! - a state is sent at most once per call and a call never goes back;
//! - a duplicated or replayed frame changes nothing;
//! - item action 1 means the same whether it is read as FullUpdate or as Inserted (both
//!   mean "this leg exists, with these fields");
//! - the call ends when its last leg goes, whichever way it went.
//!
//! Only MyExtensionInfo field 18 (Connections) is read: the WebClient shows the operator
//! those calls and no others (field 20 can hold a colleague's calls).
//!
//! Time is always a parameter (`now_ms`), never read here, so replays are exact.

use serde::{Deserialize, Serialize};

use crate::command::same_number;
use crate::connector::{CallEvent, CallInfo, CallState, Direction, EndReason, EventContext};
use crate::frame::{self, Frame, FrameError};
use crate::schema::{
    ActionType, LegState, LocalConnection, LocalConnections, MyExtensionInfo, MyWebRtcEndpoint, Registrations,
};

/// Default age after which a call that never ended is dropped: 4 hours, like the
/// connector's own `StaleCallTimeoutMinutes`.
pub const DEFAULT_STALE_AFTER_MS: u64 = 4 * 60 * 60 * 1000;

/// How many ended call ids are remembered to keep ids unique when the PBX reuses one.
const ENDED_IDS_KEPT: usize = 256;
/// Numbers DATEV asked to dial that wait for their call at once (commands are paced).
const MAX_EXPECTED: usize = 8;

/// Most legs one tab's tracker holds. An operator's own lists hold a handful (a queue call
/// has three or four legs); a PBX or page announcing more is broken or hostile, and each
/// further new leg is refused (counted in a note) until some end. Calls are made of legs,
/// so they are bounded by this too.
pub const MAX_LEGS: usize = 256;
/// Longest number and display name kept from a frame, in characters: enough for any
/// dialable number and any real name; so a CALL_EVENT stays a few KiB whatever a frame says.
pub const MAX_NUMBER_CHARS: usize = 64;
pub const MAX_NAME_CHARS: usize = 256;

/// One leg (a LocalConnection of MyExtensionInfo field 18) as last known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Leg {
    id: i64,
    /// Our id of the logical call this leg belongs to.
    call: String,
    /// The PBX's call id, when the leg carried one.
    pbx_call_id: Option<i64>,
    state: LegState,
    incoming: bool,
    caller_id: String,
    dn: String,
    name: String,
}

impl Leg {
    fn remote_number(&self) -> &str {
        if self.caller_id.is_empty() {
            &self.dn
        } else {
            &self.caller_id
        }
    }
}

/// A logical call: every leg that shares a call id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Call {
    /// The id used in CALL_EVENTs (the PBX call id, made unique if the PBX reuses it).
    id: String,
    /// The grouping key from the legs: PBX call id, or the leg id for a leg without one.
    key: CallKey,
    first_seen_ms: u64,
    /// Order in which calls appeared, for "the most recent active call".
    serial: u64,
    direction: Option<Direction>,
    /// States already announced, in order.
    sent: Vec<CallState>,
    remote_number: String,
    remote_name: String,
    /// The number as DATEV wrote it, when this call is DATEV's dial: its events carry it
    /// (DATEV links its dial by the number of the call's first event).
    dialled_as: Option<String>,
}

impl Call {
    fn has_sent(&self, s: CallState) -> bool {
        self.sent.contains(&s)
    }

    fn announced(&self) -> bool {
        !self.sent.is_empty()
    }

    /// The state a re-announcement should carry: `connected` once up, else the latest.
    fn current_state(&self) -> Option<CallState> {
        self.sent.iter().copied().max()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum CallKey {
    Pbx(i64),
    /// A leg that carried no call id is a call of its own.
    Leg(i64),
}

/// The state of a logical call taken from all its legs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregate {
    Up,
    Ringing,
    Dialing,
    Unknown,
}

fn aggregate<'a>(legs: impl Iterator<Item = &'a Leg> + Clone) -> Aggregate {
    if legs.clone().any(|l| l.state.is_up()) {
        Aggregate::Up
    } else if legs.clone().any(|l| l.state == LegState::Ringing) {
        Aggregate::Ringing
    } else if legs.clone().any(|l| l.state == LegState::Dialing) {
        Aggregate::Dialing
    } else {
        Aggregate::Unknown
    }
}

/// Everything one frame produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameOutcome {
    /// CALL_EVENTs to send, in order.
    pub events: Vec<CallEvent>,
    /// The extension number from MyExtensionInfo field 3, when the frame carried one that
    /// differs from what was known.
    pub extension_detected: Option<String>,
    /// Oddities inside an otherwise valid frame (item without id, unknown action), for
    /// the log. They never stop the rest of the frame.
    pub notes: Vec<String>,
    /// The operator's devices (MyExtensionInfo field 9), when the frame carried them.
    pub devices: Option<Registrations>,
    /// The WebClient's own softphone (MyWebRTCEndpoint), when the frame was one.
    pub endpoint: Option<MyWebRtcEndpoint>,
}

/// Why a DROP cannot be turned into a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropError {
    NoActiveCall,
    UnknownCall(String),
    /// The leg id does not fit the `int32` field of RequestDropCall.
    LegIdOutOfRange(i64),
}

impl std::fmt::Display for DropError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropError::NoActiveCall => write!(f, "no active call to drop"),
            DropError::UnknownCall(id) => write!(f, "no active call with id {id:?}"),
            DropError::LegIdOutOfRange(id) => write!(f, "leg id {id} does not fit RequestDropCall"),
        }
    }
}

impl std::error::Error for DropError {}

/// The call tracker of one WebClient tab. Serialisable, so a reopened offscreen document
/// carries on exactly where the closed one was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTracker {
    stale_after_ms: u64,
    configured_extension: String,
    detected_extension: String,
    tab_id: String,
    legs: Vec<Leg>,
    calls: Vec<Call>,
    next_serial: u64,
    /// Ids of calls that ended (most recent last), so that a reused PBX call id becomes
    /// a new CALL_EVENT id instead of reviving an ended one.
    ended_ids: Vec<String>,
    /// Numbers DATEV asked to dial, as it wrote them, waiting (until the time given) for
    /// their outbound call to show up.
    expected: Vec<(String, u64)>,
}

impl Default for CallTracker {
    fn default() -> Self {
        CallTracker::new("", "", DEFAULT_STALE_AFTER_MS)
    }
}

impl CallTracker {
    /// `extension` may be empty: MyExtensionInfo field 3 then supplies it.
    pub fn new(extension: &str, tab_id: &str, stale_after_ms: u64) -> Self {
        CallTracker {
            stale_after_ms,
            configured_extension: extension.to_owned(),
            detected_extension: String::new(),
            tab_id: tab_id.to_owned(),
            legs: Vec::new(),
            calls: Vec::new(),
            next_serial: 0,
            ended_ids: Vec::new(),
            expected: Vec::new(),
        }
    }

    // ---- getters -------------------------------------------------------------------

    /// The extension number in use: the configured one, else the one the PBX reported.
    pub fn extension(&self) -> &str {
        if self.configured_extension.is_empty() {
            &self.detected_extension
        } else {
            &self.configured_extension
        }
    }

    pub fn tab_id(&self) -> &str {
        &self.tab_id
    }

    pub fn stale_after_ms(&self) -> u64 {
        self.stale_after_ms
    }

    /// How many legs and calls the tracker holds (both bounded by [`MAX_LEGS`]).
    pub fn sizes(&self) -> (usize, usize) {
        (self.legs.len(), self.calls.len())
    }

    /// How many announced calls are in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.iter().filter(|c| c.announced()).count()
    }

    /// One event per call in progress, carrying the state it has reached, for a connector
    /// that has just (re)connected and knows nothing. Changes nothing here.
    pub fn current_calls(&self, now_ms: u64) -> Vec<CallEvent> {
        self.calls
            .iter()
            .filter_map(|c| c.current_state().map(|s| self.event_for(c, s, EndReason::None, now_ms)))
            .collect()
    }

    /// When `handle_timeout` next has something to do (a call turning stale).
    pub fn poll_timeout(&self) -> Option<u64> {
        self.calls.iter().map(|c| c.first_seen_ms.saturating_add(self.stale_after_ms)).min()
    }

    /// The leg a DROP for `call_id` (or, absent, the most recent active call) must name.
    pub fn leg_to_drop(&self, call_id: Option<&str>) -> Result<(String, i32), DropError> {
        let call = match call_id {
            Some(id) => self
                .calls
                .iter()
                .find(|c| c.id == id && c.announced())
                .ok_or_else(|| DropError::UnknownCall(id.to_owned()))?,
            None => {
                self.calls.iter().filter(|c| c.announced()).max_by_key(|c| c.serial).ok_or(DropError::NoActiveCall)?
            }
        };
        // The leg whose state matters most for the call.
        let rank = |l: &Leg| match l.state {
            s if s.is_up() => 4,
            LegState::Ringing => 3,
            LegState::Dialing => 2,
            _ => 1,
        };
        let leg =
            self.legs.iter().filter(|l| l.call == call.id).max_by_key(|l| rank(l)).ok_or(DropError::NoActiveCall)?;
        let id = i32::try_from(leg.id).map_err(|_| DropError::LegIdOutOfRange(leg.id))?;
        Ok((call.id.clone(), id))
    }

    // ---- mutators ------------------------------------------------------------------

    /// DATEV asked to dial `number` (as it wrote it): the next new outbound call to that
    /// number before `until_ms` carries it in its events.
    pub fn expect_dial(&mut self, number: &str, until_ms: u64) {
        if self.expected.len() >= MAX_EXPECTED {
            self.expected.remove(0);
        }
        self.expected.push((crate::cut(number.to_owned(), MAX_NUMBER_CHARS), until_ms));
    }

    /// The configured extension number (setting or WebClient provisioning).
    pub fn set_extension(&mut self, extension: &str) {
        self.configured_extension = extension.to_owned();
    }

    pub fn set_tab_id(&mut self, tab_id: &str) {
        self.tab_id = tab_id.to_owned();
    }

    pub fn set_stale_after_ms(&mut self, ms: u64) {
        self.stale_after_ms = ms;
    }

    // ---- handle_* ------------------------------------------------------------------

    /// One binary frame from the WebClient socket, received at `now_ms`.
    /// A rejected frame changes nothing.
    pub fn handle_frame(&mut self, bytes: &[u8], now_ms: u64) -> Result<FrameOutcome, FrameError> {
        let mut out = FrameOutcome::default();
        match frame::decode(bytes)? {
            Frame::Other { .. } => {}
            Frame::ExtensionInfo(info) => self.apply_extension_info(info, now_ms, &mut out),
            Frame::Endpoint(ep) => out.endpoint = Some(ep),
        }
        self.expire(now_ms, &mut out.events);
        Ok(out)
    }

    /// The clock moved on: end calls that turned stale.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Vec<CallEvent> {
        let mut events = Vec::new();
        self.expire(now_ms, &mut events);
        events
    }

    /// The WebClient tab is gone (closed, or its page navigated away): nothing more will be
    /// heard of its calls, so every call in progress ends now.
    pub fn end_all(&mut self, now_ms: u64) -> Vec<CallEvent> {
        let mut events = Vec::new();
        while !self.calls.is_empty() {
            self.end_call(0, now_ms, &mut events);
        }
        self.legs.clear();
        events
    }

    // ---- internals -----------------------------------------------------------------

    fn apply_extension_info(&mut self, info: MyExtensionInfo, now_ms: u64, out: &mut FrameOutcome) {
        if let Some(number) = info.number.filter(|n| !n.is_empty() && *n != self.detected_extension) {
            self.detected_extension = number.clone();
            out.extension_detected = Some(number);
        }
        out.devices = info.active_devices;
        // Calls touched by this frame, in the order they were first touched.
        let mut touched: Vec<String> = Vec::new();
        if let Some(list) = info.connections {
            self.apply_list(list, now_ms, &mut touched, &mut out.notes);
        }
        for id in touched {
            self.evaluate(&id, now_ms, &mut out.events);
        }
    }

    fn apply_list(&mut self, list: LocalConnections, now_ms: u64, touched: &mut Vec<String>, notes: &mut Vec<String>) {
        let full = list.action == Some(ActionType::FullUpdate as i64);
        let mut present: Vec<i64> = Vec::new();
        let mut refused = 0usize;
        for item in list.items {
            let Some(leg_id) = item.id else {
                notes.push("LocalConnection without connection id skipped".to_owned());
                continue;
            };
            let action = item.action.map(|a| (a, ActionType::from_wire(a)));
            match action {
                Some((_, Some(ActionType::Deleted))) => {
                    if let Some(pos) = self.legs.iter().position(|l| l.id == leg_id) {
                        let leg = self.legs.remove(pos);
                        touch(touched, leg.call);
                    }
                }
                _ => {
                    if let Some((raw, None)) = action {
                        notes.push(format!("leg {leg_id} has unknown action {raw}, read as an update"));
                    }
                    present.push(leg_id);
                    let known = self.legs.iter().any(|l| l.id == leg_id);
                    if !known && self.legs.len() >= MAX_LEGS {
                        refused += 1;
                        continue;
                    }
                    self.upsert(leg_id, item, now_ms, touched);
                }
            }
        }
        if refused > 0 {
            notes.push(format!("leg table full ({MAX_LEGS} legs), {refused} new legs refused"));
        }
        if full {
            let mut i = 0;
            while i < self.legs.len() {
                let l = &self.legs[i];
                if !present.contains(&l.id) {
                    let leg = self.legs.remove(i);
                    touch(touched, leg.call);
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Inserts a leg or merges the fields an update carries into it. Merging (rather than
    /// replacing) is right for every action: an Updated item carries only what changed,
    /// and an Inserted/FullUpdate item carries everything anyway.
    fn upsert(&mut self, leg_id: i64, item: LocalConnection, now_ms: u64, touched: &mut Vec<String>) {
        let pos = match self.legs.iter().position(|l| l.id == leg_id) {
            Some(pos) => pos,
            None => {
                self.legs.push(Leg {
                    id: leg_id,
                    call: String::new(),
                    pbx_call_id: None,
                    state: LegState::Unknown,
                    incoming: false,
                    caller_id: String::new(),
                    dn: String::new(),
                    name: String::new(),
                });
                self.legs.len() - 1
            }
        };
        let leg = &mut self.legs[pos];
        let old_call = std::mem::take(&mut leg.call);
        if item.call_id.is_some() {
            leg.pbx_call_id = item.call_id;
        }
        if let Some(s) = item.state {
            leg.state = LegState::from_wire(s);
        }
        if let Some(b) = item.is_incoming {
            leg.incoming = b;
        }
        if let Some(s) = item.other_party_caller_id {
            leg.caller_id = crate::cut(s, MAX_NUMBER_CHARS);
        }
        if let Some(s) = item.other_party_dn {
            leg.dn = crate::cut(s, MAX_NUMBER_CHARS);
        }
        if let Some(s) = item.other_party_display_name {
            leg.name = crate::cut(s, MAX_NAME_CHARS);
        }
        let key = match leg.pbx_call_id {
            Some(id) => CallKey::Pbx(id),
            None => CallKey::Leg(leg_id),
        };
        let (number, name) = (leg.remote_number().to_owned(), leg.name.clone());
        let call_id = self.call_for(key, &old_call, now_ms);
        let call = self.calls.iter_mut().find(|c| c.id == call_id).expect("call_for made it");
        if !number.is_empty() {
            call.remote_number = number;
        }
        if !name.is_empty() {
            call.remote_name = name;
        }
        self.legs[pos].call = call_id.clone();
        if !old_call.is_empty() && old_call != call_id {
            touch(touched, old_call);
        }
        touch(touched, call_id);
    }

    /// The id of the live call for `key`, creating it if needed. A leg keeps the call it
    /// was in while its key is unchanged.
    fn call_for(&mut self, key: CallKey, current: &str, now_ms: u64) -> String {
        if let Some(c) = self.calls.iter().find(|c| c.id == current && c.key == key) {
            return c.id.clone();
        }
        if let Some(c) = self.calls.iter().find(|c| c.key == key) {
            return c.id.clone();
        }
        let base = match key {
            CallKey::Pbx(id) => id.to_string(),
            CallKey::Leg(leg) => format!("leg{leg}"),
        };
        let mut id = base.clone();
        let mut n = 1;
        while self.ended_ids.contains(&id) || self.calls.iter().any(|c| c.id == id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        self.next_serial += 1;
        self.calls.push(Call {
            id: id.clone(),
            key,
            first_seen_ms: now_ms,
            serial: self.next_serial,
            direction: None,
            sent: Vec::new(),
            remote_number: String::new(),
            remote_name: String::new(),
            dialled_as: None,
        });
        id
    }

    /// Derives the call's state from its legs and announces whatever transition it made.
    fn evaluate(&mut self, call_id: &str, now_ms: u64, events: &mut Vec<CallEvent>) {
        let Some(idx) = self.calls.iter().position(|c| c.id == call_id) else {
            return;
        };
        let legs = self.legs.iter().filter(|l| l.call == call_id);
        if legs.clone().next().is_none() {
            self.end_call(idx, now_ms, events);
            return;
        }
        let agg = aggregate(legs.clone());
        let any_incoming = legs.clone().any(|l| l.incoming);
        let ringing_incoming = legs.clone().any(|l| l.state == LegState::Ringing && l.incoming);
        let call = &mut self.calls[idx];
        let next = match agg {
            Aggregate::Unknown => None,
            Aggregate::Up => {
                call.direction.get_or_insert(if any_incoming { Direction::Inbound } else { Direction::Outbound });
                Some(CallState::Connected)
            }
            Aggregate::Ringing => {
                let dir = *call.direction.get_or_insert(if ringing_incoming {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                });
                match dir {
                    Direction::Inbound if !call.announced() => Some(CallState::Offered),
                    Direction::Outbound => Some(CallState::Ringing),
                    _ => None,
                }
            }
            Aggregate::Dialing if !call.announced() => {
                call.direction = Some(Direction::Outbound);
                Some(CallState::Dialing)
            }
            Aggregate::Dialing => None,
        };
        if let Some(state) = next {
            // Never twice, never backwards: nothing but `ended` after `connected`.
            let backwards = call.has_sent(CallState::Connected) && state != CallState::Ended;
            if !call.announced() && call.direction == Some(Direction::Outbound) {
                let expected =
                    self.expected.iter().position(|(n, until)| *until > now_ms && same_number(n, &call.remote_number));
                if let Some(i) = expected {
                    call.dialled_as = Some(self.expected.remove(i).0);
                }
            }
            if !call.has_sent(state) && !backwards {
                call.sent.push(state);
                let call = &self.calls[idx];
                events.push(self.event_for(call, state, EndReason::None, now_ms));
            }
        }
    }

    fn end_call(&mut self, idx: usize, now_ms: u64, events: &mut Vec<CallEvent>) {
        let call = self.calls.remove(idx);
        self.legs.retain(|l| l.call != call.id);
        if call.announced() {
            let reason = if call.has_sent(CallState::Connected) { EndReason::Hangup } else { EndReason::Unknown };
            events.push(self.event_for(&call, CallState::Ended, reason, now_ms));
        }
        self.ended_ids.push(call.id);
        if self.ended_ids.len() > ENDED_IDS_KEPT {
            self.ended_ids.remove(0);
        }
    }

    fn expire(&mut self, now_ms: u64, events: &mut Vec<CallEvent>) {
        self.expected.retain(|(_, until)| *until > now_ms);
        while let Some(idx) =
            self.calls.iter().position(|c| now_ms.saturating_sub(c.first_seen_ms) >= self.stale_after_ms)
        {
            self.end_call(idx, now_ms, events);
        }
    }

    fn event_for(&self, call: &Call, state: CallState, reason: EndReason, now_ms: u64) -> CallEvent {
        CallEvent {
            ts: now_ms,
            call: CallInfo {
                id: call.id.clone(),
                direction: call.direction.unwrap_or(Direction::Inbound),
                remote_number: call.dialled_as.as_ref().unwrap_or(&call.remote_number).clone(),
                remote_name: call.remote_name.clone(),
                state,
                reason,
            },
            context: EventContext { extension: self.extension().to_owned(), tab_id: self.tab_id.clone() },
        }
    }
}

fn touch(touched: &mut Vec<String>, call: String) {
    if !call.is_empty() && !touched.contains(&call) {
        touched.push(call);
    }
}
