//! The call path's state machine (in the offscreen document): which WebClient tabs are
//! believed, their calls and devices, the connector outbox, DATEV's commands (pace, the
//! device and route they take, their answers) and what the popup shows.
//!
//! Sans-IO in the style of `quinn-proto`: `handle_*` for what arrives (messages from a
//! tab, the connector link's reports, commands, the clock), `poll_effect` for what the
//! shell must do next, `poll_timeout` for when to call `handle_timeout`, getters for the
//! rest. Every input names its sender as Chrome reported it (tab id and origin); nothing a
//! page says about itself decides trust.
//!
//! One `Bridge`, its methods in one file per part: `pages` (what a WebClient tab says),
//! `commands` (DIAL and DROP, on the WebClient's own channel), `link` (the connector
//! session and the PestRoutes stream as the document reports them), `view` (the popup),
//! `config` (the settings it acts on); `pace`, `trust` and `status` hold the rules and
//! types those use.

pub mod commands;
pub mod config;
pub mod link;
pub mod pace;
pub mod pages;
pub mod status;
pub mod trust;
pub mod view;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::command::PendingCommand;
use crate::connector::CallEvent;
use crate::device::Devices;
use crate::diagnostics::Recorder;
use crate::link::Outbox;
use crate::privacy::{mask_name, mask_number};
use crate::tracker::CallTracker;
use pace::CommandGate;
use status::{Note, PopView, Text};
use trust::{OriginTrust, Verdict};

pub use config::{host_patterns, web_origin, DialMethod, Settings, INSTALL_GRANTED_HOSTS};
pub use config::{POP_LOAD_TIMEOUT_MS, POP_POLL_FOR_MS, POP_POLL_MS, POP_QUEUE_MAX};

/// Calls older than this end on their own (a tab that stopped talking).
pub const STALE_AFTER_MS: u64 = 4 * 60 * 60 * 1000;
/// WebClient tabs with state at once (an office has one, perhaps two).
pub const MAX_TABS: usize = 16;
pub const MAX_PAGE_ID_LEN: usize = 64;
/// Longest search term or error text a screen-pop result shows, in characters.
pub const MAX_POP_TEXT: usize = 120;
/// Longest call id a DROP may name (ours are a few digits and a serial).
pub const MAX_CALL_ID_LEN: usize = 64;
pub const MAX_NOTES: usize = 20;
pub const MAX_POPS: usize = 10;
/// Connector events held while the connector is away (live calls' history included).
pub const OUTBOX_MAX: usize = 10_000;
/// How long a connector in its (default) Auto mode may take after its start to pass calls
/// on to DATEV: it acknowledges HELLO at once but drops events until DATEV's contacts are
/// loaded (`spec/connector-v1.md`; its ContactLoadTimeoutSeconds, 120 by default).
pub const CONNECTOR_WARMUP_MS: u64 = 120_000;
/// Frames from a page: anything larger is refused before it is copied.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// Frames a page may hold for the core before it drops the oldest (and counts them).
pub const PAGE_QUEUE_MAX: usize = 4_096;
/// Frame messages a page keeps on their way to the core before it holds new frames back
/// and sends them together once one is acknowledged: one frame travels alone when the
/// core keeps up, a burst travels as few messages (each costs a trip through the browser
/// process and one state write).
pub const PAGE_IN_FLIGHT: usize = 2;
/// Frames in one message at most (a held batch is sent once it has this many).
pub const PAGE_BATCH_MAX: usize = 256;

/// Who the operator is, as the WebClient page provisioned it (for HELLO).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Identity {
    pub extension: String,
    pub domain: String,
    pub webclient_version: String,
    pub user_name: String,
}

fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max && !s.chars().any(char::is_control) {
        s.to_owned()
    } else {
        String::new()
    }
}

impl Identity {
    /// Only values of a sane shape survive; the rest become empty.
    pub fn sanitised(&self) -> Identity {
        let ext = &self.extension;
        Identity {
            extension: if (1..=10).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_digit()) {
                ext.clone()
            } else {
                String::new()
            },
            domain: bounded(&self.domain, 253),
            webclient_version: bounded(&self.webclient_version, 64),
            user_name: bounded(&self.user_name, 128),
        }
    }
}

