//! The call path's state machine (in the offscreen document): which WebClient tabs are
//! believed, their calls, the connector outbox, DATEV's commands (pace, dial policy,
//! confirmation, fallback) and what the popup shows.
//!
//! Sans-IO in the style of `quinn-proto`: `handle_*` for what arrives (frames from a tab,
//! the connector link's reports, commands, the clock), `poll_effect` for what the shell
//! must do next, `poll_timeout` for when to call `handle_timeout`, getters for the rest.
//! Every input names its sender as Chrome reported it (tab id and origin); nothing a page
//! says about itself decides trust.

pub mod pace;
pub mod status;
pub mod trust;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::command::{drop_call_frame, DialString, PendingCommand};
use crate::connector::{CallEvent, Command, Direction};
use crate::diagnostics::Recorder;
use crate::link::Outbox;
use crate::privacy::{mask_name, mask_number};
use crate::tracker::CallTracker;
use pace::{CommandGate, Queued, Refusal};
use status::{Level, Note, PopView, Row, StatusView, Text};
use trust::{OriginTrust, Verdict};

/// Calls older than this end on their own (a tab that stopped talking).
pub const STALE_AFTER_MS: u64 = 4 * 60 * 60 * 1000;
/// A dialled call must show up this soon, else the fallback runs.
pub const DIAL_CONFIRM_MS: u64 = 2_500;
pub const DROP_CONFIRM_MS: u64 = 3_000;
/// How long the page may take to say it opened the tel: dialog. Longer than the document
/// waits for a sleeping tab to connect (5 s, doc-pages.js), which reports its own failure.
pub const TEL_ANSWER_MS: u64 = 8_000;
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
/// The fallback dial's pause between the tel: click and Enter, bounds of the setting.
pub const DIAL_DELAY_DEFAULT_MS: u32 = 750;
pub const DIAL_DELAY_MAX_MS: u32 = 5_000;

/// Hosts granted at install (manifest `host_permissions`): PestRoutes and FieldRoutes
/// offices need no click for screen-pops.
pub const INSTALL_GRANTED_HOSTS: [&str; 2] = [".pestroutes.com", ".fieldroutes.com"];

/// Opening a customer in the PestRoutes tab: how long the tab may take to load, and how
/// the search result list is watched (spec/pestroutes-sse.md: about every 150 ms, ~3 s).
pub const POP_LOAD_TIMEOUT_MS: u32 = 30_000;
pub const POP_POLL_MS: u32 = 150;
pub const POP_POLL_FOR_MS: u32 = 3_000;
/// Screen-pops waiting for the PestRoutes tab; more are dropped (and logged).
pub const POP_QUEUE_MAX: u32 = 8;

/// `scheme://host[:port]` of an http(s) address, lower-cased; `host:port` means http.
pub fn web_origin(address: &str) -> Option<String> {
    let a = address.trim();
    if a.is_empty() || a.len() > 512 {
        return None;
    }
    let lower = a.to_ascii_lowercase();
    let (scheme, rest) = if let Some(r) = lower.strip_prefix("https://") {
        ("https", r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        ("http", r)
    } else if lower.contains("://") {
        return None;
    } else {
        ("http", lower.as_str())
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host =
        host_port
            .rsplit_once(':')
            .map_or(host_port, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host_port });
    if host.is_empty()
        || host.contains('@')
        || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    {
        return None;
    }
    Some(format!("{scheme}://{host_port}"))
}

/// Host permission patterns PestRoutes needs beyond what the manifest grants at install:
/// the middleware's and the PestRoutes page's origins.
pub fn host_patterns(server_address: &str, pestroutes_url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in [web_origin(server_address), web_origin(pestroutes_url)].into_iter().flatten() {
        let host = o.split("://").nth(1).unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let granted = o.starts_with("https://") && INSTALL_GRANTED_HOSTS.iter().any(|d| host.ends_with(d));
        let pattern = format!("{o}/*");
        if !granted && !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    out
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DialMethod {
    /// RequestMakeCall, then the tel: link when the PBX does not react.
    #[default]
    Auto,
    Protobuf,
    Tel,
}

/// The settings the core acts on (local or policy; the shell has validated types).
/// The PestRoutes secret is not among them: the core never needs it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub extension_number: String,
    pub bridge_port: u16,
    pub dial_method: DialMethod,
    pub dial_delay: u32,
    pub dial_blocked_prefixes: Vec<String>,
    pub webclient_origins: Vec<String>,
    /// Clicks on phone numbers in PestRoutes pages dial (see `handle_click_to_dial`).
    pub click_to_dial: bool,
    /// The office's PestRoutes address: its origin may ask to dial too.
    pub pestroutes_url: String,
    /// The PestRoutes middleware (`host:port` or a URL): the stream is opened only once
    /// the extension may reach it (`stream_address`).
    pub server_address: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            extension_number: String::new(),
            bridge_port: 0,
            dial_method: DialMethod::Auto,
            dial_delay: DIAL_DELAY_DEFAULT_MS,
            dial_blocked_prefixes: pace::DEFAULT_BLOCKED_PREFIXES.map(String::from).to_vec(),
            webclient_origins: Vec::new(),
            click_to_dial: true,
            pestroutes_url: String::new(),
            server_address: String::new(),
        }
    }
}

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
}

