//! The PestRoutes stream machine with a simulated clock: retry and backoff, configuration
//! problems, the watchdog's overlap, duplicate screen-pops, hostile events.

use cti_core::stream::{
    base_url, PestRoutesStream, StreamEffect, StreamState, BACKOFF_MIN_MS, CONFIG_PROBLEM_RETRY_MS, WATCHDOG_MS,
};

const SECRET: &str = "S3CRET&x";

fn drain(s: &mut PestRoutesStream) -> Vec<StreamEffect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

fn opened(fx: &[StreamEffect]) -> Vec<u64> {
    fx.iter()
        .filter_map(|e| if let StreamEffect::Open { generation, .. } = e { Some(*generation) } else { None })
        .collect()
}

fn pops(fx: &[StreamEffect]) -> usize {
    fx.iter().filter(|e| matches!(e, StreamEffect::ScreenPop(_))).count()
}

fn started() -> (PestRoutesStream, u64) {
    let mut s = PestRoutesStream::new();
    s.set_config("192.168.1.50:3000", SECRET, "101", 0);
    let fx = drain(&mut s);
    let g = opened(&fx)[0];
    s.handle_response(g, 200, 0);
    s.handle_bytes(g, b"retry: 3000\r\nevent: pode.open\r\ndata: {}\r\n\r\nevent: connected\r\ndata: {}\r\n\r\n", 0);
    (s, g)
}

const POP: &[u8] = b"event: openCustomer\r\ndata: {\"type\":\"openCustomer\",\"customerID\":\"12345\",\"phone\":\"5551234567\",\"agent\":\"101\",\"timestamp\":\"t1\"}\r\n\r\n";

#[test]
fn the_url_carries_agent_and_secret_encoded_and_logs_never_do() {
    let mut s = PestRoutesStream::new();
    s.set_config("http://mw.example:3000/", SECRET, "101", 0);
    let fx = drain(&mut s);
    assert!(fx.iter().any(|e| matches!(e, StreamEffect::Open { url, .. } if url == "http://mw.example:3000/sse?agent=101&secret=S3CRET%26x")));
    assert!(fx.iter().all(|e| !matches!(e, StreamEffect::Log(l) if l.contains("S3CRET"))));
    assert_eq!(base_url("ftp://x"), None);
    assert_eq!(base_url("a b:1"), None);
    assert_eq!(base_url("HTTPS://mw.example/base/").as_deref(), Some("https://mw.example/base"));
}

#[test]
fn an_incomplete_configuration_opens_nothing() {
    let mut s = PestRoutesStream::new();
    s.set_config("mw:3000", "", "101", 0);
    let fx = drain(&mut s);
    assert!(opened(&fx).is_empty());
    assert_eq!(s.state(), Some(&StreamState::Unconfigured));
}

#[test]
fn connected_events_and_screen_pops() {
    let (mut s, g) = started();
    assert_eq!(s.state(), Some(&StreamState::Connected { agent: "101".into() }));
    drain(&mut s);
    s.handle_bytes(g, POP, 1);
    assert_eq!(pops(&drain(&mut s)), 1);
    // Hostile and foreign events: one log line each, nothing else.
    s.handle_bytes(g, b"event: openCustomer\r\ndata: {not json\r\n\r\nevent: openCustomer\r\ndata: {\"customerID\":\"1\",\"agent\":\"999\"}\r\n\r\nevent: x\r\ndata: 1\r\n\r\n", 2);
    let fx = drain(&mut s);
    assert_eq!(pops(&fx), 0);
    assert_eq!(fx.iter().filter(|e| matches!(e, StreamEffect::Log(_))).count(), 3);
}

#[test]
fn retry_zero_and_immediate_closes_back_off() {
    let mut s = PestRoutesStream::new();
    s.set_config("mw:3000", SECRET, "101", 0);
    let mut now = 0;
    let mut opens = 0;
    while now <= 10_000 {
        for g in opened(&drain(&mut s)) {
            opens += 1;
            s.handle_response(g, 200, now);
            s.handle_bytes(g, b"retry: 0\r\n", now);
            s.handle_end(g, now);
        }
        match s.poll_timeout() {
            Some(t) if t <= 10_000 => {
                now = t;
                s.handle_timeout(now);
            }
            _ => break,
        }
    }
    assert!(opens <= 4, "{opens} opens in 10 s");
}

