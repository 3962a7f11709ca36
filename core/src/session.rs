//! The connector session: finding the local DATEV connector, greeting it, and deciding
//! whether it is *ours*, as a sans-IO state machine (in the style of `quinn-proto`).
//!
//! The shell owns the probe fetches, the WebSocket and one timer. It feeds what happened
//! (`handle_probe_result`, `handle_open`, `handle_text`, `handle_close`, `handle_timeout`)
//! with the clock as a parameter, and carries out the effects it polls (`poll_effect`).
//!
//! Policy (spec/connector-v1.md, issue 8):
//! - Discovery: the preferred port, then the last good port, one at a time, then the rest
//!   of the range in parallel; the first `OK` wins. A configured `bridge_port` is the only
//!   port ever tried.
//! - HELLO on every new socket; no HELLO_ACK within [`HELLO_ACK_TIMEOUT_MS`]: HELLO again,
//!   [`HELLO_TRIES`] times in all, then close and search on.
//! - Only a HELLO_ACK whose `extension` equals ours makes the session Ready, or one naming
//!   the extension the operator or an administrator accepted (`LinkConfig::accepted_extension`)
//!   on the port a connector for that extension takes (or the configured port). The
//!   connector acknowledges with the extension in its own settings, never ours
//!   (`spec/connector-v1.md`), so any other ack is "not our connector" as far as we can
//!   tell: nothing is sent there, none of its COMMANDs is carried out, the socket closes
//!   and the search goes on without that port. One on the port of the extension it names
//!   is told apart (`Foreign::own_port`): most likely a connector set up for another
//!   extension (an old setup, hot-desking, a typo in its wizard), or a colleague's on a
//!   shared PC; a squatter on our port names another one. An ack that does not name an
//!   extension never counts: the deployed connector always names it, and accepting a
//!   missing one would let a squatter pass by leaving the field out.
//! - The connector's Auto mode listens only in windows of about 8 s, about every 38 s,
//!   until a first HELLO: besides the rounds over the whole range (backing off to 30 s),
//!   the likely ports are probed every [`QUICK_PROBE_MS`], so such a window is found
//!   within a few seconds of opening.
//! - Only a Ready session remembers its port as the last good one and passes COMMANDs on.
//! - Every round of probing and every socket has its own generation; a report carrying an
//!   older generation is stale and changes nothing.

use std::collections::{BTreeSet, VecDeque};

use crate::connector::{self, Command, Hello, Incoming, MAX_MESSAGE_BYTES};
use crate::link::{preferred_port, probe_plan, quick_ports};

/// How long to wait for HELLO_ACK after each HELLO (the spec's "about 2 s").
pub const HELLO_ACK_TIMEOUT_MS: u64 = 2_000;
/// HELLOs sent on one socket before it is given up.
pub const HELLO_TRIES: u32 = 3;
/// How long the shell lets one `GET /` probe run before counting it as failed.
pub const PROBE_TIMEOUT_MS: u64 = 1_500;
/// A port that answered the probe but never completes the WebSocket handshake must not
/// hold the search for ever.
pub const OPEN_TIMEOUT_MS: u64 = 5_000;
/// First wait before searching again; doubles after every failed attempt.
pub const BACKOFF_MIN_MS: u64 = 2_000;
/// Longest wait between searches.
pub const BACKOFF_MAX_MS: u64 = 30_000;
/// How often the likely ports (the preferred ones, the last good one, the first of the
/// range) are probed between searches: well inside the connector's 8 s windows.
pub const QUICK_PROBE_MS: u64 = 4_000;

