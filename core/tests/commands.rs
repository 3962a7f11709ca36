//! DATEV's DIAL and DROP as the WebClient carries them out: requests POSTed on its own
//! channel with the device chosen in it, or its dialer, and what each answer leads to.

use cti_core::bridge::commands::{DIALLED_EXPECT_MS, REQUEST_ANSWER_MS};
use cti_core::bridge::status::Level;
use cti_core::bridge::{Accepted, Bridge, DialMethod, Effect, Identity, Settings, CONNECTOR_WARMUP_MS};
use cti_core::connector::Command;
use cti_core::schema::{GenericMessage, UA_PUSH, UA_WEBRTC};
use cti_core::testkit::{
    ack_answer, call_control_answer, delete, devices_frame, endpoint_frame, frame18, info_frame, leg, list,
    registration,
};
use prost::Message;

const PBX: &str = "https://pbx.example.com";
const DESK_UA: &str = "Yealink SIP-T46S 66.86.0.15";
const DESK: &str = "sip:101@192.168.1.50:5060;transport=udp";
const SOFT: &str = "sip:101@10.0.0.9:5062;transport=wss";
const INSERTED: i64 = 2;
const DIALING: i64 = 2;
const CONNECTED: i64 = 3;

fn ident() -> Identity {
    Identity { extension: "101".into(), ..Default::default() }
}

/// A trusted WebClient in tab 1 with a connector session up, its devices as given, and
/// the choice stored in the page.
struct Stage {
    b: Bridge,
    seq: u64,
}

impl Stage {
    fn new(method: DialMethod, devices: Vec<cti_core::schema::Registration>, choice: &str) -> Stage {
        let mut b = Bridge::new(Settings { dial_method: method, ..Default::default() });
        assert_eq!(b.handle_login(1, PBX, "page", 1, &ident(), choice, 0), Accepted::Yes);
        b.handle_link_ready(1, 0);
        let mut s = Stage { b, seq: 1 };
        if !devices.is_empty() {
            s.frame(devices_frame(devices), 1);
        }
        s.drain();
        s
    }

    fn desk() -> Stage {
        Stage::new(DialMethod::Auto, vec![registration(1, UA_WEBRTC, SOFT), registration(2, DESK_UA, DESK)], "")
    }

    fn frame(&mut self, f: Vec<u8>, ts: u64) {
        self.seq += 1;
        assert_eq!(self.b.handle_frame(1, PBX, "page", self.seq, ts, &f), Accepted::Yes);
    }

    fn drain(&mut self) -> Vec<Effect> {
        std::iter::from_fn(|| self.b.poll_effect()).collect()
    }

    fn dial(&mut self, n: &str, now: u64) -> Vec<Effect> {
        self.b.handle_command(Command::Dial { number: n.into(), sync_id: None }, now);
        self.drain()
    }

    fn notes(&self) -> Vec<(String, Vec<String>)> {
        self.b.status_view(u64::MAX / 2).notes.iter().map(|n| (n.text.key.clone(), n.text.args.clone())).collect()
    }

    fn sent(&mut self) -> Vec<String> {
        self.drain()
            .iter()
            .filter_map(|e| match e {
                Effect::ToConnector { text, .. } => {
                    let v: serde_json::Value = serde_json::from_str(text).unwrap();
                    let c = &v["call"];
                    Some(format!("{} {} {}", c["id"].as_str()?, c["state"].as_str()?, c["remoteNumber"].as_str()?))
                }
                _ => None,
            })
            .collect()
    }
}

/// The one request among the effects: (token, decoded body, the choice it was made for).
fn request(fx: &[Effect]) -> (u32, GenericMessage, Option<String>) {
    let mut found = fx.iter().filter_map(|e| match e {
        Effect::Request { tab: 1, token, body, choice, .. } => {
            Some((*token, GenericMessage::decode(body.as_slice()).unwrap(), choice.clone()))
        }
        _ => None,
    });
    let r = found.next().expect("a request");
    assert!(found.next().is_none(), "one request: {fx:?}");
    r
}