/// What the connector link needs for HELLO and discovery (its last good port is the
/// shell's to fill in from storage).
pub use crate::session::LinkConfig;

/// The connector link's state as the offscreen document reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LinkReport {
    /// waiting | searching | connecting | ready (anything else: starting).
    pub state: String,
    pub port: Option<u16>,
    /// A connector that acknowledged another extension.
    pub foreign: Option<Foreign>,
    pub no_ack_port: Option<u16>,
    /// Ready with the connector of this other extension, as accepted.
    pub accepted: Option<String>,
}

/// A port whose connector acknowledged another extension than ours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Foreign {
    pub port: u16,
    pub extension: String,
    /// On the port a connector for that extension takes: most likely one set up for it.
    pub own_port: bool,
}

/// The PestRoutes stream's state as the offscreen document reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StreamReport {
    /// unconfigured | connecting | connected | forbidden | badRequest | unreachable.
    pub state: String,
    pub agent: Option<String>,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send this text on the connector session `generation` (only while it is ready). If
    /// it cannot be sent, say so with `handle_link_unsent(generation, seq)` at once.
    ToConnector { generation: u64, seq: u64, text: String },
    /// POST this GenericMessage from the tab's WebClient page exactly as the WebClient
    /// does (its path, headers, session key and cookies; the key never leaves the page),
    /// unless the device choice stored in the page is no longer `choice` (then the page
    /// says so instead; `None`: no check). The page gives up on the PBX after `wait_ms`.
    /// Report with `handle_answer` or `handle_stale_choice`.
    Request { tab: u32, token: u32, body: Vec<u8>, choice: Option<String>, wait_ms: u32 },
    /// Open the WebClient's own dialer with `number`; once it shows exactly that number
    /// (within `wait_ms`), press Enter in it when `confirm`. Report with
    /// `handle_dialer_result`.
    Dialer { tab: u32, token: u32, number: String, confirm: bool, wait_ms: u32 },
    /// A diagnostics recording runs until `until` (0: none): the page copies the
    /// WebClient's own requests to the core until then.
    Recording { tab: u32, until: u64 },
    /// What the offscreen document is configured with changed: the connector link's
    /// configuration, or the middleware address the stream may use (`stream_address`).
    LinkConfig(LinkConfig),
    /// The pinned WebClient origin changed (keep it across browser restarts).
    Pin(Option<String>),
    /// A line for the console and the diagnostics report: something an administrator
    /// may need to know (e.g. a refusal, a trust change, a command and its outcome, a
    /// frame the tracker could not fully read, a full connector queue).
    Log(String),
    /// A routine line, one per CALL_EVENT: for the diagnostics report, and for the
    /// console only with the `debugLogging` setting. The console stays quiet while calls
    /// simply flow (a line per event there cost the call path about half its time under
    /// load: tests/bench, figure b.).
    Trace(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tab {
    origin: String,
    page_id: String,
    seq: u64,
    identity: Identity,
    open: bool,
    last_frame_at: u64,
    tracker: CallTracker,
    /// The operator's devices and the WebClient's choice among them.
    devices: Devices,
    /// What the WebClient's socket last said about its session.
    session: Session,
    /// Requests and dialer steps handed to the page, waiting for its answer (by token).
    pending: Vec<(u32, PendingCommand)>,
}

/// The WebClient's session as its socket tells it (`START`, `NOT AUTH`, `STOP`) and as the
/// answers to our requests do (HTTP 401/403).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Session {
    #[default]
    Unknown,
    Started,
    /// Over: the operator must log in to the WebClient again.
    Over,
}

/// Where a message from a page stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    Yes,
    /// Seen before (a resend to a reopened offscreen document): acknowledge, change nothing.
    Repeat,
    /// Not from a trusted WebClient origin, or malformed: change nothing.
    Refused,
}