/// What the shell knows about the operator and the settings. The call path's core
/// decides it (`bridge::Bridge::link_config`); the offscreen document hands it to the
/// session.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkConfig {
    /// Our extension number; empty while the WebClient has not told us.
    pub extension: String,
    pub domain: String,
    pub webclient_version: String,
    pub user_name: String,
    /// Administrator's fixed connector port; 0 = discover.
    pub bridge_port: u16,
    /// The port of the last session that reached Ready (persisted by the shell); 0 = none.
    pub last_good_port: u16,
    /// A connector set up for this extension counts as ours too (the setting
    /// `connectorExtension`); empty: only ours.
    pub accepted_extension: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// No extension number yet: nothing to say HELLO with.
    Waiting,
    /// Probing ports, or waiting out the backoff before the next round.
    Searching,
    /// A socket is opening or waiting for HELLO_ACK.
    Connecting,
    /// Our connector acknowledged HELLO: events may flow.
    Ready,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkStatus {
    pub state: LinkState,
    /// The port being connected to or connected on.
    pub port: Option<u16>,
    /// The last port that acknowledged HELLO for another extension (`""`: it named none).
    pub foreign: Option<Foreign>,
    /// The last port that did not acknowledge HELLO at all.
    pub no_ack_port: Option<u16>,
    /// Ready with a connector set up for another extension, accepted by the operator or an
    /// administrator: that extension (the popup says so while it lasts).
    pub accepted: Option<String>,
}

/// What the shell must do. Serialises to the plain objects the JS shell reads
/// (`{kind: 'probe', generation, ports, timeoutMs}`, …).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LinkEffect {
    /// `GET http://127.0.0.1:PORT/` each port (in parallel), aborting after `timeout_ms`;
    /// report each with `handle_probe_result(generation, port, ok)`.
    #[serde(rename_all = "camelCase")]
    Probe {
        generation: u32,
        ports: Vec<u16>,
        timeout_ms: u64,
    },
    /// Open `ws://127.0.0.1:PORT/`; report with this generation.
    Connect {
        port: u16,
        generation: u32,
    },
    Send {
        generation: u32,
        text: String,
    },
    Close {
        generation: u32,
    },
    /// Our connector is listening: the outbox may send its log now.
    Ready {
        generation: u32,
        port: u16,
    },
    /// The Ready session with this generation is over; `by_connector` when the connector
    /// closed the socket (it does when it stops), not we.
    #[serde(rename_all = "camelCase")]
    Down {
        generation: u32,
        by_connector: bool,
    },
    /// Persist `port` as the last good port.
    RememberPort {
        port: u16,
    },
    /// A COMMAND from our connector, to be carried out.
    #[serde(serialize_with = "js::command")]
    Command(Command),
    #[serde(serialize_with = "js::status")]
    Status(LinkStatus),
    /// One line for the log (never a phone number unmasked).
    #[serde(serialize_with = "js::log")]
    Log(String),
}

/// The JS shapes of the effects that carry a value: `{command: …}`, `{status: …}`,
/// `{line: …}` beside the `kind`.
mod js {
    use serde::ser::SerializeMap;
    use serde::{Serialize, Serializer};

    use super::{Command, LinkStatus};

    fn one<S: Serializer, T: Serialize + ?Sized>(s: S, key: &str, value: &T) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(key, value)?;
        m.end()
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "camelCase")]
    enum CommandJs<'a> {
        Dial {
            number: &'a str,
        },
        #[serde(rename_all = "camelCase")]
        Drop {
            call_id: Option<&'a str>,
        },
    }

    pub fn command<S: Serializer>(c: &Command, s: S) -> Result<S::Ok, S::Error> {
        let js = match c {
            Command::Dial { number, .. } => CommandJs::Dial { number },
            Command::Drop { call_id } => CommandJs::Drop { call_id: call_id.as_deref() },
        };
        one(s, "command", &js)
    }

    pub fn status<S: Serializer>(st: &LinkStatus, s: S) -> Result<S::Ok, S::Error> {
        one(s, "status", st)
    }

    pub fn log<S: Serializer>(line: &str, s: S) -> Result<S::Ok, S::Error> {
        one(s, "line", line)
    }
}

