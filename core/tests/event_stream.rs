#![cfg(not(target_arch = "wasm32"))]
//! The PestRoutes event stream: the parser under every chunking, and openCustomer checks.

use cti_core::screenpop::{parse_open_customer, ScreenPopError};
use cti_core::sse::{SseEvent, SseParser};

/// What Pode writes for one stream: CRLF everywhere, a lone retry line, then events.
const PODE: &str = "retry: 5000\r\nevent: pode.open\r\ndata: {\"clientId\":\"abc\",\"group\":\"101\",\"name\":\"Operators\"}\r\n\r\n\
event: connected\r\ndata: {\"status\":\"connected\",\"agent\":\"101\",\"clientId\":\"abc\",\"timestamp\":\"2026-11-21 10:00:00\"}\r\n\r\n\
id: 7\r\nevent: openCustomer\r\ndata: {\"type\":\"openCustomer\",\"customerID\":\"12345\",\"phone\":\"5551234567\",\"agent\":\"101\",\"timestamp\":\"x\"}\r\n\r\n\
event: pode.close\r\ndata: \r\n\r\n";

fn all(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseParser) {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(p.feed(c));
    }
    (out, p)
}

#[test]
fn a_pode_stream_parses() {
    let (ev, p) = all(&[PODE.as_bytes()]);
    let names: Vec<_> = ev.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["pode.open", "connected", "openCustomer", "pode.close"]);
    assert_eq!(p.retry_ms(), Some(5000));
    assert_eq!(ev[2].last_event_id, "7");
    assert_eq!(ev[3].data, "");
    assert!(ev[2].data.contains("\"customerID\":\"12345\""));
}

#[test]
fn every_split_point_and_every_line_ending_give_the_same_events() {
    let (whole, _) = all(&[PODE.as_bytes()]);
    for ending in ["\r\n", "\n", "\r"] {
        let text = PODE.replace("\r\n", ending);
        let b = text.as_bytes();
        for cut in 0..=b.len() {
            let (ev, p) = all(&[&b[..cut], &b[cut..]]);
            assert_eq!(ev, whole, "ending {ending:?}, cut at {cut}");
            assert_eq!(p.retry_ms(), Some(5000));
        }
        // And byte by byte.
        let bytes: Vec<&[u8]> = b.chunks(1).collect();
        assert_eq!(all(&bytes).0, whole);
    }
}

#[test]
fn standard_rules() {
    let (ev, p) =
        all(&[b"\xef\xbb\xbf: comment\ndata: a\ndata:b\ndata\n\nevent\ndata: x\nretry: soon\nid: bad\0id\n\n"]);
    assert_eq!(ev[0], SseEvent { event: "message".into(), data: "a\nb\n".into(), last_event_id: "".into() });
    assert_eq!(ev[1].event, "message", "a field without colon has an empty value");
    assert_eq!(p.retry_ms(), None, "retry takes only digits");
    assert_eq!(p.last_event_id(), "", "an id with NUL is ignored");
    // No data: nothing dispatched; the event name does not leak into the next event.
    let (ev, _) = all(&[b"event: a\n\ndata: z\n\n"]);
    assert_eq!(ev, [SseEvent { event: "message".into(), data: "z".into(), last_event_id: "".into() }]);
    // A multi-byte character split across chunks survives.
    let s = "data: Müller\n\n".as_bytes();
    let (ev, _) = all(&[&s[..8], &s[8..]]);
    assert_eq!(ev[0].data, "Müller");
    // An unfinished event is not dispatched, and reset() drops it.
    let mut p = SseParser::new();
    assert!(p.feed(b"data: half").is_empty());
    p.reset();
    assert!(p.feed(b"\n\n").is_empty());
}

#[test]
fn overlong_lines_are_dropped_not_buffered() {
    let mut p = SseParser::new();
    let big = vec![b'x'; cti_core::sse::MAX_LINE_BYTES * 3];
    p.feed(b"data: ");
    assert!(p.feed(&big).is_empty());
    let ev = p.feed(b"\ndata: ok\n\n");
    assert_eq!(ev[0].data, "ok");
    assert_eq!(p.dropped_lines(), 1);
}

#[test]
fn open_customer_payloads_are_validated() {
    let ok = parse_open_customer(
        r#"{"type":"openCustomer","customerID":"12345","phone":"+1 (555) 123-4567","agent":"101","timestamp":"x"}"#,
        "101",
    )
    .unwrap();
    assert_eq!(ok.search_terms, ["+1 (555) 123-4567", "5551234567", "12345"]);
    let only_id =
        parse_open_customer(r#"{"type":"openCustomer","customerID":"777","phone":"","agent":"101"}"#, "101").unwrap();
    assert_eq!(only_id.search_terms, ["777"]);
    assert_eq!(
        parse_open_customer(r#"{"customerID":"","phone":"","agent":"101"}"#, "101"),
        Err(ScreenPopError::NothingToSearch)
    );
    assert!(matches!(
        parse_open_customer(r#"{"customerID":"1","agent":"102"}"#, "101"),
        Err(ScreenPopError::OtherAgent(_))
    ));
    for hostile in [
        r#"{"customerID":"1');alert(1);//","agent":"101"}"#,
        r#"{"phone":"555\u0000123","agent":"101"}"#,
        r#"{"phone":"555\n123","agent":"101"}"#,
        r#"{"phone":"<img src=x onerror=alert(1)>","agent":"101"}"#,
    ] {
        assert!(matches!(parse_open_customer(hostile, "101"), Err(ScreenPopError::Implausible { .. })), "{hostile}");
    }
    let long = format!(r#"{{"customerID":"{}","agent":"101"}}"#, "1".repeat(33));
    assert!(matches!(parse_open_customer(&long, "101"), Err(ScreenPopError::Implausible { field: "customerID", .. })));
    assert!(matches!(parse_open_customer("{", "101"), Err(ScreenPopError::NotJson(_))));
    assert!(matches!(parse_open_customer(r#"{"type":"other","phone":"1"}"#, "101"), Err(ScreenPopError::WrongType(_))));
}