/// How much the bridge holds, for the bounds checks of the property tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub tabs: usize,
    /// The largest leg and call tables of any tab.
    pub legs: usize,
    pub calls: usize,
    pub pending_commands: usize,
    pub queued_commands: usize,
    pub outbox: usize,
    /// Ended calls the outbox keeps aside in case the link could not send them.
    pub handed: usize,
    /// Calls whose telling to the connector's run the outbox remembers.
    pub told: usize,
    pub notes: usize,
    pub pops: usize,
    pub refused_origins: usize,
    pub effects: usize,
}

/// The first byte of a snapshot; a snapshot of another layout is refused, not misread.
const SNAPSHOT_FORMAT: u8 = 3; // 3: tabs carry their devices and session; requests replace frames

/// Why a snapshot could not be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Not a snapshot of this version.
    Format,
    /// Cut short or altered.
    Damaged,
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SnapshotError::Format => "not a snapshot of this version",
            SnapshotError::Damaged => "the snapshot is damaged",
        })
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Bridge {
    #[serde(skip)]
    settings: Settings,
    #[serde(skip)]
    prefixes: Vec<String>,
    trust: OriginTrust,
    tabs: BTreeMap<u32, Tab>,
    outbox: Outbox,
    /// The connector session that acknowledged us, if one is up.
    session: Option<u64>,
    /// The last session that was handed texts: a send that failed on it may be said after
    /// it went down, in the same turn.
    #[serde(skip)]
    handed_session: Option<u64>,
    /// When the connector session came up, while that is less than `CONNECTOR_WARMUP_MS`
    /// ago (the popup says what a connector that has just started does with calls).
    #[serde(skip)]
    session_since: Option<u64>,
    link: LinkReport,
    stream: StreamReport,
    #[serde(skip)]
    missing_hosts: Vec<String>,
    /// Whether `missing_hosts` was checked for the middleware address in force now.
    #[serde(skip)]
    access_checked: bool,
    last_pop_failed: Option<Text>,
    pops: VecDeque<PopView>,
    notes: VecDeque<Note>,
    gate: CommandGate,
    next_token: u32,
    /// Who the operator was on the last WebClient login: the link keeps its HELLO
    /// identity while no WebClient tab is open (the extension number does not change).
    last_identity: Identity,
    #[serde(skip)]
    link_config: Option<LinkConfig>,
    /// Origins refused lately, so a look-alike gets one log line, not one per frame.
    #[serde(skip)]
    refused: Vec<String>,
    #[serde(skip)]
    effects: VecDeque<Effect>,
    /// A diagnostics recording: kept in memory only (it is not call state, and storing
    /// megabytes with every frame would slow the call path); frames keep it alive.
    #[serde(skip)]
    recorder: Recorder,
    #[serde(skip)]
    dirty: bool,
    #[serde(skip)]
    status_dirty: bool,
}

fn summary(ev: &CallEvent) -> String {
    let name =
        if ev.call.remote_name.is_empty() { String::new() } else { format!(" ({})", mask_name(&ev.call.remote_name)) };
    format!(
        "call {} {:?} {} {}{}",
        ev.call.id,
        ev.call.direction,
        ev.call.state.as_str(),
        mask_number(&ev.call.remote_number),
        name
    )
}

impl Bridge {
    pub fn new(settings: Settings) -> Self {
        let mut b = Bridge { outbox: Outbox::new(OUTBOX_MAX), ..Default::default() };
        b.set_settings(settings);
        b
    }

    // ---- persistence -----------------------------------------------------------------

    /// What a reopened offscreen document needs to carry on (tabs and their calls, the outbox, trust,
    /// commands in flight), in postcard's compact binary form behind a format byte.
    /// Settings, a diagnostics recording and undelivered effects are not part of it.
    pub fn snapshot(&self) -> Vec<u8> {
        // Every field serialises (no maps with non-string keys, no unsized sequences), and
        // a Vec takes any length: this cannot fail.
        postcard::to_extend(self, vec![SNAPSHOT_FORMAT]).expect("the bridge always serialises")
    }

    /// Rebuilds the state from `snapshot()` with the settings in force now.
    pub fn restore(bytes: &[u8], settings: Settings) -> Result<Bridge, SnapshotError> {
        let Some((&SNAPSHOT_FORMAT, body)) = bytes.split_first() else {
            return Err(SnapshotError::Format);
        };
        let (mut b, rest): (Bridge, _) = postcard::take_from_bytes(body).map_err(|_| SnapshotError::Damaged)?;
        if !rest.is_empty() {
            return Err(SnapshotError::Damaged);
        }
        b.set_settings(settings);
        Ok(b)
    }