/// A connector that acknowledged HELLO for another extension than ours.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Foreign {
    pub port: u16,
    pub extension: String,
    /// It answered on the port a connector for that extension takes (19800 + it).
    pub own_port: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    /// Probing the sequential part of the plan one port at a time (`first[0]` is out).
    ProbeFirst {
        first: VecDeque<u16>,
        rest: Vec<u16>,
    },
    /// Probing `outstanding` in parallel.
    ProbeRest {
        outstanding: BTreeSet<u16>,
    },
    /// Probing the likely ports between searches; the next search is due at `until`.
    ProbeQuick {
        outstanding: BTreeSet<u16>,
        until: u64,
    },
    /// Nothing to do until `until`, then a new round; the likely ports at `quick_at`.
    Backoff {
        until: u64,
        quick_at: u64,
    },
    /// Socket asked for, not yet open.
    Opening {
        port: u16,
        deadline: u64,
    },
    /// HELLO sent `tries` times; the current one expires at `deadline`.
    AwaitingAck {
        port: u16,
        tries: u32,
        deadline: u64,
    },
    Ready {
        port: u16,
    },
}

/// The connector link's session policy. See the module documentation.
#[derive(Debug)]
pub struct ConnectorSession {
    config: LinkConfig,
    phase: Phase,
    /// Generation of the current probe round or socket.
    generation: u32,
    /// Wait before the next search after a failure.
    backoff_ms: u64,
    /// Ports that answered but were not our connector, skipped until a round finds nothing.
    rejected: BTreeSet<u16>,
    foreign: Option<Foreign>,
    no_ack_port: Option<u16>,
    /// The extension the connector of the ready socket acknowledged.
    ready_for: String,
    last_status: LinkStatus,
    effects: VecDeque<LinkEffect>,
}

impl Default for ConnectorSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectorSession {
    pub fn new() -> Self {
        ConnectorSession {
            config: LinkConfig::default(),
            phase: Phase::Waiting,
            generation: 0,
            backoff_ms: BACKOFF_MIN_MS,
            rejected: BTreeSet::new(),
            foreign: None,
            no_ack_port: None,
            ready_for: String::new(),
            last_status: LinkStatus {
                state: LinkState::Waiting,
                port: None,
                foreign: None,
                no_ack_port: None,
                accepted: None,
            },
            effects: VecDeque::new(),
        }
    }

    /// New settings or identity. A change of extension or `bridge_port` closes the current
    /// socket and starts searching again; other fields apply to the next HELLO or round.
    pub fn set_config(&mut self, mut cfg: LinkConfig, now: u64) {
        cfg.extension = cfg.extension.trim().to_owned();
        let restart = cfg.extension != self.config.extension
            || cfg.bridge_port != self.config.bridge_port
            || cfg.accepted_extension != self.config.accepted_extension
            || (self.phase == Phase::Waiting && !cfg.extension.is_empty());
        self.config = cfg;
        if !restart {
            return;
        }
        self.drop_socket();
        self.rejected.clear();
        self.foreign = None;
        self.no_ack_port = None;
        self.backoff_ms = BACKOFF_MIN_MS;
        if self.config.extension.is_empty() {
            self.phase = Phase::Waiting;
            self.update_status();
        } else {
            self.start_round(now);
        }
    }

    pub fn status(&self) -> LinkStatus {
        self.compute_status()
    }

    pub fn poll_effect(&mut self) -> Option<LinkEffect> {
        self.effects.pop_front()
    }

