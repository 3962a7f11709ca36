//! The connector session policy, driven without a browser: probes, sockets and the clock
//! are simulated by feeding the machine and reading its effects.

use cti_core::connector::{Command, MAX_MESSAGE_BYTES};
use cti_core::session::*;

const EXT: &str = "55";
const PREFERRED: u16 = 19855;

fn cfg(extension: &str, bridge_port: u16, last_good_port: u16) -> LinkConfig {
    LinkConfig {
        extension: extension.into(),
        domain: "pbx.test".into(),
        bridge_port,
        last_good_port,
        ..Default::default()
    }
}

fn drain(s: &mut ConnectorSession) -> Vec<LinkEffect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

fn probes(effects: &[LinkEffect]) -> Vec<(u32, Vec<u16>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            LinkEffect::Probe { generation, ports, timeout_ms } => {
                assert_eq!(*timeout_ms, PROBE_TIMEOUT_MS);
                Some((*generation, ports.clone()))
            }
            _ => None,
        })
        .collect()
}

fn connect_of(effects: &[LinkEffect]) -> Option<(u16, u32)> {
    effects.iter().find_map(|e| match e {
        LinkEffect::Connect { port, generation } => Some((*port, *generation)),
        _ => None,
    })
}

fn hellos(effects: &[LinkEffect]) -> usize {
    effects.iter().filter(|e| matches!(e, LinkEffect::Send { text, .. } if text.contains("\"HELLO\""))).count()
}

fn has(effects: &[LinkEffect], pred: impl Fn(&LinkEffect) -> bool) -> bool {
    effects.iter().any(pred)
}

fn ack(extension: Option<&str>) -> String {
    match extension {
        Some(e) => {
            format!(r#"{{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"{e}","port":19855,"ready":true}}"#)
        }
        None => r#"{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","ready":true}"#.to_owned(),
    }
}

const DIAL: &str = r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":"0891234"}"#;

/// Configured and probed until `port` answers; returns the socket's generation, opened.
fn open_on(s: &mut ConnectorSession, port: u16, now: u64) -> u32 {
    let fx = drain(s);
    let (gen, ports) = probes(&fx).pop().expect("a probe");
    assert_eq!(ports, [port], "the probe asks for the expected port");
    s.handle_probe_result(gen, port, true, now);
    let (p, g) = connect_of(&drain(s)).expect("connect");
    assert_eq!(p, port);
    s.handle_open(g, now);
    g
}

/// A session that is Ready on the preferred port at `now`; returns its generation.
fn ready(s: &mut ConnectorSession, now: u64) -> u32 {
    s.set_config(cfg(EXT, 0, 0), now);
    let g = open_on(s, PREFERRED, now);
    s.handle_text(g, &ack(Some(EXT)), now);
    drain(s);
    assert_eq!(s.status().state, LinkState::Ready);
    g
}

#[test]
fn waits_without_an_extension() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg("", 0, 0), 0);
    assert_eq!(s.status().state, LinkState::Waiting);
    assert!(probes(&drain(&mut s)).is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn discovery_goes_preferred_then_last_good_then_the_range_in_parallel() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 19807), 0);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| matches!(e, LinkEffect::Status(st) if st.state == LinkState::Searching)));
    let (g, ports) = probes(&fx)[0].clone();
    assert_eq!(ports, [PREFERRED]);
    s.handle_probe_result(g, PREFERRED, false, 10);
    assert_eq!(probes(&drain(&mut s)), [(g, vec![19807])]);
    s.handle_probe_result(g, 19807, false, 20);
    let rest = probes(&drain(&mut s));
    assert_eq!(rest.len(), 1);
    // The rest of the range, and the ports of the extensions near ours beyond it (5–105:
    // 19900–19905), at once.
    assert_eq!(rest[0].1.len(), 104, "the rest at once");
    assert!(!rest[0].1.contains(&PREFERRED) && !rest[0].1.contains(&19807));
    // The first OK wins; later answers of the same round change nothing.
    s.handle_probe_result(g, 19830, false, 30);
    s.handle_probe_result(g, 19820, true, 31);
    let fx = drain(&mut s);
    assert_eq!(connect_of(&fx).map(|c| c.0), Some(19820));
    assert_eq!(s.status().state, LinkState::Connecting);
    assert_eq!(s.status().port, Some(19820));
    s.handle_probe_result(g, 19821, true, 32);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn a_round_that_finds_nothing_backs_off_and_starts_again() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg("abc", 0, 0), 0); // no preferred port: straight to the range
    let (g, ports) = probes(&drain(&mut s))[0].clone();
    assert_eq!(ports.len(), 100);
    for p in ports {
        s.handle_probe_result(g, p, false, 100);
    }
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(100 + BACKOFF_MIN_MS));
    s.handle_timeout(100 + BACKOFF_MIN_MS - 1);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(100 + BACKOFF_MIN_MS);
    let again = probes(&drain(&mut s));
    assert_eq!(again[0].1.len(), 100);
    assert_ne!(again[0].0, g, "a new round, a new generation");
}