    // ---- getters -------------------------------------------------------------------

    pub fn sizes(&self) -> Sizes {
        let tables = self.tabs.values().map(|t| t.tracker.sizes());
        Sizes {
            tabs: self.tabs.len(),
            legs: tables.clone().map(|(l, _)| l).max().unwrap_or(0),
            calls: tables.map(|(_, c)| c).max().unwrap_or(0),
            pending_commands: self.tabs.values().map(|t| t.pending.len()).max().unwrap_or(0),
            queued_commands: self.gate.queued(),
            outbox: self.outbox.len(),
            handed: self.outbox.handed(),
            told: self.outbox.told(),
            notes: self.notes.len(),
            pops: self.pops.len(),
            refused_origins: self.refused.len(),
            effects: self.effects.len(),
        }
    }

    /// The diagnostics recording (see `crate::diagnostics`).
    pub fn recorder(&mut self) -> &mut Recorder {
        &mut self.recorder
    }

    /// Starts a recording of `duration_ms`; the WebClient pages copy the WebClient's own
    /// requests to it until it ends.
    pub fn start_recording(&mut self, now: u64, duration_ms: u64) {
        self.recorder.start(now, duration_ms);
        self.tell_pages_recording(now);
    }

    pub fn stop_recording(&mut self, now: u64) {
        self.recorder.stop(now);
        self.tell_pages_recording(now);
    }

    /// Until when a page should copy the WebClient's own requests (0: not now).
    pub fn recording_until(&self, now: u64) -> u64 {
        if self.recorder.active(now) {
            self.recorder.status(now).until
        } else {
            0
        }
    }