#[test]
fn a_healthy_stream_that_ends_comes_back_after_the_servers_retry() {
    let (mut s, g) = started();
    drain(&mut s);
    s.handle_end(g, 60_000);
    assert_eq!(s.poll_timeout(), Some(63_000), "retry 3000 ms, the stream was healthy");
    s.handle_timeout(63_000);
    assert_eq!(opened(&drain(&mut s)).len(), 1);
}

#[test]
fn errors_back_off_and_forbidden_waits_for_the_administrator() {
    let mut s = PestRoutesStream::new();
    s.set_config("mw:3000", SECRET, "101", 0);
    let g = opened(&drain(&mut s))[0];
    s.handle_error(g, 0);
    assert_eq!(s.state(), Some(&StreamState::Unreachable));
    assert_eq!(s.poll_timeout(), Some(BACKOFF_MIN_MS));
    s.handle_timeout(BACKOFF_MIN_MS);
    let g = opened(&drain(&mut s))[0];
    s.handle_response(g, 403, BACKOFF_MIN_MS);
    assert_eq!(s.state(), Some(&StreamState::Forbidden));
    assert_eq!(s.poll_timeout(), Some(BACKOFF_MIN_MS + CONFIG_PROBLEM_RETRY_MS));
    // New settings try at once.
    s.set_config("mw:3000", "other", "101", 5_000);
    assert_eq!(opened(&drain(&mut s)).len(), 1);
    // Input from an abandoned stream changes nothing.
    s.handle_bytes(g, POP, 6_000);
    assert_eq!(pops(&drain(&mut s)), 0);
}

#[test]
fn a_silent_stream_is_replaced_without_a_gap_and_without_double_pops() {
    let (mut s, old) = started();
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(WATCHDOG_MS));
    s.handle_timeout(WATCHDOG_MS);
    let fx = drain(&mut s);
    let new = opened(&fx)[0];
    assert!(!fx.iter().any(|e| matches!(e, StreamEffect::Abort { .. })), "the old stream stays open meanwhile");
    // An event during the overlap arrives on both streams: one screen-pop.
    s.handle_bytes(old, POP, WATCHDOG_MS + 10);
    s.handle_response(new, 200, WATCHDOG_MS + 10);
    s.handle_bytes(new, b"event: connected\r\ndata: {}\r\n\r\n", WATCHDOG_MS + 20);
    s.handle_bytes(new, POP, WATCHDOG_MS + 30);
    let fx = drain(&mut s);
    assert_eq!(pops(&fx), 1);
    assert!(fx.contains(&StreamEffect::Abort { generation: old }), "closed once the new one is up");
}

#[test]
fn a_huge_data_line_costs_nothing_and_the_stream_goes_on() {
    let (mut s, g) = started();
    drain(&mut s);
    s.handle_bytes(g, b"event: openCustomer\r\ndata: ", 1);
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..50 {
        s.handle_bytes(g, &chunk, 2);
    }
    s.handle_bytes(g, b"\r\n\r\n", 3);
    assert_eq!(pops(&drain(&mut s)), 0);
    s.handle_bytes(g, POP, 4);
    assert_eq!(pops(&drain(&mut s)), 1);
}

#[test]
fn many_data_lines_cannot_add_up_past_the_cap() {
    let (mut s, g) = started();
    drain(&mut s);
    s.handle_bytes(g, b"event: openCustomer\r\n", 1);
    let line = format!("data: {}\r\n", "y".repeat(60 * 1024));
    for _ in 0..20 {
        s.handle_bytes(g, line.as_bytes(), 2);
    }
    s.handle_bytes(g, b"\r\n", 3);
    assert_eq!(pops(&drain(&mut s)), 0);
    s.handle_bytes(g, POP, 4);
    assert_eq!(pops(&drain(&mut s)), 1);
}

#[test]
fn the_same_notify_twice_on_one_stream_pops_twice() {
    let (mut s, g) = started();
    drain(&mut s);
    s.handle_bytes(g, POP, 1);
    s.handle_bytes(g, POP, 2);
    assert_eq!(pops(&drain(&mut s)), 2, "3CX called the ContactUrl twice in one second");
}