/// The dialer steps among the effects: (token, number, confirm).
fn dialer(fx: &[Effect]) -> Vec<(u32, String, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Dialer { tab: 1, token, number, confirm, .. } => Some((*token, number.clone(), *confirm)),
            _ => None,
        })
        .collect()
}

fn answer(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

#[test]
fn with_a_desk_phone_selected_dial_is_the_webclients_request_and_its_answer_settles_it() {
    let mut s = Stage::desk();
    let fx = s.dial("+49 89 1234567", 1000);
    let (token, msg, choice) = request(&fx);
    assert!(dialer(&fx).is_empty());
    assert_eq!(msg.message_id, Some(119));
    let mc = msg.request_make_call.unwrap();
    assert_eq!(mc.destination.as_deref(), Some("+49891234567"));
    assert_eq!(mc.device_id.as_deref(), Some(DESK), "the selected device's Contact");
    assert_eq!(mc.enable_call_control, Some(true));
    assert_eq!(choice.as_deref(), Some(""), "made for the choice the page reported");
    assert_eq!(s.b.poll_timeout(), Some(1000 + REQUEST_ANSWER_MS));
    s.b.handle_answer(1, token, 200, &answer(&call_control_answer(true, Some(812), "")), "", 1050);
    assert_eq!(s.b.poll_timeout(), Some(CONNECTOR_WARMUP_MS), "nothing waits for the dial (only the popup's note)");
    assert!(s.notes().is_empty());
    // The popup says which device DIAL uses.
    let row = s.b.status_view(2000).rows.webclient;
    assert_eq!(row.extra.map(|t| (t.key, t.args)), Some(("dialViaPhone".into(), vec![DESK_UA.into()])));
}

#[test]
fn with_the_webclients_softphone_selected_dial_goes_through_its_dialer() {
    for (devices, choice) in [
        (vec![registration(1, UA_WEBRTC, SOFT), registration(2, DESK_UA, DESK)], r#""3CX WebRTC proxy""#),
        (vec![registration(1, UA_WEBRTC, SOFT), registration(3, UA_PUSH, "sip:101@push")], ""),
        (vec![], ""),
    ] {
        let mut s = Stage::new(DialMethod::Auto, devices, choice);
        let fx = s.dial("0891234", 1000);
        assert!(!fx.iter().any(|e| matches!(e, Effect::Request { .. })), "no request: {fx:?}");
        let steps = dialer(&fx);
        assert_eq!(steps.iter().map(|(_, n, c)| (n.as_str(), *c)).collect::<Vec<_>>(), [("0891234", true)]);
        s.b.handle_dialer_result(1, steps[0].0, true, "", 1400);
        assert_eq!(s.b.poll_timeout(), Some(CONNECTOR_WARMUP_MS), "nothing waits for the dial");
        assert!(s.notes().is_empty());
        let row = s.b.status_view(2000).rows.webclient;
        assert_eq!(row.extra.map(|t| t.key), Some("dialViaDialer".into()));
    }
}

#[test]
fn a_dialer_that_does_not_show_the_number_dials_nothing_and_says_so() {
    let mut s = Stage::new(DialMethod::Dialer, vec![registration(2, DESK_UA, DESK)], "");
    let fx = s.dial("+49891234567", 1000);
    let (token, number, confirm) = dialer(&fx)[0].clone();
    assert_eq!((number.as_str(), confirm), ("+49891234567", true), "the dialer method, whatever the device");
    s.b.handle_dialer_result(1, token, false, "the dialer showed another number", 4000);
    assert_eq!(s.notes(), [("noteDialerFailed".to_owned(), vec!["+49*******67".to_owned()])]);
    // A page that never reports: the deadline tells, once.
    let fx = s.dial("+49891234568", 10_000);
    let (_, _, _) = dialer(&fx)[0].clone();
    let deadline = s.b.poll_timeout().unwrap();
    s.b.handle_timeout(deadline - 1);
    assert_eq!(s.notes().len(), 1);
    s.b.handle_timeout(deadline);
    assert_eq!(s.notes().len(), 2);
    assert_eq!(s.notes()[0].0, "noteDialerFailed");
}

#[test]
fn a_refused_dial_is_shown_at_once_and_auto_leaves_the_number_in_the_dialer() {
    let mut s = Stage::desk();
    let (token, _, _) = request(&s.dial("+49891234567", 1000));
    let refusal = ack_answer(false, Some(9), "No permission to call 0891234567");
    s.b.handle_answer(1, token, 200, &refusal, "", 1040);
    let fx = s.drain();
    assert_eq!(dialer(&fx).iter().map(|(_, n, c)| (n.as_str(), *c)).collect::<Vec<_>>(), [("+49891234567", false)]);
    let notes = s.notes();
    assert_eq!(notes[0].0, "noteDialNoPermissionDialer");
    assert_eq!(notes[0].1, ["+49*******67", "No permission to call 08******67"], "the PBX's text, masked");

    // By request only: the notice, and nothing else.
    let mut s = Stage::new(DialMethod::Request, vec![registration(2, DESK_UA, DESK)], "");
    let (token, _, _) = request(&s.dial("+49891234567", 1000));
    s.b.handle_answer(1, token, 200, &ack_answer(false, Some(4), "Busy lamp"), "", 1040);
    assert!(dialer(&s.drain()).is_empty());
    assert_eq!(s.notes(), [("noteDialRefused".to_owned(), vec!["+49*******67".to_owned(), "Busy lamp".to_owned()])]);
}

#[test]
fn an_expired_session_is_shown_once_and_commands_fail_at_once_until_it_starts_again() {
    let mut s = Stage::desk();
    let (token, _, _) = request(&s.dial("+49891234567", 1000));
    s.b.handle_answer(1, token, 401, b"", "", 1030);
    assert_eq!(s.notes(), [("noteSessionOver".to_owned(), vec![PBX.to_owned()])]);
    let row = s.b.status_view(1100).rows.webclient;
    assert_eq!((row.level, row.text.key.as_str()), (Level::Bad, "wcSessionOver"));
    // The next DIAL does not go to the page at all.
    let fx = s.dial("+49892222222", 3000);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Request { .. } | Effect::Dialer { .. })));
    assert_eq!(s.notes().len(), 2);
    // The operator logs in again: START on the socket.
    s.seq += 1;
    assert_eq!(s.b.handle_session(1, PBX, "page", s.seq, true, 4000), Accepted::Yes);
    assert_eq!(s.b.status_view(4001).rows.webclient.level, Level::Ok);
    assert_eq!(request(&s.dial("+49893333333", 6000)).1.message_id, Some(119));
    // NOT AUTH / STOP on the socket say the same as a 401, once.
    s.seq += 1;
    s.b.handle_session(1, PBX, "page", s.seq, false, 7000);
    s.seq += 1;
    s.b.handle_session(1, PBX, "page", s.seq, false, 7001);
    assert_eq!(s.notes().iter().filter(|n| n.0 == "noteSessionOver").count(), 3);
    // Its socket closes after NOT AUTH: the tab shows the WebClient's login page, and the
    // operator is told to log in, not to open a WebClient.
    s.seq += 1;
    s.b.handle_socket_closed(1, PBX, "page", s.seq, 7002);
    assert_eq!(s.b.status_view(7003).rows.webclient.text.key, "wcSessionOver");
    s.dial("+49894444444", 9000);
    assert_eq!(s.notes()[0].0, "noteSessionOver");
    // Logged in again: a new socket.
    s.seq += 1;
    s.b.handle_login(1, PBX, "page", s.seq, &ident(), "", 10_000);
    assert_eq!(s.b.status_view(10_001).rows.webclient.text.key, "wcConnected");
}