#[test]
fn a_configured_port_is_the_only_port_ever_tried() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 21000, 19807), 0);
    let mut now = 0;
    for _ in 0..5 {
        let fx = drain(&mut s);
        let all = probes(&fx);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, [21000]);
        s.handle_probe_result(all[0].0, 21000, false, now);
        drain(&mut s);
        now = s.poll_timeout().expect("backoff");
        s.handle_timeout(now);
    }
}

#[test]
fn stale_generations_are_ignored() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let (g_probe, _) = probes(&drain(&mut s))[0].clone();
    s.handle_probe_result(g_probe, PREFERRED, true, 0);
    let (_, g) = connect_of(&drain(&mut s)).unwrap();
    // A late probe answer of the old round, and reports for other sockets.
    s.handle_probe_result(g_probe, 19800, true, 1);
    s.handle_open(g + 1, 1);
    s.handle_open(g_probe, 1);
    assert!(drain(&mut s).is_empty());
    s.handle_open(g, 2);
    assert_eq!(hellos(&drain(&mut s)), 1);
    s.handle_text(g - 1, &ack(Some(EXT)), 3);
    s.handle_close(g + 7, 3);
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.status().state, LinkState::Connecting);
    s.handle_text(g, &ack(Some(EXT)), 4);
    drain(&mut s);
    assert!(s.can_send(g));
    assert!(!s.can_send(g + 1));
    s.handle_text(g + 1, DIAL, 5);
    assert!(drain(&mut s).is_empty(), "a command on another generation is not ours");
}

#[test]
fn hello_is_retried_then_the_socket_is_closed_and_the_search_backs_off() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let g = open_on(&mut s, PREFERRED, 0);
    let fx = drain(&mut s);
    assert_eq!(hellos(&fx), 1);
    assert!(has(&fx, |e| matches!(e, LinkEffect::Send { text, .. } if text.contains("\"domain\":\"pbx.test\""))));
    let mut now = 0;
    for _ in 1..HELLO_TRIES {
        assert_eq!(s.poll_timeout(), Some(now + HELLO_ACK_TIMEOUT_MS));
        now += HELLO_ACK_TIMEOUT_MS;
        s.handle_timeout(now);
        assert_eq!(hellos(&drain(&mut s)), 1);
    }
    now += HELLO_ACK_TIMEOUT_MS;
    s.handle_timeout(now);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::Close { generation: g }));
    assert!(!has(&fx, |e| matches!(e, LinkEffect::Down { .. })), "never Ready, so never Down");
    assert!(!has(&fx, |e| matches!(e, LinkEffect::RememberPort { .. })));
    assert_eq!(s.status().state, LinkState::Searching);
    assert_eq!(s.status().no_ack_port, Some(PREFERRED));
    assert_eq!(s.poll_timeout(), Some(now + BACKOFF_MIN_MS));
    // The late close of that socket is stale.
    s.handle_close(g, now + 1);
    assert!(drain(&mut s).is_empty());
    // The next round goes on without the silent port.
    s.handle_timeout(now + BACKOFF_MIN_MS);
    let next = probes(&drain(&mut s));
    assert!(!next[0].1.contains(&PREFERRED));
}

