#![cfg(not(target_arch = "wasm32"))]
//! Connector protocol v1 encoding and parsing, and DIAL/DROP commands.

mod common;

use common::*;
use cti_core::command::{drop_request_for, make_call_request, DialString};
use cti_core::connector::{command_to_json, parse_incoming, Command, Hello, HelloAck, Incoming, ProtocolError};
use cti_core::schema::GenericMessage;
use cti_core::testkit::{frame18, info_frame, leg, list, update};
use prost::Message;

#[test]
fn hello_is_encoded_exactly() {
    assert_eq!(Hello::new("101").to_json(), r#"{"v":1,"type":"HELLO","extension":"101","identity":"3CX WebClient"}"#);
    let mut h = Hello::new("101");
    h.domain = Some("pbx.example.com".into());
    h.webclient_version = Some("20.0.1".into());
    assert_eq!(
        h.to_json(),
        r#"{"v":1,"type":"HELLO","extension":"101","identity":"3CX WebClient","domain":"pbx.example.com","webclientVersion":"20.0.1"}"#
    );
}

#[test]
fn call_event_is_encoded_exactly() {
    let mut t = tracker();
    let ev = t
        .handle_frame(&frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891234567")]), 1730000000000)
        .unwrap()
        .events;
    assert_eq!(
        ev[0].to_json(),
        r#"{"v":1,"type":"CALL_EVENT","ts":1730000000000,"call":{"id":"7","direction":"inbound","remoteNumber":"+49891234567","remoteName":"","state":"offered","reason":""},"context":{"extension":"101","tabId":"tab-1"}}"#
    );
}

#[test]
fn hello_ack_and_commands_parse() {
    assert_eq!(
        parse_incoming(
            r#"{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"101","port":19800,"ready":true}"#
        ),
        Ok(Incoming::HelloAck(HelloAck {
            bridge_version: Some("1.0".into()),
            extension: Some("101".into()),
            port: Some(19800),
            ready: Some(true)
        }))
    );
    assert_eq!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":"+49891234567","context":{"syncId":"abc"}}"#),
        Ok(Incoming::Command(Command::Dial { number: "+49891234567".into(), sync_id: Some("abc".into()) }))
    );
    assert_eq!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DROP","callId":"7"}"#),
        Ok(Incoming::Command(Command::Drop { call_id: Some("7".into()) }))
    );
    assert_eq!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DROP"}"#),
        Ok(Incoming::Command(Command::Drop { call_id: None }))
    );
    // Unknown keys are ignored, as the connector does.
    assert!(parse_incoming(r#"{"v":1,"type":"HELLO_ACK","future":[1,2]}"#).is_ok());
    // What we encode for the simulator is what we parse.
    for cmd in [Command::Dial { number: "+4989".into(), sync_id: Some("s".into()) }, Command::Drop { call_id: None }] {
        assert_eq!(parse_incoming(&command_to_json(&cmd)), Ok(Incoming::Command(cmd)));
    }
}

#[test]
fn bad_messages_get_typed_errors() {
    use ProtocolError::*;
    let cases: &[(&str, ProtocolError)] = &[
        ("[1]", NotAnObject),
        (r#"{"type":"HELLO_ACK"}"#, MissingField("v")),
        (r#"{"v":2,"type":"HELLO_ACK"}"#, WrongVersion("2".into())),
        (r#"{"v":"1","type":"HELLO_ACK"}"#, WrongVersion("\"1\"".into())),
        (r#"{"v":1}"#, MissingField("type")),
        (r#"{"v":1,"type":"PING"}"#, UnknownType("\"PING\"".into())),
        (r#"{"v":1,"type":"hello_ack"}"#, UnknownType("\"hello_ack\"".into())),
        (r#"{"v":1,"type":"COMMAND"}"#, MissingField("cmd")),
        (r#"{"v":1,"type":"COMMAND","cmd":"REBOOT"}"#, UnknownCommand("\"REBOOT\"".into())),
        (r#"{"v":1,"type":"COMMAND","cmd":"DIAL"}"#, MissingField("number")),
    ];
    for (text, want) in cases {
        assert_eq!(parse_incoming(text).as_ref(), Err(want), "{text}");
    }
    assert!(matches!(parse_incoming("{\"v\":1,"), Err(NotJson(_))));
    assert!(matches!(
        parse_incoming(r#"{"v":1,"type":"HELLO_ACK","port":70000}"#),
        Err(BadField { field: "port", .. })
    ));
    assert!(matches!(parse_incoming(r#"{"v":1,"type":"HELLO_ACK","port":-1}"#), Err(BadField { field: "port", .. })));
    assert!(matches!(
        parse_incoming(r#"{"v":1,"type":"HELLO_ACK","port":1e308}"#),
        Err(BadField { field: "port", .. })
    ));
    assert!(matches!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":4989}"#),
        Err(BadField { field: "number", .. })
    ));
    assert!(matches!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":"1","context":"x"}"#),
        Err(BadField { field: "context", .. })
    ));
    let huge = format!(r#"{{"v":1,"type":"COMMAND","cmd":"DIAL","number":"{}"}}"#, "1".repeat(1 << 20));
    assert!(matches!(parse_incoming(&huge), Err(TooLarge(_))));
    // A call id with a line break would break a log line (and the diagnostics file's).
    assert!(matches!(
        parse_incoming(r#"{"v":1,"type":"COMMAND","cmd":"DROP","callId":"7\n1700000000000 AAAA"}"#),
        Err(BadField { field: "callId", .. })
    ));
}

#[test]
fn what_a_refusal_quotes_of_the_message_has_its_numbers_masked() {
    let said = |text: &str| parse_incoming(text).unwrap_err().to_string();
    let e = said(r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":498912345678}"#);
    assert!(e.contains("49********78") && !e.contains("912345"), "{e}");
    let e = said(r#"{"v":1,"type":"COMMAND","cmd":"+49 89 1234567"}"#);
    assert!(e.starts_with("unknown command \"+49") && !e.contains("1234567"), "{e}");
    let e = said(r#"{"v":1,"type":"line\nbreak 0891234567"}"#);
    assert_eq!(e, r#"unknown message type "line\nbreak 08******67""#);
    assert_eq!(said(r#"{"v":2,"type":"HELLO_ACK"}"#), "unsupported protocol version 2");
    // A number that the 40-character cut splits keeps no more than its first digits.
    let e = said(&format!(r#"{{"v":1,"type":"{}08912345678"}}"#, "x".repeat(34)));
    assert!(e.ends_with("08***…") && !e.contains("089"), "{e}");
}

#[test]
fn dial_becomes_the_webclients_request_make_call_for_a_device() {
    let number = DialString::parse("+49 89 1234-567").unwrap();
    let msg = GenericMessage::decode(make_call_request(&number, "sip:101@192.168.1.50").as_slice()).unwrap();
    let mc = msg.request_make_call.unwrap();
    assert_eq!(mc.destination.as_deref(), Some("+49891234567"));
    assert_eq!(mc.device_id.as_deref(), Some("sip:101@192.168.1.50"));
}

#[test]
fn drop_names_the_calls_own_leg() {
    let mut t = tracker();
    run(
        &mut t,
        &[
            (
                1,
                info_frame(
                    None,
                    Some(list(
                        UPDATED,
                        vec![leg(INSERTED, 28, 7, RINGING, true, "1"), leg(INSERTED, 29, 7, RINGING, true, "1")],
                    )),
                    Some(list(UPDATED, vec![leg(INSERTED, 60, 7, CONNECTED, true, "1")])),
                ),
            ),
            (2, frame18(vec![update(29, CONNECTED)])),
            (3, frame18(vec![leg(INSERTED, 40, 9, RINGING, true, "2")])),
        ],
    );
    let (call, frame) = drop_request_for(&t, Some("7")).unwrap();
    assert_eq!(call, "7");
    let d = GenericMessage::decode(frame.as_slice()).unwrap().request_drop_call.unwrap();
    assert_eq!(d.local_connection_id, Some(29), "the connected leg (field 20's leg 60 is not the operator's)");
    assert_eq!((d.is_local, d.action_if_ringing), (Some(true), Some(1)), "as the WebClient hangs up");
    // Absent callId: the most recent active call.
    let (call, frame) = drop_request_for(&t, None).unwrap();
    assert_eq!(call, "9");
    assert_eq!(
        GenericMessage::decode(frame.as_slice()).unwrap().request_drop_call.unwrap().local_connection_id,
        Some(40)
    );
    assert!(drop_request_for(&t, Some("nope")).is_err());
    assert!(drop_request_for(&tracker(), None).is_err());
}