#[test]
fn a_device_chosen_anew_before_the_request_left_is_decided_again() {
    let mut s = Stage::desk();
    let (token, _, choice) = request(&s.dial("+49891234567", 1000));
    assert_eq!(choice.as_deref(), Some(""));
    // The page found another choice stored: the softphone.
    s.b.handle_stale_choice(1, token, r#"{"userAgent":"3CX WebRTC proxy","ipAddress":"10.0.0.9"}"#, 1010);
    let fx = s.drain();
    assert_eq!(dialer(&fx).len(), 1, "now the dialer: {fx:?}");
    // A choice reported by the page while idle changes what the popup says.
    s.seq += 1;
    s.b.handle_device_choice(
        1,
        PBX,
        "page",
        s.seq,
        r#"{"userAgent":"Yealink SIP-T46S 66.86.0.15","ipAddress":"192.168.1.50"}"#,
        2000,
    );
    assert_eq!(s.b.status_view(2001).rows.webclient.extra.unwrap().key, "dialViaPhone");
}

#[test]
fn by_request_with_the_softphone_selected_uses_the_first_desk_phone_or_says_there_is_none() {
    let mut s = Stage::new(
        DialMethod::Request,
        vec![registration(1, UA_WEBRTC, SOFT), registration(2, DESK_UA, DESK)],
        r#""3CX WebRTC proxy""#,
    );
    let (_, msg, _) = request(&s.dial("0891234", 1000));
    assert_eq!(msg.request_make_call.unwrap().device_id.as_deref(), Some(DESK));
    let mut s = Stage::new(DialMethod::Request, vec![registration(1, UA_WEBRTC, SOFT)], "");
    let fx = s.dial("0891234", 1000);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Request { .. } | Effect::Dialer { .. })));
    assert_eq!(s.notes()[0].0, "noteNoPhone");
    let row = s.b.status_view(2).rows.webclient;
    assert_eq!((row.level, row.extra.unwrap().key.as_str()), (Level::Warn, "dialNoPhone"));
}