#[test]
fn a_foreign_ack_is_not_our_connector() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let g = open_on(&mut s, PREFERRED, 0);
    drain(&mut s);
    s.handle_text(g, &ack(Some("77")), 10);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::Close { generation: g }));
    assert!(!has(&fx, |e| matches!(
        e,
        LinkEffect::Ready { .. } | LinkEffect::RememberPort { .. } | LinkEffect::Down { .. }
    )));
    assert_eq!(fx.iter().filter(|e| matches!(e, LinkEffect::Log(l) if l.contains("extension 77"))).count(), 1);
    let st = s.status();
    assert_eq!(st.state, LinkState::Searching);
    assert_eq!(st.foreign, Some(Foreign { port: PREFERRED, extension: "77".to_owned(), own_port: false }));
    assert_eq!(st.no_ack_port, None);
    assert!(has(&fx, |e| matches!(e, LinkEffect::Status(x) if x.foreign == st.foreign)));
    assert!(!s.can_send(g));
    // Its COMMAND, arriving after the ack, is not carried out.
    s.handle_text(g, DIAL, 11);
    assert!(drain(&mut s).is_empty());
    // The search goes on without that port, after the backoff.
    s.handle_timeout(10 + BACKOFF_MIN_MS);
    let (g2, ports) = probes(&drain(&mut s))[0].clone();
    assert!(!ports.contains(&PREFERRED));
    assert_eq!(ports.len(), 105);
    // Nothing else answers: next round the port gets another chance, the log line is not
    // repeated for the same squatter.
    for p in ports {
        s.handle_probe_result(g2, p, false, 20);
    }
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    assert_eq!(t, 20 + 2 * BACKOFF_MIN_MS, "the backoff grew");
    s.handle_timeout(t);
    let g3 = open_on(&mut s, PREFERRED, t);
    drain(&mut s);
    s.handle_text(g3, &ack(Some("77")), t);
    let fx = drain(&mut s);
    assert!(!has(&fx, |e| matches!(e, LinkEffect::Log(l) if l.contains("extension 77"))));
}

#[test]
fn an_ack_without_an_extension_does_not_count() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let g = open_on(&mut s, PREFERRED, 0);
    s.handle_text(g, &ack(None), 1);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::Close { generation: g }));
    assert_eq!(s.status().foreign, Some(Foreign { port: PREFERRED, extension: String::new(), own_port: false }));
}

#[test]
fn a_matching_ack_makes_the_session_ready_and_remembers_the_port() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let g = open_on(&mut s, PREFERRED, 0);
    drain(&mut s);
    assert!(!s.can_send(g), "nothing is sent before HELLO_ACK");
    s.handle_text(g, &ack(Some(" 55 ")), 5);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::RememberPort { port: PREFERRED }));
    assert!(has(&fx, |e| *e == LinkEffect::Ready { generation: g, port: PREFERRED }));
    assert!(has(
        &fx,
        |e| matches!(e, LinkEffect::Status(st) if st.state == LinkState::Ready && st.port == Some(PREFERRED))
    ));
    assert!(s.can_send(g));
    assert_eq!(s.poll_timeout(), None);
    // A repeated ack changes nothing.
    s.handle_text(g, &ack(Some(EXT)), 6);
    assert!(!has(&drain(&mut s), |e| matches!(e, LinkEffect::Ready { .. })));
}