    fn tell_pages_recording(&mut self, now: u64) {
        let until = self.recording_until(now);
        for &tab in self.tabs.keys() {
            self.effects.push_back(Effect::Recording { tab, until });
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn pinned_origin(&self) -> Option<&str> {
        self.trust.pinned()
    }

    /// The verdict on a page that looks like a WebClient, from its origin as Chrome
    /// reported it. An untrusted one is logged and noted once.
    pub fn page_verdict(&mut self, origin: &str, now: u64) -> Verdict {
        let v = self.trust.judge(origin);
        if v == Verdict::Untrusted {
            self.refuse_origin(origin, now);
        }
        v
    }

    /// Whether the state changed since the last call (then persist it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Whether what the popup shows changed since the last call.
    pub fn take_status_dirty(&mut self) -> bool {
        std::mem::take(&mut self.status_dirty)
    }

    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    pub fn has_effects(&self) -> bool {
        !self.effects.is_empty()
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        let tabs = self
            .tabs
            .values()
            .flat_map(|t| t.tracker.poll_timeout().into_iter().chain(t.pending.iter().map(|(_, p)| p.deadline_ms())));
        let warmup = self.session_since.map(|t| t + CONNECTOR_WARMUP_MS);
        tabs.chain(self.gate.poll_timeout()).chain(warmup).min()
    }

    /// The connector session that acknowledged us, if one is up.
    pub fn session(&self) -> Option<u64> {
        self.session
    }

    /// The link configuration in force (for a connector link that just started).
    pub fn link_config(&self) -> LinkConfig {
        self.compute_link_config()
    }

    /// The events the connector would need if a session started now (a new offscreen
    /// document replays them): live calls' history and everything not yet delivered.
    pub fn held_events(&self) -> usize {
        self.outbox.len()
    }

    // ---- settings --------------------------------------------------------------------

    pub fn set_settings(&mut self, settings: Settings) {
        // Only the middleware's address decides the stream (`stream_address`).
        if settings.server_address != self.settings.server_address {
            self.access_checked = false;
        }
        self.prefixes = pace::clean_prefixes(&settings.dial_blocked_prefixes);
        self.trust.set_configured(&settings.webclient_origins);
        self.settings = settings;
        for tab in self.tabs.values_mut() {
            let ext = if self.settings.extension_number.is_empty() {
                &tab.identity.extension
            } else {
                &self.settings.extension_number
            };
            tab.tracker.set_extension(ext);
        }
        self.refused.clear();
        self.update_link_config();
        self.status_dirty = true;
    }

    /// Restores the pinned origin kept in the shell's long-term storage.
    pub fn restore_pin(&mut self, origin: &str) {
        if self.trust.pinned().is_none() && trust::is_candidate(origin) {
            let _ = self.trust.admit_login(origin);
        }
    }

    pub fn forget_pinned(&mut self, now: u64) {
        if let Some(o) = self.trust.forget_pinned() {
            self.log(format!("forgot the trusted WebClient origin {o}"));
            // Its tabs lose their standing: their calls end for DATEV.
            let gone: Vec<u32> = self.tabs.iter().filter(|(_, t)| t.origin == o).map(|(id, _)| *id).collect();
            for id in gone {
                self.handle_tab_closed(id, now);
            }
            self.effects.push_back(Effect::Pin(None));
            self.touch();
        }
    }

    /// Host patterns PestRoutes needs but Chrome has not granted, as the shell found them
    /// for the addresses in force now.
    pub fn set_missing_hosts(&mut self, missing: Vec<String>) {
        let before = self.stream_address().to_owned();
        self.access_checked = true;
        if missing != self.missing_hosts {
            self.missing_hosts = missing;
            self.status_dirty = true;
        }
        if self.stream_address() != before {
            self.effects.push_back(Effect::LinkConfig(self.compute_link_config()));
        }
    }

    /// The middleware address the stream may use now: empty until host access has been
    /// checked, and while the extension may not reach it (a fetch would go out anyway and
    /// only its answer be withheld).
    pub fn stream_address(&self) -> &str {
        let needed = host_patterns(&self.settings.server_address, "");
        if !self.access_checked || needed.iter().any(|p| self.missing_hosts.contains(p)) {
            return "";
        }
        &self.settings.server_address
    }

    // ---- internals ---------------------------------------------------------------------

    // ---- the clock -----------------------------------------------------------------

    pub fn handle_timeout(&mut self, now: u64) {
        if self.session_since.is_some_and(|t| now >= t + CONNECTOR_WARMUP_MS) {
            self.session_since = None;
            self.status_dirty = true;
        }
        let ids: Vec<u32> = self.tabs.keys().copied().collect();
        for tab in ids {
            let Some(t) = self.tabs.get_mut(&tab) else {
                continue;
            };
            let events = t.tracker.handle_timeout(now);
            if !events.is_empty() {
                self.emit(tab, events, now);
            }
            self.expire_commands(tab, now);
        }
        self.run_due(now);
    }

    // ---- internals ---------------------------------------------------------------------

    fn emit(&mut self, tab: u32, events: Vec<CallEvent>, now: u64) {
        let dropped_before = self.outbox.dropped();
        for ev in events {
            self.effects.push_back(Effect::Trace(format!("tab {tab}: {}", summary(&ev))));
            let out = self.outbox.push(ev);
            if let Some(generation) = self.session {
                for o in out {
                    self.effects.push_back(Effect::ToConnector { generation, seq: o.seq, text: o.text });
                }
            }
        }
        self.report_dropped(dropped_before, now);
        self.touch();
    }

    /// One line and one notice when the outbox dropped entries since `before`.
    fn report_dropped(&mut self, before: u64, now: u64) {
        let dropped = self.outbox.dropped() - before;
        if dropped > 0 {
            self.log(format!(
                "connector queue full: {dropped} oldest events dropped ({} in all)",
                self.outbox.dropped()
            ));
            self.note(now, Text::new("noteDropped", &[&dropped.to_string()]));
        }
    }

    fn log(&mut self, line: String) {
        self.effects.push_back(Effect::Log(line));
    }

    fn note(&mut self, at: u64, text: Text) {
        self.notes.push_front(Note { at, text });
        self.notes.truncate(MAX_NOTES);
        self.touch();
    }

    fn touch(&mut self) {
        self.dirty = true;
        self.status_dirty = true;
    }

    fn token(&mut self) -> u32 {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }
}
