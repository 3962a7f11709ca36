#![cfg(not(target_arch = "wasm32"))]
//! Property tests: random and mutated input through the three state machines (WebClient
//! frames into the bridge, connector messages through the session into the bridge, SSE
//! bytes into the stream), with clock advances and timeouts in between. Whatever comes in,
//! nothing panics and every queue and map stays within its limit.
//!
//! The short run is part of `cargo test --tests`. The long run (10 million inputs or more):
//!   PROPS_CASES=200000 cargo test --release -p cti-core --test props -- --nocapture
//! prints how many inputs it tried.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use cti_core::bridge::{Bridge, Effect, Identity, Settings, Sizes, MAX_NOTES, MAX_POPS, MAX_TABS, OUTBOX_MAX};
use cti_core::session::{ConnectorSession, LinkConfig, LinkEffect, LinkState};
use cti_core::sse::MAX_LINE_BYTES;
use cti_core::stream::{PestRoutesStream, StreamEffect};
use cti_core::testkit::{
    ack_answer, call_control_answer, delete, devices_frame, endpoint_frame, frame18, info_frame, leg, list,
    other_frame, registration, update,
};
use cti_core::tracker::MAX_LEGS;
use proptest::prelude::*;

static INPUTS: AtomicU64 = AtomicU64::new(0);
static CASES_RUN: AtomicU64 = AtomicU64::new(0);
/// Texts the bridge sent to the connector and screen-pops the stream asked for: proof that
/// the inputs reach the machines' working paths, not only their refusals.
static SENT: AtomicU64 = AtomicU64::new(0);
static POPS: AtomicU64 = AtomicU64::new(0);
/// Texts the link could not send (its socket closing) and said so.
static UNSENT: AtomicU64 = AtomicU64::new(0);
/// Requests and dialer steps handed to pages.
static HANDED: AtomicU64 = AtomicU64::new(0);

const ORIGINS: [&str; 3] = ["https://pbx.example.com", "https://evil.example.net", "http://localhost:5001"];

fn cases() -> u32 {
    std::env::var("PROPS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// A valid frame a PBX could send, as the seed for mutations.
fn valid_frame() -> impl Strategy<Value = Vec<u8>> {
    let number = "[+0-9]{0,16}";
    prop_oneof![
        (1i64..40, 1i64..20, 1i64..6, any::<bool>(), number)
            .prop_map(|(id, call, state, inc, n)| frame18(vec![leg(2, id, call, state, inc, &n)])),
        (1i64..40, 1i64..6).prop_map(|(id, state)| frame18(vec![update(id, state)])),
        (1i64..40).prop_map(|id| frame18(vec![delete(id)])),
        (1i64..40, 1i64..20).prop_map(|(id, call)| info_frame(
            Some("101"),
            Some(list(1, vec![leg(2, id, call, 3, true, "+4989")])),
            Some(list(1, vec![])),
        )),
        (1u64..300, 0usize..64).prop_map(|(id, len)| other_frame(id, len)),
        prop::collection::vec((0i64..40, "[ -~]{0,24}", "[ -~]{0,24}"), 0..6).prop_map(|regs| devices_frame(
            regs.into_iter().map(|(id, ua, contact)| registration(id, &ua, &contact)).collect()
        )),
        (any::<bool>(), "[ -~]{0,24}", 0usize..200).prop_map(|(r, c, n)| endpoint_frame(r, &c, n)),
    ]
}

/// An answer the PBX could give to a request (or garbage).
fn answer_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any::<bool>(), prop::option::of(0i32..2000), "[ -~]{0,40}")
            .prop_map(|(ok, leg, m)| call_control_answer(ok, leg, &m)),
        (any::<bool>(), prop::option::of(0i32..20), "[ -~]{0,40}").prop_map(|(ok, c, m)| ack_answer(ok, c, &m)),
        frame_bytes(),
    ]
}