#[test]
fn commands_pass_only_when_ready() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let g = open_on(&mut s, PREFERRED, 0);
    drain(&mut s);
    s.handle_text(g, DIAL, 1);
    let fx = drain(&mut s);
    assert_eq!(fx.len(), 1, "one log line, nothing else: {fx:?}");
    assert!(matches!(&fx[0], LinkEffect::Log(l) if l.contains("before HELLO_ACK")));
    s.handle_text(g, &ack(Some(EXT)), 2);
    drain(&mut s);
    s.handle_text(g, DIAL, 3);
    assert_eq!(drain(&mut s), [LinkEffect::Command(Command::Dial { number: "0891234".into(), sync_id: None })]);
    s.handle_text(g, r#"{"v":1,"type":"COMMAND","cmd":"DROP"}"#, 4);
    assert_eq!(drain(&mut s), [LinkEffect::Command(Command::Drop { call_id: None })]);
    // Malformed, binary, oversized: one log line each, nothing else, still Ready.
    for bad in ["{not json", r#"{"v":2,"type":"COMMAND","cmd":"DIAL","number":"1"}"#, r#"{"v":1,"type":"REBOOT"}"#] {
        s.handle_text(g, bad, 5);
        let fx = drain(&mut s);
        assert!(matches!(fx.as_slice(), [LinkEffect::Log(_)]), "{bad}: {fx:?}");
    }
    s.handle_binary(g, 6);
    assert!(matches!(drain(&mut s).as_slice(), [LinkEffect::Log(_)]));
    let huge = format!(r#"{{"v":1,"type":"COMMAND","cmd":"DIAL","number":"{}"}}"#, "1".repeat(MAX_MESSAGE_BYTES));
    s.handle_text(g, &huge, 7);
    assert!(matches!(drain(&mut s).as_slice(), [LinkEffect::Log(l)] if l.contains("refused")));
    // Measured by the shell and not copied: the same, one log line.
    s.handle_oversized_text(g, 50 << 20);
    assert!(matches!(drain(&mut s).as_slice(), [LinkEffect::Log(l)] if l.contains("52428800 bytes or more refused")));
    s.handle_oversized_text(g + 1, 50 << 20);
    assert_eq!(drain(&mut s), [], "another socket's: nothing");
    assert!(s.can_send(g));
}

#[test]
fn a_configured_port_is_probed_every_few_seconds_and_the_search_resets_after_a_ready_session() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 21000, 0), 0);
    let mut now = 0;
    let mut waits = Vec::new();
    for _ in 0..12 {
        let (g, ports) = probes(&drain(&mut s))[0].clone();
        assert_eq!(ports, [21000], "only the configured port");
        s.handle_probe_result(g, 21000, false, now);
        drain(&mut s);
        let t = s.poll_timeout().unwrap();
        waits.push(t - now);
        now = t;
        s.handle_timeout(now);
    }
    // The searches back off (2, 4, 8 s …) and the port is looked at every 4 s between
    // them: gentle, and well inside the connector's 8 s windows.
    assert_eq!(waits, [2_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000, 4_000]);
    // Now the connector is there, the session reaches Ready, then the connector goes.
    let g = open_on(&mut s, 21000, now);
    s.handle_text(g, &ack(Some(EXT)), now);
    drain(&mut s);
    s.handle_close(g, now + 100);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::Down { generation: g, by_connector: true }));
    assert!(!has(&fx, |e| matches!(e, LinkEffect::Close { .. })), "already closed");
    assert_eq!(s.status().state, LinkState::Searching);
    assert!(!s.can_send(g));
    assert_eq!(s.poll_timeout(), Some(now + 100 + BACKOFF_MIN_MS));
}

/// Answers every probe the session asks for at `now` (`open` says which ports answer),
/// until it connects (returns the port and socket generation) or waits. Counts the probes.
fn answer_probes(
    s: &mut ConnectorSession,
    now: u64,
    open: impl Fn(u16) -> bool,
    probed: &mut usize,
) -> Option<(u16, u32)> {
    loop {
        let fx = drain(s);
        if let Some(c) = connect_of(&fx) {
            return Some(c);
        }
        let rounds = probes(&fx);
        if rounds.is_empty() {
            return None;
        }
        for (g, ports) in rounds {
            *probed += ports.len();
            for p in ports {
                s.handle_probe_result(g, p, open(p), now);
            }
        }
    }
}

#[test]
fn a_connector_in_auto_mode_is_found_within_seconds_of_opening_its_window() {
    // The connector's Auto mode listens about 8 s in every 38 s, until a first HELLO.
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let window = 95_000..103_000;
    let (mut now, mut probed) = (0, 0);
    let found = loop {
        if let Some((port, _)) = answer_probes(&mut s, now, |p| p == PREFERRED && window.contains(&now), &mut probed) {
            break (port, now);
        }
        now = s.poll_timeout().expect("a next attempt");
        assert!(now < 200_000, "not found");
        s.handle_timeout(now);
    };
    assert_eq!(found.0, PREFERRED);
    assert!(found.1 - window.start <= QUICK_PROBE_MS, "found {} ms after the window opened", found.1 - window.start);
    // Gentle meanwhile: in 95 s, a few full rounds and a handful of ports every 4 s.
    assert!(probed < 1200, "{probed} probes in 95 s");
}