#[test]
fn drop_is_the_webclients_request_for_the_named_leg_and_its_refusal_is_shown() {
    let mut s = Stage::desk();
    s.frame(frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]), 10);
    s.drain();
    s.b.handle_command(Command::Drop { call_id: Some("7".into()) }, 100);
    let (token, msg, choice) = request(&s.drain());
    assert_eq!(choice, None, "a hang-up does not depend on the device");
    let d = msg.request_drop_call.unwrap();
    assert_eq!((d.local_connection_id, d.is_local, d.action_if_ringing), (Some(28), Some(true), Some(1)));
    s.b.handle_answer(1, token, 200, &ack_answer(true, None, ""), "", 130);
    assert!(s.notes().is_empty());
    s.b.handle_command(Command::Drop { call_id: Some("7".into()) }, 5000);
    let (token, _, _) = request(&s.drain());
    s.b.handle_answer(1, token, 200, &ack_answer(false, None, "Invalid connection Id 28"), "", 5030);
    assert_eq!(s.notes(), [("noteDropRefused".to_owned(), vec!["Invalid connection Id 28".to_owned()])]);
    // A page that cannot send it says why; one that never answers, the deadline tells.
    s.b.handle_command(Command::Drop { call_id: Some("7".into()) }, 10_000);
    let (token, _, _) = request(&s.drain());
    s.b.handle_answer(1, token, 0, b"", "no open WebClient session in this tab", 10_010);
    assert_eq!(s.notes()[0].0, "noteDropFailed");
}

