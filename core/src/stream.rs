//! The PestRoutes middleware's event stream as a sans-IO state machine
//! (`spec/pestroutes-sse.md`): when to open it, how long to wait after it ends or fails,
//! what its events mean, and when a silent stream is replaced.
//!
//! The shell does the fetch (`Open`), feeds the response status, the body's bytes and its
//! end or failure back in, and carries out the other effects. Each stream has a generation
//! number, so late input from a stream already abandoned changes nothing.
//!
//! Rules:
//! - After a failure or a server-closed stream the wait doubles, from `BACKOFF_MIN_MS` to
//!   `BACKOFF_MAX_MS`; it starts over only after a stream was healthy (`connected`) for
//!   `HEALTHY_AFTER_MS`. The server's `retry:` is clamped to `RETRY_MIN_MS`..`RETRY_MAX_MS`
//!   and the wait is the larger of the two, so `retry: 0` plus an immediate close cannot
//!   become a hot loop.
//! - 403 (wrong secret) and 400 (no agent) are configuration problems: retried only every
//!   `CONFIG_PROBLEM_RETRY_MS`, or at once when the settings change.
//! - A stream that has said nothing for `WATCHDOG_MS` may be dead without knowing it (Pode
//!   sends no keep-alives). A new one is opened first; the old one is closed only once the
//!   new one is up, so no screen-pop falls into the gap. Pode pushes an event to every
//!   stream of the agent, so an `openCustomer` whose data already came on the *other*
//!   stream within `DUPLICATE_WINDOW_MS` is one screen-pop. The same data twice on one
//!   stream is two notifies (3CX called twice): two screen-pops.

use std::collections::VecDeque;

use crate::privacy::mask_number;
use crate::screenpop::{parse_open_customer, ScreenPop};
use crate::sse::{SseEvent, SseParser};

pub const BACKOFF_MIN_MS: u64 = 2_000;
pub const BACKOFF_MAX_MS: u64 = 30_000;
pub const RETRY_MIN_MS: u64 = 1_000;
pub const RETRY_MAX_MS: u64 = 5 * 60 * 1000;
pub const CONFIG_PROBLEM_RETRY_MS: u64 = 5 * 60 * 1000;
pub const HEALTHY_AFTER_MS: u64 = 10_000;
pub const WATCHDOG_MS: u64 = 5 * 60 * 1000;
pub const DUPLICATE_WINDOW_MS: u64 = 10_000;
/// Screen-pops remembered for the duplicate check.
const RECENT_POPS: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamState {
    Unconfigured,
    Connecting,
    Connected { agent: String },
    Forbidden,
    BadRequest,
    Unreachable,
}

impl StreamState {
    pub fn name(&self) -> &'static str {
        match self {
            StreamState::Unconfigured => "unconfigured",
            StreamState::Connecting => "connecting",
            StreamState::Connected { .. } => "connected",
            StreamState::Forbidden => "forbidden",
            StreamState::BadRequest => "badRequest",
            StreamState::Unreachable => "unreachable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEffect {
    /// Start a streaming GET of `url` with `Accept: text/event-stream`, no credentials.
    Open {
        generation: u64,
        url: String,
    },
    /// Stop reading that stream.
    Abort {
        generation: u64,
    },
    ScreenPop(ScreenPop),
    Status(StreamState),
    Log(String),
}

/// `host:port` or an http(s) URL → base URL without a trailing slash, or None.
pub fn base_url(address: &str) -> Option<String> {
    let a = address.trim();
    if a.is_empty() || a.len() > 512 || a.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = a.to_ascii_lowercase();
    let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
        a.to_owned()
    } else if lower.contains("://") {
        return None;
    } else {
        format!("http://{a}")
    };
    let (scheme, rest) = with_scheme.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), rest.trim_end_matches('/')))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Config {
    url: String,
    agent: String,
}