/// A port whose connector acknowledged another extension than ours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Foreign {
    pub port: u16,
    pub extension: String,
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
    /// Put this command frame on the tab's WebClient socket; report the outcome with
    /// `handle_send_result(tab, token, …)`.
    FrameToTab { tab: u32, token: u32, frame: Vec<u8> },
    /// Dial through the WebClient's own tel: dialog (the fallback method).
    /// `token` comes back with the page's answer (`handle_send_result`).
    TelDial { tab: u32, token: u32, number: String, delay_ms: u32 },
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
    /// Commands sent as frames, waiting for the PBX to show them (with their tokens).
    pending: Vec<(u32, PendingCommand)>,
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
    pub notes: usize,
    pub pops: usize,
    pub refused_origins: usize,
    pub effects: usize,
}

/// The first byte of a snapshot; a snapshot of another layout is refused, not misread.
const SNAPSHOT_FORMAT: u8 = 2; // 2: outbox entries carry their number, trust its unusable entries

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
        tabs.chain(self.gate.poll_timeout()).min()
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

    // ---- pages -------------------------------------------------------------------------

    /// Page id and sequence number: a message seen before is a repeat; a number skipped is
    /// a message lost on the way (the page's queue overflowed while the extension could
    /// not take its frames, or its hook held more than it could before the verdict), which
    /// the operator hears of, since the calls shown may be wrong until the page reloads.
    /// A page's first message is its login, number 1.
    fn sequence(&mut self, tab: u32, page_id: &str, seq: u64, now: u64) -> Accepted {
        if page_id.is_empty() || page_id.len() > MAX_PAGE_ID_LEN {
            return Accepted::Refused;
        }
        let Some(t) = self.tabs.get_mut(&tab) else {
            return Accepted::Refused;
        };
        if t.page_id == page_id && seq <= t.seq {
            return Accepted::Repeat;
        }
        // A tab new to this core (first seen, admitted again after Forget, or after a
        // state that could not be restored) has no count to compare with: it starts here.
        let expected = if t.page_id == page_id {
            t.seq + 1
        } else if t.page_id.is_empty() {
            seq
        } else {
            1
        };
        if t.page_id != page_id {
            t.page_id = page_id.to_owned();
        }
        t.seq = seq;
        if seq > expected {
            self.frames_lost(tab, seq - expected, now);
        }
        Accepted::Yes
    }

    /// One line per gap; one notice for losses in a row (a queue that overflows after
    /// every ack would otherwise push every other notice out of the popup).
    fn frames_lost(&mut self, tab: u32, lost: u64, now: u64) {
        self.log(format!("tab {tab}: {lost} WebClient frames or messages lost before they reached the extension"));
        let before = match self.notes.front() {
            Some(n) if n.text.key == "noteFramesLost" => n.text.args.first().and_then(|a| a.parse::<u64>().ok()),
            _ => None,
        };
        if before.is_some() {
            self.notes.pop_front();
        }
        let total = before.unwrap_or(0).saturating_add(lost).to_string();
        self.note(now, Text::new("noteFramesLost", &[&total]));
    }

    /// Makes room for `tab` from `origin` when the origin is trusted (pinning it on first
    /// use when `login`).
    fn admit_tab(&mut self, tab: u32, origin: &str, login: bool, now: u64) -> bool {
        let verdict = if login {
            let (v, pinned) = self.trust.admit_login(origin);
            if pinned {
                self.log(format!("trusting the WebClient on {origin} (first login)"));
                self.effects.push_back(Effect::Pin(Some(origin.to_owned())));
                self.status_dirty = true;
            }
            v
        } else {
            self.trust.judge(origin)
        };
        if verdict != Verdict::Trusted {
            self.refuse_origin(origin, now);
            return false;
        }
        if let Some(t) = self.tabs.get(&tab) {
            if t.origin == origin {
                return true;
            }
            // The tab navigated to another trusted origin: its old calls are over.
            self.handle_tab_closed(tab, now);
        }
        if self.tabs.len() >= MAX_TABS {
            self.log(format!("tab {tab}: refused, {MAX_TABS} WebClient tabs are tracked already"));
            return false;
        }
        let ext = if self.settings.extension_number.is_empty() { "" } else { &self.settings.extension_number };
        self.tabs.insert(
            tab,
            Tab {
                origin: origin.to_owned(),
                page_id: String::new(),
                seq: 0,
                identity: Identity::default(),
                open: false,
                last_frame_at: 0,
                tracker: CallTracker::new(ext, &tab.to_string(), STALE_AFTER_MS),
                pending: Vec::new(),
            },
        );
        true
    }

    fn refuse_origin(&mut self, origin: &str, now: u64) {
        if self.refused.iter().any(|o| o == origin) {
            return;
        }
        if self.refused.len() >= MAX_NOTES {
            self.refused.remove(0);
        }
        self.refused.push(origin.to_owned());
        let shown: String = origin.chars().take(trust::MAX_ORIGIN_LEN).collect();
        self.log(format!("ignored a WebClient look-alike on {shown}: not a trusted origin"));
        self.note(now, Text::new("noteLookalike", &[&shown]));
    }

    /// The WebClient socket opened on a page, with the page's provisioning.
    pub fn handle_login(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: u64,
        identity: &Identity,
        now: u64,
    ) -> Accepted {
        if !self.admit_tab(tab, origin, true, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a != Accepted::Yes {
            return a;
        }
        let configured = self.settings.extension_number.clone();
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.identity = identity.sanitised();
            if !t.identity.extension.is_empty() {
                self.last_identity = t.identity.clone();
            }
            t.open = true;
            t.tracker.set_extension(if configured.is_empty() { &t.identity.extension } else { &configured });
        }
        self.update_link_config();
        self.touch();
        Accepted::Yes
    }

    pub fn handle_socket_closed(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, now: u64) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a == Accepted::Yes {
            if let Some(t) = self.tabs.get_mut(&tab) {
                t.open = false;
            }
            self.touch();
        }
        a
    }

    /// The page could not hold some of its messages (numbers skipped before `seq`): told
    /// at once, not only with the next frame, which may be a long way off.
    pub fn handle_lost(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, now: u64) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a == Accepted::Yes {
            self.dirty = true;
        }
        a
    }

    /// One binary frame from a tab's WebClient socket, received in the page at `ts`.
    pub fn handle_frame(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, ts: u64, bytes: &[u8]) -> Accepted {
        if !self.admit_tab(tab, origin, true, ts) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, ts);
        if a != Accepted::Yes {
            return a;
        }
        self.dirty = true;
        if bytes.len() > MAX_FRAME_BYTES {
            self.log(format!("tab {tab}: frame of {} bytes refused (limit {MAX_FRAME_BYTES})", bytes.len()));
            self.note(ts, Text::new("noteTooLarge", &[]));
            return Accepted::Yes;
        }
        let Some(t) = self.tabs.get_mut(&tab) else {
            return Accepted::Refused;
        };
        t.open = true;
        t.last_frame_at = ts;
        self.recorder.record(ts, bytes);
        match t.tracker.handle_frame(bytes, ts) {
            Ok(out) => {
                for n in &out.notes {
                    self.effects.push_back(Effect::Log(format!("tab {tab}: {n}")));
                }
                if out.extension_detected.is_some() {
                    self.update_link_config();
                }
                if !out.events.is_empty() {
                    self.emit(tab, out.events, ts);
                }
            }
            Err(e) => self.log(format!("tab {tab}: frame rejected: {e}")),
        }
        self.run_due(ts);
        Accepted::Yes
    }

    /// The page refused a frame over `MAX_FRAME_BYTES` before copying it.
    pub fn handle_oversized_frame(&mut self, tab: u32, origin: &str, size: u64, now: u64) {
        if self.trust.judge(origin) != Verdict::Trusted {
            return;
        }
        self.log(format!("tab {tab}: frame of {size} bytes refused (limit {MAX_FRAME_BYTES})"));
        self.note(now, Text::new("noteTooLarge", &[]));
    }

    /// The tab is gone (closed or navigated away): its calls end for DATEV now.
    pub fn handle_tab_closed(&mut self, tab: u32, now: u64) {
        let Some(mut t) = self.tabs.remove(&tab) else {
            return;
        };
        let events = t.tracker.end_all(now);
        self.tabs.insert(tab, t);
        self.emit(tab, events, now);
        self.tabs.remove(&tab);
        self.update_link_config();
        self.touch();
    }

    /// The tabs open now, after a restore: a tab the restored state knows and the browser
    /// does not was closed while no document heard of it (its `tabClosed` went to the
    /// document that died before storing it), so its calls end now, as for a closed tab.
    pub fn retain_tabs(&mut self, open: &[u32], now: u64) {
        let gone: Vec<u32> = self.tabs.keys().copied().filter(|t| !open.contains(t)).collect();
        for tab in gone {
            self.handle_tab_closed(tab, now);
        }
    }

    // ---- the connector link --------------------------------------------------------

    /// HELLO_ACK from our connector on session `generation`: it knows nothing, so it gets
    /// the whole log (live calls' history, events that happened while it was away).
    pub fn handle_link_ready(&mut self, generation: u64) {
        self.session = Some(generation);
        self.handed_session = Some(generation);
        for o in self.outbox.session_started() {
            self.effects.push_back(Effect::ToConnector { generation, seq: o.seq, text: o.text });
        }
        self.touch();
    }

    pub fn handle_link_down(&mut self, generation: u64) {
        if self.session == Some(generation) {
            self.session = None;
            self.outbox.session_ended();
            // Shown at once: the link reports its search only after its backoff.
            if self.link.state == "ready" {
                self.link = LinkReport { state: "searching".into(), ..LinkReport::default() };
            }
            self.touch();
        }
    }

    /// The shell could not send text `seq` on session `generation`: its socket was no longer
    /// open (the connector had begun to close it, and the close had not reached the shell
    /// yet), or the session went down earlier in the same turn. Neither it nor anything
    /// after it left, so the session is over here, and the calls that ended in what did
    /// not leave go to the next session, whole.
    pub fn handle_link_unsent(&mut self, generation: u64, seq: u64, now: u64) {
        if self.handed_session != Some(generation) {
            return;
        }
        let dropped_before = self.outbox.dropped();
        let calls = self.outbox.unsent(seq);
        let live = self.session == Some(generation);
        if live || calls > 0 {
            self.log(format!(
                "the connector's socket closed under a send; ended calls kept for the next session: {calls}"
            ));
        }
        self.report_dropped(dropped_before, now);
        if live {
            self.handle_link_down(generation);
        }
        // Everything after `seq` in this session failed too and is back already: the
        // texts of it still on their way are not news.
        self.handed_session = None;
        self.touch();
    }

    /// A connector link that starts afresh (a new offscreen document) has no session.
    pub fn handle_link_restarted(&mut self) {
        self.handed_session = None; // the new link numbers its sessions afresh
        if self.session.take().is_some() {
            self.outbox.session_ended();
        }
        // Whatever the old document last reported is no longer true.
        self.link = LinkReport::default();
        self.touch();
    }

    pub fn handle_link_report(&mut self, report: LinkReport, now: u64) {
        if report == self.link {
            return;
        }
        if let Some(f) = &report.foreign {
            if self.link.foreign.as_ref() != Some(f) {
                let ext: String = f.extension.chars().take(16).collect();
                self.note(now, Text::new("noteForeign", &[&f.port.to_string(), &ext]));
            }
        }
        self.link = report;
        self.status_dirty = true;
    }

    pub fn handle_stream_report(&mut self, report: StreamReport) {
        if report != self.stream {
            self.stream = report;
            self.status_dirty = true;
        }
    }

    // ---- commands ------------------------------------------------------------------

    /// Whether a page on `origin` is a PestRoutes page that may ask to dial: https on a
    /// host granted at install (*.pestroutes.com, *.fieldroutes.com), or the origin of the
    /// configured PestRoutes address.
    pub fn is_pestroutes_origin(&self, origin: &str) -> bool {
        let host = origin.strip_prefix("https://").map(|h| h.rsplit_once(':').map_or(h, |(h, _)| h));
        host.is_some_and(|h| INSTALL_GRANTED_HOSTS.iter().any(|d| h.ends_with(d)))
            || web_origin(&self.settings.pestroutes_url).is_some_and(|o| o == origin)
    }

    /// The operator clicked a phone number on a PestRoutes page (the origin as Chrome
    /// reports the sender). Dialled exactly like DATEV's DIAL: the same checks (blocked
    /// prefixes, double clicks, pace), RequestMakeCall and its confirmation or fallback.
    pub fn click_to_dial_allowed(&self, origin: &str) -> bool {
        self.settings.click_to_dial && self.is_pestroutes_origin(origin)
    }

    pub fn handle_click_to_dial(&mut self, origin: &str, number: &str, now: u64) {
        if !self.click_to_dial_allowed(origin) {
            let why = if self.settings.click_to_dial { "not a PestRoutes page" } else { "click-to-dial is off" };
            self.log(format!("click-to-dial from {origin} refused: {why}"));
            return;
        }
        self.handle_command(Command::Dial { number: number.to_owned(), sync_id: None }, now);
    }

    /// A COMMAND from our connector (the link has checked it acknowledged us), or a
    /// click-to-dial.
    pub fn handle_command(&mut self, cmd: Command, now: u64) {
        // A connector message may be 1 MiB: a number or call id no real one comes near is
        // refused here, before it is logged or queued.
        let oversized = match &cmd {
            Command::Dial { number, .. } => number.len() > 4 * crate::command::MAX_DIAL_LEN,
            Command::Drop { call_id } => call_id.as_ref().is_some_and(|c| c.len() > MAX_CALL_ID_LEN),
        };
        if oversized {
            self.log("command refused: its number or call id is far too long".into());
            return;
        }
        let (queued, what) = match cmd {
            Command::Dial { number, .. } => {
                let what = format!("DIAL {}", mask_number(&number));
                (Queued::Dial { number }, what)
            }
            Command::Drop { call_id } => {
                let what = format!("DROP {}", call_id.as_deref().unwrap_or("(most recent call)"));
                (Queued::Drop { call_id }, what)
            }
        };
        self.admit_command(queued, &what, now);
    }

    fn admit_command(&mut self, queued: Queued, what: &str, now: u64) {
        let number = match &queued {
            Queued::Dial { number } => mask_number(number),
            Queued::Drop { .. } => String::new(),
        };
        match self.gate.admit(queued, &self.prefixes, now) {
            Ok(()) => self.log(format!("{what} received")),
            Err(Refusal::Duplicate) => self.log(format!("{what}: the same number was just dialled; one dial")),
            Err(Refusal::Flood) => {
                self.log(format!(
                    "{what} refused: more than {} commands in {} s",
                    pace::FLOOD_MAX,
                    pace::FLOOD_WINDOW_MS / 1000
                ));
                self.note(now, Text::new("noteFlood", &[]));
            }
            Err(Refusal::Blocked { prefix }) => {
                self.log(format!("{what} refused: blocked prefix {prefix}"));
                self.note(now, Text::new("noteBlocked", &[&number]));
            }
        }
        self.run_due(now);
        self.dirty = true;
    }

    /// The trusted tab that commands go to: an open socket, the freshest frames.
    fn command_tab(&self) -> Option<u32> {
        self.tabs.iter().filter(|(_, t)| t.open).max_by_key(|(_, t)| t.last_frame_at).map(|(id, _)| *id)
    }

    fn run_due(&mut self, now: u64) {
        while let Some(cmd) = self.gate.poll_due(now) {
            let Some(tab) = self.command_tab() else {
                self.log("command refused: no 3CX WebClient tab is open".into());
                self.note(now, Text::new("noteNoTab", &[]));
                continue;
            };
            match cmd {
                Queued::Dial { number } => self.dial(tab, &number, now),
                Queued::Drop { call_id } => self.drop_call(tab, call_id.as_deref(), now),
            }
        }
    }

    fn token(&mut self) -> u32 {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }

    fn dial(&mut self, tab: u32, raw: &str, now: u64) {
        let number = match DialString::parse(raw) {
            Ok(n) => n,
            Err(e) => {
                self.log(format!("DIAL {} refused: {e}", mask_number(raw)));
                return self.note(now, Text::new("noteDialInvalid", &[&mask_number(raw)]));
            }
        };
        if self.settings.dial_method == DialMethod::Tel {
            return self.tel_dial(tab, number, now);
        }
        let token = self.token();
        let frame = number.make_call_frame();
        self.log(format!("DIAL {}: RequestMakeCall sent", mask_number(number.as_str())));
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.pending.push((token, PendingCommand::Dial { number, deadline_ms: now + DIAL_CONFIRM_MS }));
        }
        self.effects.push_back(Effect::FrameToTab { tab, token, frame });
    }

    fn tel_dial(&mut self, tab: u32, number: DialString, now: u64) {
        self.log(format!("DIAL {}: through the WebClient's tel: dialog", mask_number(number.as_str())));
        let delay_ms = self.settings.dial_delay.min(DIAL_DELAY_MAX_MS);
        let token = self.token();
        let effect = Effect::TelDial { tab, token, number: number.as_str().to_owned(), delay_ms };
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.pending.push((token, PendingCommand::Tel { number, deadline_ms: now + TEL_ANSWER_MS }));
        }
        self.effects.push_back(effect);
    }

    /// The tel: dialog did not open: nothing was dialled, and the operator hears of it.
    fn tel_failed(&mut self, number: &DialString, why: &str, now: u64) {
        self.log(format!("DIAL {}: tel: dialog not opened ({why})", mask_number(number.as_str())));
        self.note(now, Text::new("noteTelFailed", &[&mask_number(number.as_str())]));
    }

    fn drop_call(&mut self, tab: u32, call_id: Option<&str>, now: u64) {
        let Some(t) = self.tabs.get(&tab) else { return };
        match drop_call_frame(&t.tracker, call_id) {
            Ok((call_id, frame)) => {
                let token = self.token();
                if let Some(t) = self.tabs.get_mut(&tab) {
                    t.pending.push((
                        token,
                        PendingCommand::Drop { call_id: call_id.clone(), deadline_ms: now + DROP_CONFIRM_MS },
                    ));
                }
                self.effects.push_back(Effect::FrameToTab { tab, token, frame });
                self.log(format!("DROP call {call_id}: RequestDropCall sent"));
            }
            // Mostly a call that ended as DATEV asked to end it: nothing to tell the operator.
            Err(e) => self.log(format!("DROP refused: {e}")),
        }
    }

    /// Whether the page put a command frame on its socket, or opened the tel: dialog.
    pub fn handle_send_result(&mut self, tab: u32, token: u32, ok: bool, why: &str, now: u64) {
        let Some(t) = self.tabs.get_mut(&tab) else {
            return;
        };
        let Some(i) = t.pending.iter().position(|(k, _)| *k == token) else {
            return;
        };
        // A frame on the socket waits for the PBX to show the call; the tel: dialog
        // dials by itself once opened, so the page's yes is all there is to wait for.
        if ok && !matches!(t.pending[i].1, PendingCommand::Tel { .. }) {
            return;
        }
        let (_, p) = t.pending.remove(i);
        self.dirty = true;
        if ok {
            return;
        }
        let why: String = why.chars().take(120).collect();
        match p {
            PendingCommand::Tel { number, .. } => self.tel_failed(&number, &why, now),
            PendingCommand::Dial { number, .. } => {
                self.log(format!("DIAL {}: RequestMakeCall not sent ({why})", mask_number(number.as_str())));
                if self.settings.dial_method == DialMethod::Auto {
                    self.tel_dial(tab, number, now);
                } else {
                    self.note(now, Text::new("noteDialFailed", &[&mask_number(number.as_str())]));
                }
            }
            PendingCommand::Drop { call_id, .. } => {
                self.log(format!("DROP call {call_id}: not sent ({why})"));
                self.note(now, Text::new("noteDropFailed", &[]));
            }
        }
    }

    // ---- the clock -----------------------------------------------------------------

    pub fn handle_timeout(&mut self, now: u64) {
        let ids: Vec<u32> = self.tabs.keys().copied().collect();
        for tab in ids {
            let Some(t) = self.tabs.get_mut(&tab) else {
                continue;
            };
            let events = t.tracker.handle_timeout(now);
            let (expired, kept): (Vec<_>, Vec<_>) = t.pending.drain(..).partition(|(_, p)| p.deadline_ms() <= now);
            t.pending = kept;
            if !events.is_empty() {
                self.emit(tab, events, now);
            }
            for (_, p) in expired {
                self.dirty = true;
                match p {
                    PendingCommand::Dial { number, .. } if self.settings.dial_method == DialMethod::Auto => {
                        self.log(format!(
                            "DIAL {}: the PBX did not react to RequestMakeCall; falling back to the tel: link",
                            mask_number(number.as_str())
                        ));
                        self.tel_dial(tab, number, now);
                    }
                    PendingCommand::Tel { number, .. } => {
                        self.tel_failed(&number, "the WebClient page did not answer", now);
                    }
                    PendingCommand::Dial { number, .. } => {
                        self.log(format!(
                            "DIAL {}: the PBX did not react to RequestMakeCall",
                            mask_number(number.as_str())
                        ));
                        self.note(now, Text::new("noteDialFailed", &[&mask_number(number.as_str())]));
                    }
                    PendingCommand::Drop { call_id, .. } => {
                        self.log(format!("DROP call {call_id}: the PBX did not end the call"));
                        self.note(now, Text::new("noteDropFailed", &[]));
                    }
                }
            }
        }
        self.run_due(now);
    }

    // ---- PestRoutes ----------------------------------------------------------------

    /// A screen-pop ran: `outcome` is a status text key (popOpened, popNoResult, …).
    pub fn handle_pop_result(&mut self, term: &str, mut outcome: Text, ok: bool, now: u64) {
        let term = crate::cut(term.to_owned(), MAX_POP_TEXT);
        let term = if term.chars().any(|c| c.is_ascii_digit()) && term.len() > 4 { mask_number(&term) } else { term };
        // An error's text comes from the browser: short enough for the popup's one line.
        for a in &mut outcome.args {
            *a = crate::cut(std::mem::take(a), MAX_POP_TEXT);
        }
        self.last_pop_failed = if ok { None } else { Some(outcome.clone()) };
        self.pops.push_front(PopView { at: now, term, outcome, ok });
        self.pops.truncate(MAX_POPS);
        self.touch();
    }

    // ---- internals ---------------------------------------------------------------------

    fn emit(&mut self, tab: u32, events: Vec<CallEvent>, now: u64) {
        let dropped_before = self.outbox.dropped();
        for ev in events {
            if let Some(t) = self.tabs.get_mut(&tab) {
                t.pending.retain(|(_, p)| {
                    let done = p.confirmed_by(&ev);
                    if done {
                        self.effects.push_back(Effect::Log(match p {
                            PendingCommand::Dial { .. } | PendingCommand::Tel { .. } => {
                                format!("dial confirmed by call {}", ev.call.id)
                            }
                            PendingCommand::Drop { call_id, .. } => {
                                format!("drop of call {call_id} confirmed")
                            }
                        }));
                    }
                    !done
                });
            }
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

    fn compute_link_config(&self) -> LinkConfig {
        let best = self
            .tabs
            .values()
            .filter(|t| !t.identity.extension.is_empty() || !t.tracker.extension().is_empty())
            .max_by_key(|t| (t.open, t.last_frame_at));
        let id = best.map(|t| t.identity.clone()).unwrap_or_else(|| self.last_identity.clone());
        let extension = if !self.settings.extension_number.is_empty() {
            self.settings.extension_number.clone()
        } else if !id.extension.is_empty() {
            id.extension.clone()
        } else {
            best.map(|t| t.tracker.extension().to_owned()).unwrap_or_default()
        };
        LinkConfig {
            extension,
            domain: id.domain,
            webclient_version: id.webclient_version,
            user_name: id.user_name,
            bridge_port: self.settings.bridge_port,
            last_good_port: 0,
        }
    }

    fn update_link_config(&mut self) {
        let cfg = self.compute_link_config();
        if self.link_config.as_ref() != Some(&cfg) {
            self.link_config = Some(cfg.clone());
            self.effects.push_back(Effect::LinkConfig(cfg));
            self.status_dirty = true;
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

    // ---- what the popup shows --------------------------------------------------------

    pub fn status_view(&self, now: u64) -> StatusView {
        let webclient = self.webclient_row();
        let connector = self.connector_row();
        let pestroutes = self.pestroutes_row();
        let badge = status::badge(webclient.level, connector.level, pestroutes.level);
        let mut calls = Vec::new();
        for t in self.tabs.values() {
            for ev in t.tracker.current_calls(now) {
                calls.push(status::CallView {
                    direction: if ev.call.direction == Direction::Inbound { "inbound" } else { "outbound" },
                    state: ev.call.state.as_str(),
                    number: mask_number(&ev.call.remote_number),
                    name: mask_name(&ev.call.remote_name),
                });
            }
        }
        StatusView {
            v: 1,
            at: now,
            badge,
            rows: status::Rows { webclient, connector, pestroutes },
            calls,
            pops: self.pops.iter().cloned().collect(),
            notes: self.notes.iter().cloned().collect(),
            trust: status::TrustView {
                configured: self.trust.configured().to_vec(),
                unusable: self.trust.unusable().to_vec(),
                pinned: self.trust.pinned().map(str::to_owned),
            },
        }
    }

    fn webclient_row(&self) -> Row {
        if self.trust.refuses_all() {
            return Row::new(Level::Bad, Text::new("wcUnusable", &[&self.trust.unusable().join(", ")]));
        }
        let best = self.tabs.values().filter(|t| t.open).max_by_key(|t| t.last_frame_at);
        match best {
            None => Row::new(Level::Warn, Text::new("wcNoTab", &[])),
            Some(t) => {
                let ext = self.compute_link_config().extension;
                if ext.is_empty() {
                    Row::new(Level::Warn, Text::new("wcNoExtension", &[&t.origin]))
                } else {
                    Row::new(Level::Ok, Text::new("wcConnected", &[&ext, &t.origin]))
                }
            }
        }
    }

    fn connector_row(&self) -> Row {
        let port = self.link.port.map(|p| p.to_string()).unwrap_or_default();
        let mut row = match self.link.state.as_str() {
            "ready" => Row::new(Level::Ok, Text::new("linkReady", &[&port])),
            "connecting" => Row::new(Level::Busy, Text::new("linkConnecting", &[&port])),
            "waiting" => Row::new(Level::Busy, Text::new("linkWaiting", &[])),
            _ => Row::new(Level::Busy, Text::new("linkSearching", &[])),
        };
        if row.level != Level::Ok {
            if let Some(f) = &self.link.foreign {
                let ext: String = f.extension.chars().take(16).collect();
                row = Row::new(Level::Bad, Text::new("linkForeign", &[&f.port.to_string(), &ext]));
            } else if let Some(p) = self.link.no_ack_port {
                row = Row::new(Level::Warn, Text::new("linkNoAck", &[&p.to_string()]));
            }
            if !self.outbox.is_empty() {
                row.extra = Some(Text::new("linkHeld", &[&self.outbox.len().to_string()]));
            }
        }
        row
    }

    /// The stream is not open: say what it waits for (the secret is the document's, so
    /// with an address and an agent it is what is missing).
    fn unconfigured_stream_row(&self) -> Row {
        let address = &self.settings.server_address;
        if address.is_empty() {
            Row::new(Level::Off, Text::new("streamUnconfigured", &[]))
        } else if crate::stream::base_url(address).is_none() {
            Row::new(Level::Bad, Text::new("streamBadAddress", &[&crate::cut(address.clone(), MAX_POP_TEXT)]))
        } else if !self.access_checked {
            Row::new(Level::Busy, Text::new("streamConnecting", &[]))
        } else if self.compute_link_config().extension.is_empty() {
            Row::new(Level::Busy, Text::new("streamNoAgent", &[]))
        } else {
            Row::new(Level::Warn, Text::new("streamNoSecret", &[]))
        }
    }

    fn pestroutes_row(&self) -> Row {
        if !self.missing_hosts.is_empty() {
            let mut row = Row::new(Level::Bad, Text::new("streamNoAccess", &[&self.missing_hosts.join(", ")]));
            row.action = Some(status::Action::GrantHosts { origins: self.missing_hosts.clone() });
            return row;
        }
        let agent = self.stream.agent.clone().unwrap_or_default();
        let mut row = match self.stream.state.as_str() {
            "connected" => Row::new(Level::Ok, Text::new("streamConnected", &[&agent])),
            "connecting" => Row::new(Level::Busy, Text::new("streamConnecting", &[])),
            "forbidden" => Row::new(Level::Bad, Text::new("streamForbidden", &[])),
            "badRequest" => Row::new(Level::Bad, Text::new("streamBadRequest", &[])),
            "unreachable" => Row::new(Level::Warn, Text::new("streamUnreachable", &[])),
            _ => return self.unconfigured_stream_row(),
        };
        if let Some(failed) = &self.last_pop_failed {
            if row.level == Level::Ok || row.level == Level::Busy {
                row.level = Level::Warn;
            }
            row.extra = Some(failed.clone());
        }
        row
    }
}