#[test]
fn a_colleagues_call_in_field_20_never_reaches_the_connector() {
    let mut s = Stage::desk();
    let colleague = list(1, vec![leg(INSERTED, 90, 50, CONNECTED, true, "+49301234567")]);
    s.frame(info_frame(Some("101"), None, Some(colleague)), 10);
    assert!(s.sent().is_empty());
    assert!(s.b.status_view(11).calls.is_empty());
    s.frame(info_frame(None, Some(list(3, vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")])), None), 20);
    assert_eq!(s.sent(), ["7 connected +49891"]);
}

#[test]
fn the_call_of_datevs_dial_carries_the_number_as_datev_wrote_it() {
    let mut s = Stage::desk();
    let (token, _, _) = request(&s.dial("+49 89 1234567", 1000));
    // The PBX shows the new leg before the POST's answer arrives, with its own spelling.
    s.frame(frame18(vec![leg(INSERTED, 812, 40, DIALING, false, "0891234567")]), 1020);
    assert_eq!(s.sent(), ["40 dialing +49 89 1234567"]);
    s.b.handle_answer(1, token, 200, &call_control_answer(true, Some(812), ""), "", 1030);
    s.frame(frame18(vec![cti_core::testkit::update(812, CONNECTED)]), 2000);
    s.frame(frame18(vec![delete(812)]), 3000);
    assert_eq!(s.sent(), ["40 connected +49 89 1234567", "40 ended +49 89 1234567"]);
    // Another outbound call to another number is the PBX's spelling; so is one long after.
    s.frame(frame18(vec![leg(INSERTED, 813, 41, DIALING, false, "0301111111")]), 4000);
    assert_eq!(s.sent(), ["41 dialing 0301111111"]);
    let (_, _, _) = request(&s.dial("+49 89 7777777", 10_000));
    s.frame(frame18(vec![leg(INSERTED, 814, 42, DIALING, false, "0897777777")]), 10_000 + DIALLED_EXPECT_MS);
    assert_eq!(s.sent(), ["42 dialing 0897777777"]);
    // A click in PestRoutes is not DATEV's dial: the PBX's spelling.
    s.b.handle_click_to_dial("https://office.pestroutes.com", "+49 89 5555555", 100_000);
    s.drain();
    s.frame(frame18(vec![leg(INSERTED, 815, 43, DIALING, false, "0895555555")]), 100_010);
    assert_eq!(s.sent(), ["43 dialing 0895555555"]);
}

#[test]
fn the_state_in_the_answer_to_the_webclients_own_request_is_read_like_a_pushed_frame() {
    let mut b = Bridge::new(Settings::default());
    b.handle_login(1, PBX, "page", 1, &ident(), "", 0);
    b.handle_link_ready(1, 0);
    // RequestMyInfo's answer: the whole MyExtensionInfo, devices and a call in progress.
    let mut state = devices_frame(vec![registration(2, DESK_UA, DESK)]);
    assert_eq!(b.handle_exchange(1, PBX, "page", 2, 10, None, 200, &state), Accepted::Yes);
    state = info_frame(Some("101"), Some(list(1, vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")])), None);
    assert_eq!(b.handle_exchange(1, PBX, "page", 3, 11, Some(b"\x08\x66"), 200, &state), Accepted::Yes);
    let fx: Vec<Effect> = std::iter::from_fn(|| b.poll_effect()).collect();
    assert!(fx.iter().any(|e| matches!(e, Effect::ToConnector { text, .. } if text.contains("\"connected\""))));
    assert_eq!(b.status_view(12).rows.webclient.extra.unwrap().args, [DESK_UA]);
    // An answer of another origin is not believed; a 401 to the WebClient's own request
    // means its session is over.
    assert_eq!(b.handle_exchange(2, "https://evil.example", "x", 1, 13, None, 200, &state), Accepted::Refused);
    assert_eq!(b.handle_exchange(1, PBX, "page", 4, 14, None, 401, b""), Accepted::Yes);
    assert_eq!(b.status_view(15).rows.webclient.text.key, "wcSessionOver");
    // The softphone's own frame (227) is read for its two fields only.
    assert_eq!(b.handle_frame(1, PBX, "page", 5, 16, &endpoint_frame(true, SOFT, 2000)), Accepted::Yes);
}