#[derive(Debug, Default)]
pub struct PestRoutesStream {
    config: Option<Config>,
    generation: u64,
    /// The stream being read, if any.
    current: Option<(u64, SseParser)>,
    /// A silent stream kept open until its replacement is up.
    old: Option<(u64, SseParser)>,
    state: Option<StreamState>,
    backoff_ms: u64,
    reopen_at: Option<u64>,
    last_bytes_at: u64,
    healthy_since: Option<u64>,
    /// Recent `openCustomer` data with the stream generation it came on.
    recent: VecDeque<(String, u64, u64)>,
    effects: VecDeque<StreamEffect>,
}

impl PestRoutesStream {
    pub fn new() -> Self {
        PestRoutesStream { backoff_ms: BACKOFF_MIN_MS, ..Default::default() }
    }

    /// Bytes held by the parsers of the open streams, and effects not yet polled.
    pub fn sizes(&self) -> (usize, usize) {
        let held = [&self.current, &self.old].iter().filter_map(|s| s.as_ref()).map(|(_, p)| p.buffered()).sum();
        (held, self.effects.len())
    }

    pub fn state(&self) -> Option<&StreamState> {
        self.state.as_ref()
    }

    pub fn poll_effect(&mut self) -> Option<StreamEffect> {
        self.effects.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        let watchdog = (self.current.is_some() && self.old.is_none()).then_some(self.last_bytes_at + WATCHDOG_MS);
        match (self.reopen_at, watchdog) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The settings: middleware address, shared secret, agent (extension number). The same
    /// settings again change nothing; new ones start a new stream at once.
    pub fn set_config(&mut self, address: &str, secret: &str, agent: &str, now: u64) {
        let config = match base_url(address) {
            Some(base) if !secret.is_empty() && !agent.is_empty() => Some(Config {
                url: format!("{base}/sse?agent={}&secret={}", encode(agent), encode(secret)),
                agent: agent.to_owned(),
            }),
            _ => None,
        };
        if config == self.config && self.state.is_some() {
            return;
        }
        self.config = config;
        self.close_all();
        self.backoff_ms = BACKOFF_MIN_MS;
        self.reopen_at = None;
        if self.config.is_some() {
            self.open(now);
        } else {
            self.set_state(StreamState::Unconfigured);
        }
    }

    pub fn handle_response(&mut self, generation: u64, status: u16, now: u64) {
        if !self.is_current(generation) {
            return;
        }
        match status {
            200..=299 => {}
            403 | 400 => {
                let state = if status == 403 { StreamState::Forbidden } else { StreamState::BadRequest };
                self.log(if status == 403 {
                    "middleware refused the secret (403)".into()
                } else {
                    "middleware refused the request (400): agent missing".into()
                });
                self.drop_current();
                self.set_state(state);
                self.reopen_at = Some(now + CONFIG_PROBLEM_RETRY_MS);
            }
            other => {
                self.log(format!("middleware answered HTTP {other}"));
                self.failed(now);
            }
        }
    }

    pub fn handle_bytes(&mut self, generation: u64, bytes: &[u8], now: u64) {
        let events = match (&mut self.current, &mut self.old) {
            (Some((g, p)), _) if *g == generation => {
                self.last_bytes_at = now;
                p.feed(bytes)
            }
            (_, Some((g, p))) if *g == generation => p.feed(bytes),
            _ => return,
        };
        for ev in events {
            self.handle_event(generation, ev, now);
        }
    }

    /// The server ended the body (pode.close, a restart).
    pub fn handle_end(&mut self, generation: u64, now: u64) {
        if self.old.as_ref().is_some_and(|(g, _)| *g == generation) {
            self.old = None;
            return;
        }
        if !self.is_current(generation) {
            return;
        }
        let retry = self.current.as_ref().and_then(|(_, p)| p.retry_ms()).map(|r| r.clamp(RETRY_MIN_MS, RETRY_MAX_MS));
        let healthy = self.healthy_since.is_some_and(|t| now.saturating_sub(t) >= HEALTHY_AFTER_MS);
        if healthy {
            self.backoff_ms = BACKOFF_MIN_MS;
        }
        let wait = retry.unwrap_or(0).max(self.backoff_ms);
        self.backoff_ms = (self.backoff_ms * 2).min(BACKOFF_MAX_MS);
        self.log(format!("stream closed by the server; reconnecting in {} s", wait / 1000));
        self.current = None;
        self.healthy_since = None;
        self.set_state(StreamState::Connecting);
        self.reopen_at = Some(now + wait);
    }

    /// The fetch failed (network error, refused connection).
    pub fn handle_error(&mut self, generation: u64, now: u64) {
        if self.old.as_ref().is_some_and(|(g, _)| *g == generation) {
            self.old = None;
            return;
        }
        if self.is_current(generation) {
            self.log("middleware unreachable".into());
            self.failed(now);
        }
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.reopen_at.is_some_and(|t| t <= now) {
            self.reopen_at = None;
            if self.config.is_some() {
                self.open(now);
            }
            return;
        }
        if self.old.is_none() && self.current.is_some() && now >= self.last_bytes_at + WATCHDOG_MS {
            self.log(format!("stream silent for {} min: opening a new one before closing it", WATCHDOG_MS / 60_000));
            self.old = self.current.take();
            self.open(now);
        }
    }

    // ---- internals -----------------------------------------------------------------

    fn is_current(&self, generation: u64) -> bool {
        self.current.as_ref().is_some_and(|(g, _)| *g == generation)
    }

    fn open(&mut self, now: u64) {
        let Some(config) = &self.config else { return };
        self.generation += 1;
        let url = config.url.clone();
        self.current = Some((self.generation, SseParser::new()));
        self.last_bytes_at = now;
        self.healthy_since = None;
        self.effects.push_back(StreamEffect::Open { generation: self.generation, url });
        if self.old.is_none() {
            self.set_state(StreamState::Connecting);
        }
    }

    fn failed(&mut self, now: u64) {
        let wait = self.backoff_ms;
        self.backoff_ms = (self.backoff_ms * 2).min(BACKOFF_MAX_MS);
        self.drop_current();
        self.set_state(StreamState::Unreachable);
        self.reopen_at = Some(now + wait);
    }

    fn drop_current(&mut self) {
        if let Some((g, _)) = self.current.take() {
            self.effects.push_back(StreamEffect::Abort { generation: g });
        }
        self.healthy_since = None;
    }

    fn close_all(&mut self) {
        self.drop_current();
        if let Some((g, _)) = self.old.take() {
            self.effects.push_back(StreamEffect::Abort { generation: g });
        }
    }

    fn handle_event(&mut self, generation: u64, ev: SseEvent, now: u64) {
        let agent = self.config.as_ref().map(|c| c.agent.clone()).unwrap_or_default();
        match ev.event.as_str() {
            "pode.open" | "pode.close" => {}
            "connected" => {
                if self.is_current(generation) {
                    self.healthy_since = Some(now);
                    self.set_state(StreamState::Connected { agent });
                    // The replacement is up: the silent stream may go.
                    if let Some((g, _)) = self.old.take() {
                        self.effects.push_back(StreamEffect::Abort { generation: g });
                    }
                }
            }
            "openCustomer" => match parse_open_customer(&ev.data, &agent) {
                Ok(pop) => {
                    self.recent.retain(|(_, _, at)| now.saturating_sub(*at) < DUPLICATE_WINDOW_MS);
                    if self.recent.iter().any(|(d, g, _)| *d == ev.data && *g != generation) {
                        return;
                    }
                    self.recent.push_back((ev.data, generation, now));
                    while self.recent.len() > RECENT_POPS {
                        self.recent.pop_front();
                    }
                    self.effects.push_back(StreamEffect::ScreenPop(pop));
                }
                Err(e) => self.log(format!("openCustomer ignored: {}", mask_digits(&e.to_string()))),
            },
            other => {
                let name: String = other.chars().take(40).collect();
                self.log(format!("event {name:?} ignored"));
            }
        }
    }

    fn set_state(&mut self, state: StreamState) {
        if self.state.as_ref() != Some(&state) {
            self.state = Some(state.clone());
            self.effects.push_back(StreamEffect::Status(state));
        }
    }

    fn log(&mut self, line: String) {
        self.effects.push_back(StreamEffect::Log(line));
    }
}

/// Masks every run of 5 or more digits (phone numbers in error texts).
fn mask_digits(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() >= 5 {
            out.push_str(&mask_number(&run));
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}