#[test]
fn a_connector_set_up_for_another_extension_is_named_and_used_once_accepted() {
    let own = 19856; // the port a connector set up for extension 56 takes
    let mut probed = 0;
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let (p, g) = answer_probes(&mut s, 1, |p| p == own, &mut probed).expect("found in the range");
    assert_eq!(p, own);
    s.handle_open(g, 2);
    s.handle_text(g, &ack(Some("56")), 3);
    let st = s.status();
    assert_eq!(st.foreign, Some(Foreign { port: own, extension: "56".into(), own_port: true }), "on its own port");
    assert_ne!(st.state, LinkState::Ready);
    // The operator accepts it (the setting connectorExtension): the search starts over,
    // our own port first, then the accepted extension's, and its ack makes it Ready.
    s.set_config(LinkConfig { accepted_extension: "56".into(), ..cfg(EXT, 0, 0) }, 10);
    let fx = drain(&mut s);
    let (g, ports) = probes(&fx)[0].clone();
    assert_eq!(ports, [PREFERRED]);
    s.handle_probe_result(g, PREFERRED, false, 11);
    let (g, ports) = probes(&drain(&mut s))[0].clone();
    assert_eq!(ports, [own]);
    s.handle_probe_result(g, own, true, 12);
    let (_, g) = connect_of(&drain(&mut s)).unwrap();
    s.handle_open(g, 13);
    s.handle_text(g, &ack(Some("56")), 14);
    assert_eq!(s.status().state, LinkState::Ready);
    // An accepted extension on another port is still not ours (a squatter naming it).
    let mut s = ConnectorSession::new();
    s.set_config(LinkConfig { accepted_extension: "56".into(), ..cfg(EXT, 0, 0) }, 0);
    let g = open_on(&mut s, PREFERRED, 0);
    s.handle_text(g, &ack(Some("56")), 1);
    assert_ne!(s.status().state, LinkState::Ready);
    assert!(!s.status().foreign.unwrap().own_port);
}

#[test]
fn a_socket_that_never_opens_is_given_up() {
    let mut s = ConnectorSession::new();
    s.set_config(cfg(EXT, 0, 0), 0);
    let (g, _) = probes(&drain(&mut s))[0].clone();
    s.handle_probe_result(g, PREFERRED, true, 0);
    let (_, g) = connect_of(&drain(&mut s)).unwrap();
    assert_eq!(s.poll_timeout(), Some(OPEN_TIMEOUT_MS));
    s.handle_timeout(OPEN_TIMEOUT_MS);
    assert!(has(&drain(&mut s), |e| *e == LinkEffect::Close { generation: g }));
    assert_eq!(s.status().state, LinkState::Searching);
}

#[test]
fn a_config_change_restarts_the_search() {
    let mut s = ConnectorSession::new();
    let g = ready(&mut s, 0);
    // Same extension and port, other identity fields: nothing happens now.
    s.set_config(LinkConfig { user_name: "x".into(), ..cfg(EXT, 0, PREFERRED) }, 1);
    assert!(drain(&mut s).is_empty());
    assert!(s.can_send(g));
    // Another extension: the socket closes (Down, Close) and the search starts over.
    s.set_config(cfg("56", 0, PREFERRED), 2);
    let fx = drain(&mut s);
    assert!(has(&fx, |e| *e == LinkEffect::Down { generation: g, by_connector: false }), "we closed it");
    assert!(has(&fx, |e| *e == LinkEffect::Close { generation: g }));
    assert_eq!(probes(&fx)[0].1, [19856]);
    assert!(!s.can_send(g));
    s.handle_close(g, 3);
    assert!(!has(&drain(&mut s), |e| matches!(e, LinkEffect::Down { .. })), "Down only once");
    // A configured port: again a restart, probing only that port.
    s.set_config(cfg("56", 21001, PREFERRED), 4);
    assert_eq!(probes(&drain(&mut s))[0].1, [21001]);
    // No extension any more: waiting.
    s.set_config(cfg("", 21001, PREFERRED), 5);
    drain(&mut s);
    assert_eq!(s.status().state, LinkState::Waiting);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn effects_serialise_to_the_objects_the_shell_reads() {
    let v = |e: LinkEffect| serde_json::to_value(e).unwrap();
    assert_eq!(
        v(LinkEffect::Probe { generation: 1, ports: vec![19801], timeout_ms: 1500 }),
        serde_json::json!({"kind": "probe", "generation": 1, "ports": [19801], "timeoutMs": 1500})
    );
    assert_eq!(
        v(LinkEffect::Command(Command::Dial { number: "089".into(), sync_id: Some("s".into()) })),
        serde_json::json!({"kind": "command", "command": {"kind": "dial", "number": "089"}}),
        "DATEV's sync id stays with the connector"
    );
    assert_eq!(
        v(LinkEffect::Command(Command::Drop { call_id: None })),
        serde_json::json!({"kind": "command", "command": {"kind": "drop", "callId": null}})
    );
    assert_eq!(v(LinkEffect::Log("x".into())), serde_json::json!({"kind": "log", "line": "x"}));
    let mut s = ConnectorSession::new();
    s.set_config(cfg("101", 0, 0), 0);
    let status = serde_json::to_value(s.status()).unwrap();
    assert_eq!(status["state"], "searching");
    assert_eq!(status["foreign"], serde_json::Value::Null);
}