    /// When `handle_timeout` should next run, in ms (the same clock as `now`).
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.phase {
            Phase::Backoff { until, quick_at } => Some(until.min(quick_at)),
            Phase::ProbeQuick { until, .. } => Some(until),
            Phase::Opening { deadline, .. } | Phase::AwaitingAck { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    /// Whether a text may go to the connector on this socket now.
    pub fn can_send(&self, generation: u32) -> bool {
        generation == self.generation && matches!(self.phase, Phase::Ready { .. })
    }

    pub fn handle_timeout(&mut self, now: u64) {
        match self.phase {
            Phase::Backoff { until, .. } | Phase::ProbeQuick { until, .. } if now >= until => self.start_round(now),
            Phase::Backoff { until, quick_at } if now >= quick_at => self.quick_round(until),
            Phase::Opening { port, deadline } if now >= deadline => {
                self.log(format!("port {port}: WebSocket did not open within {OPEN_TIMEOUT_MS} ms"));
                self.give_up_port(port, true, now);
            }
            Phase::AwaitingAck { port, tries, deadline } if now >= deadline => {
                if tries < HELLO_TRIES {
                    self.send_hello();
                    self.phase = Phase::AwaitingAck { port, tries: tries + 1, deadline: now + HELLO_ACK_TIMEOUT_MS };
                } else {
                    self.log(format!("no HELLO_ACK from port {port} after {HELLO_TRIES} HELLOs; searching again"));
                    self.give_up_port(port, true, now);
                }
            }
            _ => {}
        }
    }

    /// The outcome of one probe from a `Probe` effect.
    pub fn handle_probe_result(&mut self, generation: u32, port: u16, ok: bool, now: u64) {
        if generation != self.generation {
            return;
        }
        match &mut self.phase {
            Phase::ProbeFirst { first, rest } if first.front() == Some(&port) => {
                first.pop_front();
                if ok {
                    self.connect(port, now);
                } else if let Some(&next) = first.front() {
                    self.probe(vec![next]);
                } else {
                    let rest = std::mem::take(rest);
                    self.probe_rest(rest, now);
                }
            }
            Phase::ProbeRest { outstanding } if outstanding.contains(&port) => {
                outstanding.remove(&port);
                let none_left = outstanding.is_empty();
                if ok {
                    self.connect(port, now);
                } else if none_left {
                    self.round_failed(now);
                }
            }
            Phase::ProbeQuick { outstanding, until } if outstanding.contains(&port) => {
                outstanding.remove(&port);
                let (none_left, until) = (outstanding.is_empty(), *until);
                if ok {
                    self.connect(port, now);
                } else if none_left {
                    // Back to waiting for the next search, the same one as before.
                    self.generation = self.generation.wrapping_add(1);
                    self.phase = Phase::Backoff { until, quick_at: now + QUICK_PROBE_MS };
                }
            }
            _ => {}
        }
    }

    pub fn handle_open(&mut self, generation: u32, now: u64) {
        if generation != self.generation {
            return;
        }
        if let Phase::Opening { port, .. } = self.phase {
            self.send_hello();
            self.phase = Phase::AwaitingAck { port, tries: 1, deadline: now + HELLO_ACK_TIMEOUT_MS };
        }
    }

    /// A text message of `len` bytes or more, over `MAX_MESSAGE_BYTES`, on the socket of
    /// `generation`: the shell measured it and did not copy it (a connector may send any
    /// size, and linear memory, once grown, stays grown).
    pub fn handle_oversized_text(&mut self, generation: u32, len: usize) {
        if let Some(port) = self.reading_port(generation) {
            self.log(format!("port {port}: message of {len} bytes or more refused (over 1 MiB)"));
        }
    }

    /// The port whose messages are read now: the socket of `generation`, once it is open.
    fn reading_port(&self, generation: u32) -> Option<u16> {
        match self.phase {
            Phase::AwaitingAck { port, .. } | Phase::Ready { port } if generation == self.generation => Some(port),
            _ => None,
        }
    }

    /// A text message on the socket of `generation`.
    pub fn handle_text(&mut self, generation: u32, text: &str, now: u64) {
        if text.len() > MAX_MESSAGE_BYTES {
            return self.handle_oversized_text(generation, text.len());
        }
        let Some(port) = self.reading_port(generation) else {
            return;
        };
        let msg = match connector::parse_incoming(text) {
            Ok(m) => m,
            Err(e) => {
                self.log(format!("port {port}: connector message refused: {e}"));
                return;
            }
        };
        let ready = matches!(self.phase, Phase::Ready { .. });
        match msg {
            Incoming::HelloAck(_) if ready => self.log(format!("port {port}: repeated HELLO_ACK ignored")),
            Incoming::HelloAck(ack) => {
                let theirs = ack.extension.as_deref().map(str::trim).unwrap_or("");
                let own_port = preferred_port(theirs) == Some(port);
                let accepted = !theirs.is_empty()
                    && theirs == self.config.accepted_extension
                    && (own_port || self.config.bridge_port == port);
                if ack.extension.is_some() && (theirs == self.config.extension || accepted) {
                    if accepted && theirs != self.config.extension {
                        self.log(format!(
                            "port {port}: the connector set up for extension {theirs} is used, as accepted"
                        ));
                    }
                    self.ready_for = theirs.chars().take(40).collect();
                    self.become_ready(port, ack.bridge_version.as_deref());
                } else {
                    self.foreign_ack(port, theirs.to_owned(), own_port, now);
                }
            }
            Incoming::Command(cmd) if ready => self.effects.push_back(LinkEffect::Command(cmd)),
            Incoming::Command(cmd) => {
                let kind = match cmd {
                    Command::Dial { .. } => "DIAL",
                    Command::Drop { .. } => "DROP",
                };
                self.log(format!("port {port}: {kind} before HELLO_ACK ignored"));
            }
        }
    }

    /// A binary message on the socket of `generation`: the protocol has none.
    pub fn handle_binary(&mut self, generation: u32, _now: u64) {
        if generation == self.generation && self.socket_port().is_some() {
            self.log("binary message from the connector ignored".to_owned());
        }
    }

    /// The socket of `generation` closed (or failed to open).
    pub fn handle_close(&mut self, generation: u32, now: u64) {
        if generation != self.generation {
            return;
        }
        match self.phase {
            Phase::Ready { port } => {
                self.effects.push_back(LinkEffect::Down { generation, by_connector: true });
                self.log(format!("connector on port {port} closed; searching again"));
                self.backoff(now);
            }
            Phase::Opening { .. } | Phase::AwaitingAck { .. } => self.backoff(now),
            _ => {}
        }
    }

    // ---- internals ---------------------------------------------------------------------

    fn start_round(&mut self, now: u64) {
        let c = &self.config;
        let (first, rest) = probe_plan(&c.extension, &c.accepted_extension, c.bridge_port, c.last_good_port);
        let first: VecDeque<u16> = first.into_iter().filter(|p| !self.rejected.contains(p)).collect();
        let rest: Vec<u16> = rest.into_iter().filter(|p| !self.rejected.contains(p)).collect();
        self.generation = self.generation.wrapping_add(1);
        match first.front() {
            Some(&p) => {
                self.probe(vec![p]);
                self.phase = Phase::ProbeFirst { first, rest };
            }
            None => self.probe_rest(rest, now),
        }
        self.update_status();
    }

    fn probe(&mut self, ports: Vec<u16>) {
        self.effects.push_back(LinkEffect::Probe { generation: self.generation, ports, timeout_ms: PROBE_TIMEOUT_MS });
    }

    /// Probes the likely ports in parallel, between searches (the next one is due at `until`).
    fn quick_round(&mut self, until: u64) {
        let c = &self.config;
        let ports: BTreeSet<u16> = quick_ports(&c.extension, &c.accepted_extension, c.bridge_port, c.last_good_port)
            .into_iter()
            .filter(|p| !self.rejected.contains(p))
            .collect();
        if ports.is_empty() {
            self.phase = Phase::Backoff { until, quick_at: until };
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        self.probe(ports.iter().copied().collect());
        self.phase = Phase::ProbeQuick { outstanding: ports, until };
    }

    fn probe_rest(&mut self, rest: Vec<u16>, now: u64) {
        if rest.is_empty() {
            self.round_failed(now);
            return;
        }
        self.probe(rest.clone());
        self.phase = Phase::ProbeRest { outstanding: rest.into_iter().collect() };
    }

    /// No usable port this round: ports rejected earlier get their chance again next time
    /// (the squatter may be gone, our connector may have taken the port).
    fn round_failed(&mut self, now: u64) {
        self.rejected.clear();
        self.backoff(now);
    }

    fn connect(&mut self, port: u16, now: u64) {
        self.generation = self.generation.wrapping_add(1);
        self.effects.push_back(LinkEffect::Connect { port, generation: self.generation });
        self.phase = Phase::Opening { port, deadline: now + OPEN_TIMEOUT_MS };
        self.update_status();
    }

    fn send_hello(&mut self) {
        let c = &self.config;
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let mut hello = Hello::new(&c.extension);
        hello.domain = nonempty(&c.domain);
        hello.webclient_version = nonempty(&c.webclient_version);
        hello.user_name = nonempty(&c.user_name);
        self.effects.push_back(LinkEffect::Send { generation: self.generation, text: hello.to_json() });
    }

    fn become_ready(&mut self, port: u16, bridge_version: Option<&str>) {
        self.phase = Phase::Ready { port };
        self.backoff_ms = BACKOFF_MIN_MS;
        self.rejected.clear();
        self.foreign = None;
        self.no_ack_port = None;
        let version = bridge_version.map(|v| format!(" (connector {})", v.chars().take(40).collect::<String>()));
        self.log(format!("HELLO acknowledged on port {port}{}", version.unwrap_or_default()));
        self.effects.push_back(LinkEffect::RememberPort { port });
        self.effects.push_back(LinkEffect::Ready { generation: self.generation, port });
        self.update_status();
    }

    fn foreign_ack(&mut self, port: u16, extension: String, own_port: bool, now: u64) {
        let extension: String = extension.chars().take(40).collect();
        let seen = Foreign { port, extension, own_port };
        if self.foreign.as_ref() != Some(&seen) {
            let who = if seen.extension.is_empty() {
                "no extension".to_owned()
            } else {
                format!("extension {}", seen.extension)
            };
            let whose = if own_port { "a connector set up for it, on its own port" } else { "not on its own port" };
            self.log(format!(
                "port {port} acknowledged HELLO for {who} ({whose}), not {}: not our connector, nothing sent there",
                self.config.extension
            ));
        }
        self.foreign = Some(seen);
        self.give_up_port(port, false, now);
    }

    /// Close the socket to `port`, skip the port until a round finds nothing, back off.
    fn give_up_port(&mut self, port: u16, no_ack: bool, now: u64) {
        if no_ack {
            self.no_ack_port = Some(port);
        }
        self.rejected.insert(port);
        self.drop_socket();
        self.backoff(now);
    }

    /// Close the current socket, if any (with `Down` when it was Ready).
    fn drop_socket(&mut self) {
        if self.socket_port().is_none() {
            return;
        }
        let generation = self.generation;
        if matches!(self.phase, Phase::Ready { .. }) {
            self.effects.push_back(LinkEffect::Down { generation, by_connector: false });
        }
        self.effects.push_back(LinkEffect::Close { generation });
        // Whatever that socket still reports is stale from here on.
        self.generation = self.generation.wrapping_add(1);
        self.phase = Phase::Waiting;
    }

    fn backoff(&mut self, now: u64) {
        // Reports from the old socket or round are stale once we wait.
        self.generation = self.generation.wrapping_add(1);
        self.phase = Phase::Backoff { until: now + self.backoff_ms, quick_at: now + QUICK_PROBE_MS };
        self.backoff_ms = (self.backoff_ms * 2).min(BACKOFF_MAX_MS);
        self.update_status();
    }

    fn socket_port(&self) -> Option<u16> {
        match self.phase {
            Phase::Opening { port, .. } | Phase::AwaitingAck { port, .. } | Phase::Ready { port } => Some(port),
            _ => None,
        }
    }

    fn log(&mut self, line: String) {
        self.effects.push_back(LinkEffect::Log(line));
    }

    fn compute_status(&self) -> LinkStatus {
        let (state, port) = match self.phase {
            Phase::Waiting => (LinkState::Waiting, None),
            Phase::ProbeFirst { .. } | Phase::ProbeRest { .. } | Phase::ProbeQuick { .. } | Phase::Backoff { .. } => {
                (LinkState::Searching, None)
            }
            Phase::Opening { port, .. } | Phase::AwaitingAck { port, .. } => (LinkState::Connecting, Some(port)),
            Phase::Ready { port } => (LinkState::Ready, Some(port)),
        };
        let accepted =
            (state == LinkState::Ready && self.ready_for != self.config.extension).then(|| self.ready_for.clone());
        LinkStatus { state, port, foreign: self.foreign.clone(), no_ack_port: self.no_ack_port, accepted }
    }

    fn update_status(&mut self) {
        let s = self.compute_status();
        if s != self.last_status {
            self.last_status = s.clone();
            self.effects.push_back(LinkEffect::Status(s));
        }
    }
}