/// A device choice as the page reads it from the WebClient's storage (or anything).
fn choice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(r#""3CX WebRTC proxy""#.to_owned()),
        "[ -~]{0,24}".prop_map(|ua| format!(r#"{{"userAgent":"{ua}","ipAddress":"192.168.1.50"}}"#)),
        ".{0,80}",
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutate(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, x) if !bytes.is_empty() => bytes[i % n] ^= x,
            Mutation::Insert(i, x) => bytes.insert(i % (bytes.len() + 1), x),
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % n);
            }
            Mutation::Truncate(i) => bytes.truncate(i % n),
            _ => {}
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn frame_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => valid_frame(),
        3 => (valid_frame(), prop::collection::vec(mutation(), 1..6)).prop_map(|(f, m)| mutate(f, &m)),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

fn connector_text() -> impl Strategy<Value = String> {
    let valid = prop_oneof![
        Just(
            r#"{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"101","port":19901,"ready":true}"#
                .to_owned()
        ),
        Just(
            r#"{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"99","port":19899,"ready":true}"#.to_owned()
        ),
        prop_oneof!["\\+?[0-9 ]{3,16}", "[+0-9 ]{0,20}"].prop_map(|n| format!(
            r#"{{"v":1,"type":"COMMAND","cmd":"DIAL","number":"{n}","context":{{"syncId":"x"}}}}"#
        )),
        "[0-9a-z-]{0,12}".prop_map(|c| format!(r#"{{"v":1,"type":"COMMAND","cmd":"DROP","callId":"{c}"}}"#)),
        Just(r#"{"v":1,"type":"COMMAND","cmd":"DROP"}"#.to_owned()),
        Just(r#"{"v":1,"type":"PING"}"#.to_owned()),
    ];
    prop_oneof![
        3 => valid.clone(),
        2 => (valid, prop::collection::vec(mutation(), 1..4))
            .prop_map(|(t, m)| String::from_utf8_lossy(&mutate(t.into_bytes(), &m)).into_owned()),
        1 => ".{0,200}",
    ]
}

fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        "[0-9]{0,6}".prop_map(|r| format!("retry: {r}\r\n").into_bytes()),
        Just(b"event: pode.open\r\ndata: {\"clientId\":\"c\"}\r\n\r\n".to_vec()),
        Just(b"event: connected\r\ndata: {\"status\":\"connected\",\"agent\":\"101\"}\r\n\r\n".to_vec()),
        ("[0-9]{0,8}", "[+0-9() -]{0,16}").prop_map(|(id, p)| format!(
            "event: openCustomer\ndata: {{\"type\":\"openCustomer\",\"customerID\":\"{id}\",\"phone\":\"{p}\",\"agent\":\"101\"}}\n\n"
        )
        .into_bytes()),
        Just(b": keep-alive\n".to_vec()),
        (0usize..3).prop_map(|k| [b"data: ".to_vec(), vec![b'A'; MAX_LINE_BYTES * k + 7]].concat()),
    ];
    prop_oneof![
        3 => valid.clone(),
        2 => (valid, prop::collection::vec(mutation(), 1..4)).prop_map(|(b, m)| mutate(b, &m)),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

#[derive(Clone, Debug)]
enum Input {
    Login(u32, usize),
    Frame(u32, usize, Vec<u8>),
    Closed(u32),
    Connector(String),
    Sse(Vec<u8>),
    StreamEnd,
    /// The connector begins to close its socket: what the link sends fails until the close
    /// reaches it (at the next clock advance).
    SocketClosing,
    Advance(u64),
    /// The WebClient's own request answered (its state, or anything).
    Exchange(u32, usize, u16, Vec<u8>),
    /// The socket said START or NOT AUTH.
    Session(u32, usize, bool),
    Device(u32, usize, String),
    /// The page reports on the n-th thing it was handed (a request or a dialer step).
    Answer(usize, u16, Vec<u8>),
    Dialed(usize, bool),
    Stale(usize, String),
}

fn input() -> impl Strategy<Value = Input> {
    let tab = 1u32..24;
    let origin = 0usize..ORIGINS.len();
    prop_oneof![
        1 => (tab.clone(), origin.clone()).prop_map(|(t, o)| Input::Login(t, o)),
        8 => (tab.clone(), origin.clone(), frame_bytes()).prop_map(|(t, o, f)| Input::Frame(t, o, f)),
        1 => tab.clone().prop_map(Input::Closed),
        3 => connector_text().prop_map(Input::Connector),
        3 => sse_bytes().prop_map(Input::Sse),
        1 => Just(Input::StreamEnd),
        1 => Just(Input::SocketClosing),
        2 => prop_oneof![0u64..2_000, 0u64..600_000].prop_map(Input::Advance),
        2 => (tab.clone(), origin.clone(), prop_oneof![Just(200u16), Just(401), 0u16..600], answer_bytes())
            .prop_map(|(t, o, st, b)| Input::Exchange(t, o, st, b)),
        1 => (tab.clone(), origin.clone(), any::<bool>()).prop_map(|(t, o, st)| Input::Session(t, o, st)),
        1 => (tab, origin, choice()).prop_map(|(t, o, c)| Input::Device(t, o, c)),
        2 => (0usize..8, prop_oneof![Just(200u16), Just(401), 0u16..600], answer_bytes())
            .prop_map(|(n, st, b)| Input::Answer(n, st, b)),
        1 => (0usize..8, any::<bool>()).prop_map(|(n, ok)| Input::Dialed(n, ok)),
        1 => (0usize..8, choice()).prop_map(|(n, c)| Input::Stale(n, c)),
    ]
}

/// The three machines wired as the extension wires them.
struct World {
    bridge: Bridge,
    session: ConnectorSession,
    stream: PestRoutesStream,
    now: u64,
    seq: u64,
    link_gen: u32,
    link_port: u16,
    stream_gen: u64,
    closing: bool,
    /// Calls ("tab/id") whose `ended` could not be sent and has not reached a connector
    /// since: the model of what the connector is still owed.
    owed: BTreeSet<String>,
    /// What pages were handed (requests, dialer steps) as (tab, token), newest last.
    handed: Vec<(u32, u32)>,
}

impl World {
    fn new() -> Self {
        let mut w = World {
            bridge: Bridge::new(Settings::default()),
            session: ConnectorSession::new(),
            stream: PestRoutesStream::new(),
            now: 1_000,
            seq: 0,
            link_gen: 0,
            link_port: 0,
            stream_gen: 0,
            closing: false,
            owed: BTreeSet::new(),
            handed: Vec::new(),
        };
        let cfg = LinkConfig { extension: "101".into(), domain: "pbx.example.com".into(), ..Default::default() };
        w.session.set_config(cfg, w.now);
        w.stream.set_config("127.0.0.1:3000", "secret", "101", w.now);
        // A WebClient logged in on the trusted origin, so that commands find a tab to go to.
        let ident = Identity { extension: "101".into(), ..Default::default() };
        w.seq = 1;
        w.bridge.handle_login(1, ORIGINS[0], "page", w.seq, &ident, "", w.now);
        w.pump();
        w
    }

    /// Carries effects between the machines, as the shell does, checking each queue.
    fn pump(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            while let Some(e) = self.session.poll_effect() {
                moved = true;
                match e {
                    LinkEffect::Probe { generation, ports, .. } => {
                        self.link_gen = generation;
                        if let Some(p) = ports.first() {
                            self.session.handle_probe_result(generation, *p, true, self.now);
                        }
                    }
                    LinkEffect::Connect { generation, port } => {
                        self.link_gen = generation;
                        self.link_port = port;
                        self.session.handle_open(generation, self.now);
                    }
                    LinkEffect::Ready { generation, .. } => {
                        self.bridge.handle_link_ready(u64::from(generation), self.now)
                    }
                    LinkEffect::Down { generation, by_connector } => {
                        self.bridge.handle_link_down(u64::from(generation), by_connector)
                    }
                    LinkEffect::Command(c) => self.bridge.handle_command(c, self.now),
                    _ => {}
                }
            }
            check_bridge(self.bridge.sizes());
            while let Some(e) = self.bridge.poll_effect() {
                moved = true;
                if let Effect::Request { tab, token, .. } | Effect::Dialer { tab, token, .. } = e {
                    HANDED.fetch_add(1, Ordering::Relaxed);
                    self.handed.push((tab, token));
                    if self.handed.len() > 8 {
                        self.handed.remove(0);
                    }
                }
                if let Effect::ToConnector { generation, seq, text } = e {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let ended = v["call"]["state"] == "ended";
                    let call =
                        format!("{}/{}", v["context"]["tabId"].as_str().unwrap(), v["call"]["id"].as_str().unwrap());
                    if self.closing {
                        UNSENT.fetch_add(1, Ordering::Relaxed);
                        if ended {
                            self.owed.insert(call);
                        }
                        self.bridge.handle_link_unsent(generation, seq, self.now);
                    } else {
                        SENT.fetch_add(1, Ordering::Relaxed);
                        if ended {
                            self.owed.remove(&call);
                        }
                    }
                }
            }
            let (held, effects) = self.stream.sizes();
            assert!(held <= 3 * (MAX_LINE_BYTES + 8), "SSE parsers hold {held} bytes");
            assert!(effects <= 64, "{effects} stream effects queued");
            while let Some(e) = self.stream.poll_effect() {
                moved = true;
                match e {
                    StreamEffect::Open { generation, .. } => {
                        self.stream_gen = generation;
                        self.stream.handle_response(generation, 200, self.now);
                    }
                    StreamEffect::ScreenPop(_) => {
                        POPS.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the machines kept producing effects without input");
    }

    /// Ends whatever socket there is and brings up a new session with our connector: it
    /// must then have heard every call whose end could not be sent before.
    fn deliver_everything(&mut self) {
        self.closing = false;
        self.session.handle_close(self.link_gen, self.now);
        self.pump();
        for _ in 0..100 {
            if self.session.status().state == LinkState::Ready {
                return;
            }
            self.now += 10_000;
            self.session.handle_timeout(self.now);
            self.pump();
            let ack = format!(
                r#"{{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"101","port":{},"ready":true}}"#,
                self.link_port
            );
            self.session.handle_text(self.link_gen, &ack, self.now);
            self.pump();
        }
        panic!("no new session: {:?}", self.session.status());
    }

    fn feed(&mut self, input: &Input) {
        INPUTS.fetch_add(1, Ordering::Relaxed);
        let ident = Identity { extension: "101".into(), domain: "pbx.example.com".into(), ..Default::default() };
        self.seq += 1;
        match input {
            Input::Login(tab, o) => {
                self.bridge.handle_login(*tab, ORIGINS[*o], "page", self.seq, &ident, "", self.now);
            }
            Input::Exchange(tab, o, status, bytes) => {
                let request = (self.seq % 2 == 0).then_some(&bytes[..bytes.len().min(16)]);
                self.bridge.handle_exchange(*tab, ORIGINS[*o], "page", self.seq, self.now, request, *status, bytes);
            }
            Input::Session(tab, o, started) => {
                self.bridge.handle_session(*tab, ORIGINS[*o], "page", self.seq, *started, self.now);
            }
            Input::Device(tab, o, choice) => {
                self.bridge.handle_device_choice(*tab, ORIGINS[*o], "page", self.seq, choice, self.now);
            }
            Input::Answer(n, status, bytes) => {
                if let Some(&(tab, token)) = self.handed.get(*n) {
                    self.bridge.handle_answer(tab, token, *status, bytes, "why", self.now);
                }
            }
            Input::Dialed(n, ok) => {
                if let Some(&(tab, token)) = self.handed.get(*n) {
                    self.bridge.handle_dialer_result(tab, token, *ok, "why", self.now);
                }
            }
            Input::Stale(n, choice) => {
                if let Some(&(tab, token)) = self.handed.get(*n) {
                    self.bridge.handle_stale_choice(tab, token, choice, self.now);
                }
            }
            Input::Frame(tab, o, bytes) => {
                self.bridge.handle_frame(*tab, ORIGINS[*o], "page", self.seq, self.now, bytes);
            }
            Input::Closed(tab) => self.bridge.handle_tab_closed(*tab, self.now),
            Input::Connector(text) => self.session.handle_text(self.link_gen, text, self.now),
            Input::Sse(bytes) => self.stream.handle_bytes(self.stream_gen, bytes, self.now),
            Input::StreamEnd => self.stream.handle_end(self.stream_gen, self.now),
            Input::SocketClosing => self.closing = true,
            Input::Advance(ms) => {
                if std::mem::take(&mut self.closing) {
                    self.session.handle_close(self.link_gen, self.now);
                }
                self.now += ms;
                self.bridge.handle_timeout(self.now);
                self.session.handle_timeout(self.now);
                self.stream.handle_timeout(self.now);
            }
        }
        self.pump();
    }
}

fn check_bridge(s: Sizes) {
    assert!(s.tabs <= MAX_TABS, "{s:?}");
    assert!(s.legs <= MAX_LEGS && s.calls <= MAX_LEGS, "{s:?}");
    assert!(s.outbox <= OUTBOX_MAX && s.handed <= OUTBOX_MAX, "{s:?}");
    // Remembered per call of the log, of those kept aside and of those left alone.
    assert!(s.told <= 3 * OUTBOX_MAX, "{s:?}");
    assert!(s.notes <= MAX_NOTES && s.pops <= MAX_POPS, "{s:?}");
    assert!(s.pending_commands <= 64 && s.queued_commands <= 64, "{s:?}");
    assert!(s.refused_origins <= 64, "{s:?}");
    assert!(s.effects <= 4 * MAX_LEGS + 64, "{s:?}");
}

#[test]
fn nothing_panics_and_every_queue_stays_bounded() {
    let config = ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(input(), 1..100), |inputs| {
        CASES_RUN.fetch_add(1, Ordering::Relaxed);
        let mut w = World::new();
        for i in &inputs {
            w.feed(i);
        }
        // Every call whose end a closing socket swallowed reaches the next session.
        w.deliver_everything();
        assert!(w.owed.is_empty(), "ended calls never delivered: {:?}", w.owed);
        // The state survives a worker restart: serialised and read back, still bounded.
        let snap = w.bridge.snapshot();
        let restored = Bridge::restore(&snap, w.bridge.settings().clone()).unwrap();
        check_bridge(restored.sizes());
        assert_eq!(restored.snapshot(), snap, "a restored state stores the same");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (sent, pops, unsent, handed) = (
        SENT.load(Ordering::Relaxed),
        POPS.load(Ordering::Relaxed),
        UNSENT.load(Ordering::Relaxed),
        HANDED.load(Ordering::Relaxed),
    );
    println!(
        "props: {} inputs tried in {} cases, 0 failures ({sent} texts to the connector, {unsent} not sent, {pops} screen-pops, {handed} requests and dialer steps)",
        INPUTS.load(Ordering::Relaxed),
        CASES_RUN.load(Ordering::Relaxed)
    );
    assert!(sent > 0 && pops > 0 && unsent > 0 && handed > 0, "the inputs never reached the working paths");
}
