//! The call path's state machine without a browser: trust, pages, outbox, pace, status.
//! DIAL and DROP on the WebClient's own channel are in `commands.rs`.

use cti_core::bridge::pace::{COMMAND_SPACING_MS, DUPLICATE_WINDOW_MS};
use cti_core::bridge::status::Level;
use cti_core::bridge::trust::Verdict;
use cti_core::bridge::{
    Accepted, Bridge, Effect, Foreign, Identity, LinkReport, Settings, SnapshotError, MAX_FRAME_BYTES,
};
use cti_core::connector::Command;
use cti_core::schema::LocalConnection;
use cti_core::testkit::{delete, frame18, info_frame, leg, list, update};

const PBX: &str = "https://pbx.example.com";
const EVIL: &str = "https://evil.example.net";
const INSERTED: i64 = 2;
const RINGING: i64 = 1;
const CONNECTED: i64 = 3;

fn ident(ext: &str) -> Identity {
    Identity { extension: ext.into(), domain: "pbx.example.com".into(), ..Default::default() }
}

/// A bridge with a trusted WebClient in tab 1 and a connector session 1 up.
fn ready() -> Bridge {
    let mut b = Bridge::new(Settings::default());
    assert_eq!(b.handle_login(1, PBX, "page", 1, &ident("101"), "", 0), Accepted::Yes);
    b.handle_link_ready(1, 0);
    drain(&mut b);
    b
}

fn drain(b: &mut Bridge) -> Vec<Effect> {
    std::iter::from_fn(|| b.poll_effect()).collect()
}

fn sent(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ToConnector { text, .. } => {
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                Some(format!("{} {}", v["call"]["id"].as_str().unwrap(), v["call"]["state"].as_str().unwrap()))
            }
            _ => None,
        })
        .collect()
}

/// What the page is asked to do for a command: requests to POST and dialer steps.
fn to_page(effects: &[Effect]) -> usize {
    effects.iter().filter(|e| matches!(e, Effect::Request { .. } | Effect::Dialer { .. })).count()
}

fn dial(n: &str) -> Command {
    Command::Dial { number: n.into(), sync_id: None }
}

#[test]
fn frames_become_events_for_the_live_session_in_order() {
    let mut b = ready();
    let mut seq = 1;
    let mut frame = |b: &mut Bridge, f: Vec<u8>, ts: u64| {
        seq += 1;
        assert_eq!(b.handle_frame(1, PBX, "page", seq, ts, &f), Accepted::Yes);
        sent(&drain(b))
    };
    assert_eq!(frame(&mut b, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]), 10), ["7 offered"]);
    assert_eq!(frame(&mut b, frame18(vec![update(28, CONNECTED)]), 20), ["7 connected"]);
    assert_eq!(frame(&mut b, frame18(vec![delete(28)]), 30), ["7 ended"]);
}

#[test]
fn a_call_that_simply_flows_leaves_masked_trace_lines_and_no_console_line() {
    let mut b = ready();
    let (number, name) = ("+4989123456", "Erika Musterfrau");
    let ring =
        LocalConnection { other_party_display_name: Some(name.into()), ..leg(INSERTED, 28, 7, RINGING, true, number) };
    let mut seq = 1;
    for f in [frame18(vec![ring]), frame18(vec![update(28, CONNECTED)])] {
        seq += 1;
        assert_eq!(b.handle_frame(1, PBX, "page", seq, seq * 10, &f), Accepted::Yes);
        let effects = drain(&mut b);
        assert_eq!(sent(&effects).len(), 1);
        let traces: Vec<&String> =
            effects.iter().filter_map(|e| if let Effect::Trace(l) = e { Some(l) } else { None }).collect();
        assert_eq!(traces.len(), 1, "one trace line per event: {effects:?}");
        let t = traces[0];
        assert!(t.starts_with("tab 1: call 7") && !t.contains(number) && !t.contains("Musterfrau"), "masked: {t}");
        assert!(!effects.iter().any(|e| matches!(e, Effect::Log(_))), "the console stays quiet: {effects:?}");
    }
}

#[test]
fn a_repeated_frame_after_a_worker_restart_changes_nothing() {
    let mut b = ready();
    let f = frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]);
    assert_eq!(b.handle_frame(1, PBX, "page", 2, 10, &f), Accepted::Yes);
    drain(&mut b);
    // The worker stops; a new one restores the snapshot; the page sends the frame again.
    let mut b2 = Bridge::restore(&b.snapshot(), Settings::default()).unwrap();
    assert_eq!(b2.handle_frame(1, PBX, "page", 2, 10, &f), Accepted::Repeat);
    assert!(sent(&drain(&mut b2)).is_empty());
    assert_eq!(b2.handle_frame(1, PBX, "page", 3, 20, &frame18(vec![update(28, CONNECTED)])), Accepted::Yes);
    assert_eq!(sent(&drain(&mut b2)), ["7 connected"]);
}

#[test]
fn a_snapshot_of_another_layout_or_damaged_is_refused() {
    let mut b = ready();
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]));
    let snap = b.snapshot();
    assert!(snap.len() < 1024, "compact: {} bytes for one call", snap.len());
    assert_eq!(Bridge::restore(&snap, Settings::default()).unwrap().snapshot(), snap);
    // The JSON of an earlier version, another format byte, cut short, or a byte more.
    assert_eq!(Bridge::restore(b"{\"tabs\":{}}", Settings::default()).err(), Some(SnapshotError::Format));
    assert_eq!(Bridge::restore(&[], Settings::default()).err(), Some(SnapshotError::Format));
    assert_eq!(Bridge::restore(&snap[..snap.len() / 2], Settings::default()).err(), Some(SnapshotError::Damaged));
    let mut longer = snap.clone();
    longer.push(0);
    assert_eq!(Bridge::restore(&longer, Settings::default()).err(), Some(SnapshotError::Damaged));
}

#[test]
fn a_look_alike_on_another_origin_changes_nothing() {
    let mut b = ready();
    let f = frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]);
    assert_eq!(b.page_verdict(EVIL, 5), Verdict::Untrusted);
    assert_eq!(b.handle_login(2, EVIL, "evil", 1, &ident("999"), "", 5), Accepted::Refused);
    assert_eq!(b.handle_frame(2, EVIL, "evil", 2, 6, &f), Accepted::Refused);
    let effects = drain(&mut b);
    assert!(sent(&effects).is_empty());
    assert_eq!(effects.iter().filter(|e| matches!(e, Effect::Log(_))).count(), 1, "one log line: {effects:?}");
    assert_eq!(b.link_config().extension, "101", "identity from the trusted tab only");
    let st = b.status_view(10);
    assert_eq!(st.notes[0].text.key, "noteLookalike");
    assert_eq!(st.notes[0].text.args, [EVIL]);
    // DATEV's DIAL goes to the real WebClient, even though the look-alike spoke last.
    b.handle_command(dial("+49891234567"), 100);
    let tabs: Vec<u32> = drain(&mut b)
        .iter()
        .filter_map(|e| if let Effect::Dialer { tab, .. } = e { Some(*tab) } else { None })
        .collect();
    assert_eq!(tabs, [1]);
}

#[test]
fn the_first_login_pins_its_origin_and_forgetting_unpins() {
    let mut b = Bridge::new(Settings::default());
    assert_eq!(b.handle_login(1, PBX, "p", 1, &ident("101"), "", 0), Accepted::Yes);
    assert!(drain(&mut b).contains(&Effect::Pin(Some(PBX.into()))));
    assert_eq!(b.handle_login(2, EVIL, "q", 1, &ident("101"), "", 0), Accepted::Refused);
    b.forget_pinned(5);
    assert!(drain(&mut b).contains(&Effect::Pin(None)));
    assert_eq!(b.handle_login(2, EVIL, "q", 2, &ident("101"), "", 6), Accepted::Yes);
}

#[test]
fn configured_origins_win_over_first_use() {
    let settings = Settings { webclient_origins: vec![PBX.into()], ..Default::default() };
    let mut b = Bridge::new(settings);
    assert_eq!(b.handle_login(2, EVIL, "q", 1, &ident("1"), "", 0), Accepted::Refused);
    assert_eq!(b.pinned_origin(), None);
    assert_eq!(b.handle_login(1, PBX, "p", 1, &ident("1"), "", 0), Accepted::Yes);
    assert_eq!(b.pinned_origin(), None, "a configured list is never extended by pinning");
}

#[test]
fn a_call_the_connector_missed_reaches_it_caught_up() {
    let mut b = Bridge::new(Settings::default());
    b.handle_login(1, PBX, "p", 1, &ident("101"), "", 0);
    b.handle_frame(1, PBX, "p", 2, 1, &frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]));
    b.handle_frame(1, PBX, "p", 3, 2, &frame18(vec![update(28, CONNECTED)]));
    b.handle_frame(1, PBX, "p", 4, 3, &frame18(vec![delete(28)]));
    assert!(sent(&drain(&mut b)).is_empty(), "no session yet");
    assert_eq!(b.status_view(4).rows.connector.extra.unwrap().key, "linkHeld");
    b.handle_link_ready(7, 0);
    // Answered and over: `connected` and `ended` (a caller popup for it would be wrong).
    assert_eq!(sent(&drain(&mut b)), ["7 connected", "7 ended"]);
    b.handle_link_down(7, true);
    b.handle_link_ready(8, 0);
    assert!(sent(&drain(&mut b)).is_empty(), "delivered once");
}

/// A connected call 7 in tab 1 ends on the live session: the session and the number of
/// the `ended` text handed to the shell.
fn end_call_7(b: &mut Bridge) -> (u64, u64) {
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]));
    assert_eq!(sent(&drain(b)), ["7 connected"]);
    b.handle_frame(1, PBX, "page", 3, 20, &frame18(vec![delete(28)]));
    let effects = drain(b);
    assert_eq!(sent(&effects), ["7 ended"]);
    effects
        .iter()
        .find_map(|e| match e {
            Effect::ToConnector { generation, seq, .. } => Some((*generation, *seq)),
            _ => None,
        })
        .expect("a text for the connector")
}

#[test]
fn a_call_that_ended_in_a_send_the_link_could_not_make_reaches_the_next_session_whole() {
    let mut b = ready();
    let (generation, seq) = end_call_7(&mut b);
    // The connector had begun to close the socket: the text did not leave.
    b.handle_link_unsent(generation, seq, 20);
    assert!(drain(&mut b).iter().any(|e| matches!(e, Effect::Log(l) if l.contains("kept for the next session: 1"))));
    b.handle_link_unsent(generation, seq + 1, 20); // a later text of the same session: said already
    assert!(drain(&mut b).is_empty());
    b.handle_link_down(generation, true); // the close, when it reaches the shell
    assert_eq!(b.status_view(21).rows.connector.extra.unwrap().key, "linkHeld");
    b.handle_link_ready(2, 0);
    assert_eq!(sent(&drain(&mut b)), ["7 connected", "7 ended"]);
    b.handle_link_down(2, true);
    b.handle_link_ready(3, 0);
    assert!(sent(&drain(&mut b)).is_empty(), "delivered once");
}

#[test]
fn a_call_whose_end_failed_after_the_session_went_down_in_the_same_turn_is_kept() {
    let mut b = ready();
    let (generation, seq) = end_call_7(&mut b);
    // An effect handled before it (a new link configuration) took the session down; then
    // the link refuses the text.
    b.handle_link_down(generation, true);
    b.handle_link_unsent(generation, seq, 20);
    b.handle_link_ready(2, 0);
    assert_eq!(sent(&drain(&mut b)), ["7 connected", "7 ended"]);
    // Said for a session before the last one that was handed anything: nothing happens.
    b.handle_link_unsent(generation, seq, 21);
    b.handle_link_down(2, true);
    b.handle_link_ready(3, 0);
    assert!(sent(&drain(&mut b)).is_empty(), "delivered once");
}

#[test]
fn a_new_link_after_the_connector_and_then_the_offscreen_document_went_hears_the_call_caught_up() {
    let mut b = Bridge::new(Settings::default());
    b.handle_login(1, PBX, "p", 1, &ident("101"), "", 0);
    b.handle_link_ready(1, 0);
    b.handle_frame(1, PBX, "p", 2, 1, &frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]));
    assert_eq!(sent(&drain(&mut b)), ["7 offered"]);
    // The connector goes away, then the offscreen document dies.
    b.handle_link_down(1, true);
    b.handle_frame(1, PBX, "p", 3, 2, &frame18(vec![update(28, CONNECTED)]));
    b.handle_link_restarted();
    b.handle_frame(1, PBX, "p", 4, 3, &frame18(vec![delete(28)]));
    b.handle_link_ready(1, 0);
    assert_eq!(sent(&drain(&mut b)), ["7 connected", "7 ended"], "the connector that closed knows nothing of it");
}

#[test]
fn after_the_offscreen_document_restarted_the_connectors_calls_are_left_alone_and_the_operator_told() {
    let mut b = ready();
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]));
    assert_eq!(sent(&drain(&mut b)), ["7 connected"]);
    // The document restarts (its socket closes with it); the connector runs on and keeps
    // call 7 in DATEV. Announced again, it would be a second call there.
    let mut b = Bridge::restore(&b.snapshot(), Settings::default()).unwrap();
    b.handle_link_restarted();
    b.handle_frame(1, PBX, "page", 3, 20, &frame18(vec![leg(INSERTED, 29, 8, RINGING, true, "+49892")]));
    b.handle_link_ready(1, 30);
    assert_eq!(sent(&drain(&mut b)), ["8 offered"], "only the call it never had");
    let note = &b.status_view(31).notes[0];
    assert_eq!((note.text.key.as_str(), note.text.args.as_slice()), ("noteLeftAlone", &["1".to_owned()][..]));
    b.handle_frame(1, PBX, "page", 4, 40, &frame18(vec![delete(28), update(29, CONNECTED)]));
    assert_eq!(sent(&drain(&mut b)), ["8 connected"], "nothing about call 7");
}

#[test]
fn calls_of_a_new_extension_go_to_its_connector_not_to_the_old_one() {
    // The page does not say its extension: the PBX does, in MyExtensionInfo.
    let mut b = Bridge::new(Settings::default());
    assert_eq!(b.handle_login(1, PBX, "page", 1, &ident(""), "", 0), Accepted::Yes);
    let ring = |id, call, number| Some(list(1, vec![leg(INSERTED, id, call, RINGING, true, number)]));
    b.handle_frame(1, PBX, "page", 2, 10, &info_frame(Some("101"), ring(28, 7, "+49891"), None));
    drain(&mut b);
    b.handle_link_ready(1, 20);
    assert_eq!(sent(&drain(&mut b)), ["7 offered"]);
    // Another operator logs in in the same tab: extension 102, with a call of its own.
    b.handle_frame(1, PBX, "page", 3, 30, &info_frame(Some("102"), ring(29, 8, "+49892"), None));
    let fx = drain(&mut b);
    let config = fx.iter().position(|e| matches!(e, Effect::LinkConfig(c) if c.extension == "102"));
    let send = fx.iter().position(|e| matches!(e, Effect::ToConnector { .. }));
    assert!(config.is_some() && config < send, "the new configuration before the call: {fx:?}");
    // The shell closes 101's socket for the new configuration, so the text cannot leave.
    let Some(Effect::ToConnector { generation, seq, .. }) = send.map(|i| fx[i].clone()) else { unreachable!() };
    b.handle_link_down(generation, false);
    b.handle_link_unsent(generation, seq, 31);
    b.handle_link_ready(2, 40);
    assert_eq!(sent(&drain(&mut b)), ["8 offered"], "102's connector gets 102's call");
}

#[test]
fn messages_a_page_lost_on_the_way_are_told_once_with_their_count() {
    let lost = |b: &Bridge| {
        b.status_view(1)
            .notes
            .iter()
            .filter(|n| n.text.key == "noteFramesLost")
            .map(|n| n.text.args[0].clone())
            .collect::<Vec<_>>()
    };
    let mut b = ready();
    let f = frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891")]);
    assert_eq!(b.handle_frame(1, PBX, "page", 2, 10, &f), Accepted::Yes);
    assert!(lost(&b).is_empty(), "in order");
    // A resend to a new document (repeats) is not a loss.
    assert_eq!(b.handle_frame(1, PBX, "page", 2, 10, &f), Accepted::Repeat);
    assert!(lost(&b).is_empty());
    // Numbers 3 to 6 never came (the page's queue overflowed, or its hook's).
    b.handle_frame(1, PBX, "page", 7, 20, &frame18(vec![update(28, CONNECTED)]));
    assert_eq!(lost(&b), ["4"]);
    b.handle_socket_closed(1, PBX, "page", 8, 30);
    assert_eq!(lost(&b), ["4"], "told once");
    // The state stored and restored keeps the count going: no loss after a restart.
    let mut b = Bridge::restore(&b.snapshot(), Settings::default()).unwrap();
    b.handle_login(1, PBX, "page", 9, &ident("101"), "", 40);
    assert_eq!(lost(&b), ["4"]);
    // A new page starts at 1 (its login); one whose first numbers are missing lost them.
    b.handle_login(1, PBX, "reloaded", 1, &ident("101"), "", 50);
    assert_eq!(lost(&b), ["4"]);
    let mut b = ready();
    b.handle_login(1, PBX, "page", 3, &ident("101"), "", 60);
    assert_eq!(lost(&b), ["1"]);
    b.handle_login(1, PBX, "other", 3, &ident("101"), "", 60);
    assert_eq!(lost(&b), ["3"], "losses in a row are one notice, counted together");
    // A tab this core has no count for starts where it is: after Forget, the page's next
    // frame admits it again (and pins its origin) in the middle of its numbers.
    let mut b = ready();
    b.forget_pinned(61);
    assert_eq!(b.handle_frame(1, PBX, "page", 50, 62, &f), Accepted::Yes);
    b.handle_frame(1, PBX, "page", 51, 63, &f);
    assert!(lost(&b).is_empty());
    // The page tells of a loss at once (its hook could not hold the frames before the
    // verdict), instead of waiting for a next frame.
    let mut b = ready();
    assert_eq!(b.handle_lost(1, PBX, "page", 5, 70), Accepted::Yes);
    assert_eq!(lost(&b), ["3"]);
    assert_eq!(b.handle_lost(1, EVIL, "page", 9, 80), Accepted::Refused);
    assert_eq!(lost(&b), ["3"]);
}

#[test]
fn blocked_prefixes_are_never_dialled_and_shown() {
    let mut b = ready();
    b.handle_command(dial("0900 123 456"), 1000);
    b.handle_command(dial("+49 (137) 1"), 1001);
    let fx = drain(&mut b);
    assert!(to_page(&fx) == 0);
    let st = b.status_view(1002);
    assert_eq!(st.notes.iter().filter(|n| n.text.key == "noteBlocked").count(), 2);
    assert!(!st.notes[0].text.args[0].contains("137 1"), "masked");
}

#[test]
fn double_click_dials_once_and_two_numbers_dial_twice_in_order() {
    let mut b = ready();
    b.handle_command(dial("+49891111111"), 1000);
    b.handle_command(dial("+49891111111"), 1000 + DUPLICATE_WINDOW_MS / 4);
    assert_eq!(to_page(&drain(&mut b)), 1);
    let mut b = ready();
    b.handle_command(dial("+49891111111"), 1000);
    b.handle_command(dial("+49892222222"), 1300);
    assert_eq!(to_page(&drain(&mut b)), 1, "the second waits its turn");
    assert_eq!(b.poll_timeout(), Some(1000 + COMMAND_SPACING_MS));
    b.handle_timeout(1000 + COMMAND_SPACING_MS);
    assert_eq!(to_page(&drain(&mut b)), 1);
}

#[test]
fn a_flood_of_commands_is_refused_and_shown() {
    let mut b = ready();
    for i in 0..8 {
        b.handle_command(Command::Drop { call_id: Some(format!("x{i}")) }, 1000 + i);
    }
    assert_eq!(b.status_view(2000).notes.iter().filter(|n| n.text.key == "noteFlood").count(), 3);
}

#[test]
fn commands_without_a_webclient_tab_are_refused_with_a_note() {
    let mut b = Bridge::new(Settings::default());
    b.handle_command(dial("+49891111111"), 1000);
    assert!((to_page(&drain(&mut b)) == 0));
    assert_eq!(b.status_view(1000).notes[0].text.key, "noteNoTab");
}

#[test]
fn drop_names_the_calls_leg() {
    let mut b = ready();
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]));
    drain(&mut b);
    b.handle_command(Command::Drop { call_id: None }, 100);
    assert_eq!(to_page(&drain(&mut b)), 1);
}

#[test]
fn an_oversized_frame_is_refused_and_noted() {
    let mut b = ready();
    let big = vec![0u8; MAX_FRAME_BYTES + 1];
    assert_eq!(b.handle_frame(1, PBX, "page", 2, 10, &big), Accepted::Yes);
    assert!(sent(&drain(&mut b)).is_empty());
    assert_eq!(b.status_view(11).notes[0].text.key, "noteTooLarge");
}

#[test]
fn closing_the_tab_ends_its_calls() {
    let mut b = ready();
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]));
    drain(&mut b);
    b.handle_tab_closed(1, 20);
    assert_eq!(sent(&drain(&mut b)), ["7 ended"]);
    assert_eq!(b.status_view(21).rows.webclient.text.key, "wcNoTab");
}

#[test]
fn a_tab_closed_while_no_document_heard_of_it_ends_its_calls_after_the_restore() {
    let mut b = ready();
    assert_eq!(b.handle_login(2, PBX, "other", 1, &ident("101"), "", 0), Accepted::Yes);
    b.handle_frame(1, PBX, "page", 2, 10, &frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "+49891")]));
    b.handle_frame(2, PBX, "other", 2, 10, &frame18(vec![leg(INSERTED, 29, 8, CONNECTED, true, "+49892")]));
    drain(&mut b);
    let mut b2 = Bridge::restore(&b.snapshot(), Settings::default()).unwrap();
    b2.handle_link_restarted();
    // Tab 1 is gone, tab 2 is open: only tab 1's call ends.
    b2.retain_tabs(&[2, 5], 20);
    assert_eq!(b2.sizes().calls, 1);
    // The connector had both calls from the old document's session: it gets no ended
    // for them (its socket layer forgot them; DATEV keeps them until it restarts).
    b2.handle_link_ready(2, 0);
    assert_eq!(sent(&drain(&mut b2)), Vec::<String>::new());
    // After a connector restart, the calls still going reach the new one.
    b2.handle_link_down(2, true);
    b2.handle_link_ready(3, 0);
    assert_eq!(sent(&drain(&mut b2)), ["8 connected"]);
    assert_eq!(b2.handle_frame(2, PBX, "other", 3, 30, &frame18(vec![delete(29)])), Accepted::Yes);
    assert_eq!(sent(&drain(&mut b2)), ["8 ended"]);
}

#[test]
fn status_rows_and_badge_follow_the_link() {
    let mut b = ready();
    b.handle_link_report(LinkReport { state: "ready".into(), port: Some(19901), ..Default::default() }, 0);
    let st = b.status_view(1);
    assert_eq!((st.badge.text, st.rows.connector.level), ("badgeTextOn", Level::Ok));
    assert_eq!(st.rows.webclient.text.args, ["101", PBX]);
    b.handle_link_report(
        LinkReport {
            state: "searching".into(),
            foreign: Some(Foreign { port: 19855, extension: "999".into(), own_port: false }),
            ..Default::default()
        },
        2,
    );
    let st = b.status_view(3);
    assert_eq!((st.badge.text, st.rows.connector.text.key.as_str()), ("badgeTextProblem", "linkForeign"));
    assert_eq!(st.notes[0].text.key, "noteForeign");
    b.set_missing_hosts(vec!["http://mw.example:3000/*".into()]);
    let st = b.status_view(4);
    assert_eq!(st.rows.pestroutes.text.key, "streamNoAccess");
    assert!(st.rows.pestroutes.action.is_some());
}

#[test]
fn identity_values_of_the_wrong_shape_are_dropped() {
    let id = Identity {
        extension: "12ab".into(),
        domain: "x".repeat(300),
        webclient_version: "1\n2".into(),
        user_name: "Max".into(),
    }
    .sanitised();
    assert_eq!(id, Identity { user_name: "Max".into(), ..Default::default() });
}

#[test]
fn pestroutes_hosts_need_a_grant_unless_granted_at_install() {
    use cti_core::bridge::{host_patterns, web_origin};
    assert_eq!(web_origin("192.168.1.50:3000").as_deref(), Some("http://192.168.1.50:3000"));
    assert_eq!(web_origin("HTTPS://Office.PestRoutes.com/x?y").as_deref(), Some("https://office.pestroutes.com"));
    assert_eq!(web_origin("ftp://x"), None);
    assert_eq!(web_origin("http://user@evil"), None);
    assert_eq!(web_origin(""), None);
    assert_eq!(host_patterns("mw.office.lan:3000", "https://office.pestroutes.com/"), ["http://mw.office.lan:3000/*"]);
    assert!(host_patterns("", "https://acme.fieldroutes.com").is_empty());
    assert_eq!(host_patterns("", "http://office.pestroutes.com"), ["http://office.pestroutes.com/*"]);
    assert_eq!(host_patterns("", "https://crm.example.com"), ["https://crm.example.com/*"]);
}

#[test]
fn the_badge_is_not_on_while_no_webclient_tab_can_report_calls() {
    let mut b = ready();
    b.handle_link_report(LinkReport { state: "ready".into(), port: Some(19901), ..Default::default() }, 0);
    assert_eq!(b.status_view(1).badge.text, "badgeTextOn");
    b.handle_tab_closed(1, 2);
    let st = b.status_view(3);
    assert_eq!(st.rows.webclient.text.key, "wcNoTab");
    assert_eq!((st.badge.text, st.badge.title.key.as_str()), ("badgeTextAttention", "badgeAttention"));
}

#[test]
fn the_pestroutes_row_says_what_the_stream_waits_for() {
    let row = |b: &Bridge| b.status_view(1).rows.pestroutes.text.key;
    let mut b = Bridge::new(Settings::default());
    assert_eq!(row(&b), "streamUnconfigured");
    let mut b2 = Bridge::new(Settings { server_address: "ftp://mw.office.lan".into(), ..Default::default() });
    b2.set_missing_hosts(vec![]);
    assert_eq!(row(&b2), "streamBadAddress");
    b.set_settings(Settings { server_address: "mw.office.lan:3000".into(), ..Default::default() });
    assert_eq!(row(&b), "streamConnecting", "the worker has not said yet whether the host may be reached");
    b.set_missing_hosts(vec![]);
    assert_eq!(row(&b), "streamNoAgent", "no extension number yet: the operator logs in to the WebClient");
    b.handle_login(1, PBX, "p", 1, &ident("101"), "", 0);
    let st = b.status_view(2);
    assert_eq!((st.rows.pestroutes.text.key.as_str(), st.rows.pestroutes.level), ("streamNoSecret", Level::Warn));
}

#[test]
fn the_link_keeps_the_operators_identity_when_the_tab_closes() {
    let mut b = ready();
    b.handle_tab_closed(1, 5);
    assert_eq!(b.link_config().extension, "101");
    assert_eq!(b.link_config().domain, "pbx.example.com");
}

#[test]
fn for_two_minutes_after_the_connector_came_up_the_popup_says_what_a_connector_just_started_does() {
    let mut b = Bridge::new(Settings::default());
    b.handle_link_ready(1, 1000);
    b.handle_link_report(LinkReport { state: "ready".into(), port: Some(19901), ..Default::default() }, 1000);
    assert_eq!(b.status_view(1001).rows.connector.extra.unwrap().key, "linkWarmup");
    assert_eq!(b.poll_timeout(), Some(1000 + cti_core::bridge::CONNECTOR_WARMUP_MS));
    b.take_status_dirty();
    b.handle_timeout(1000 + cti_core::bridge::CONNECTOR_WARMUP_MS);
    assert!(b.take_status_dirty(), "the popup is told");
    assert_eq!(b.status_view(200_000).rows.connector.extra, None);
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn the_link_shows_down_at_once_when_the_session_ends() {
    let mut b = ready();
    b.handle_link_report(LinkReport { state: "ready".into(), port: Some(19801), ..Default::default() }, 0);
    b.handle_link_down(1, true);
    assert_eq!(b.status_view(1).rows.connector.text.key, "linkSearching");
    assert_ne!(b.status_view(1).badge.text, "badgeTextOn");
}

#[test]
fn a_click_on_a_number_in_pestroutes_dials_like_datev_and_only_from_pestroutes() {
    let mut b = ready();
    b.handle_click_to_dial("https://office.pestroutes.com", "+1 (555) 123-4567", 10);
    assert_eq!(to_page(&drain(&mut b)), 1, "RequestMakeCall to the WebClient tab");
    // Not a PestRoutes page: a look-alike host, plain http, another site.
    for origin in ["https://office.pestroutes.com.evil.net", "http://office.pestroutes.com", EVIL] {
        b.handle_click_to_dial(origin, "+15551234568", 5_000);
        assert!((to_page(&drain(&mut b)) == 0), "{origin}");
    }
    // The configured PestRoutes address counts too; switched off, nothing dials.
    b.set_settings(Settings { pestroutes_url: "https://crm.example.com/".into(), ..Settings::default() });
    b.handle_click_to_dial("https://crm.example.com", "+15551234569", 10_000);
    assert_eq!(to_page(&drain(&mut b)), 1);
    b.set_settings(Settings { click_to_dial: false, ..Settings::default() });
    b.handle_click_to_dial("https://office.fieldroutes.com", "+15551234570", 20_000);
    assert!((to_page(&drain(&mut b)) == 0));
    // Blocked prefixes hold for clicks as for DATEV.
    b.set_settings(Settings::default());
    b.handle_click_to_dial("https://office.fieldroutes.com", "0900 123456", 30_000);
    assert!((to_page(&drain(&mut b)) == 0));
}

#[test]
fn a_command_with_a_huge_number_or_call_id_is_refused_before_it_is_logged_or_queued() {
    let mut b = ready();
    b.handle_command(dial(&"1".repeat(1 << 20)), 10);
    b.handle_command(Command::Drop { call_id: Some("x".repeat(1 << 20)) }, 20);
    let effects = drain(&mut b);
    assert_eq!(to_page(&effects), 0);
    assert!(effects.iter().all(|e| !matches!(e, Effect::Log(l) if l.len() > 200)));
    assert_eq!(b.sizes().queued_commands, 0);
}

#[test]
fn a_screen_pop_result_is_shortened_and_its_number_masked() {
    let mut b = ready();
    let error = cti_core::bridge::status::Text::new("popError", &[&"e".repeat(5_000)]);
    b.handle_pop_result("+15551234567", error, false, 10);
    let pop = &b.status_view(10).pops[0];
    assert_eq!(pop.term, "+15*******67");
    assert_eq!(pop.outcome.args[0].chars().count(), cti_core::bridge::MAX_POP_TEXT);
}

#[test]
fn the_stream_reaches_the_middleware_only_once_access_is_known_to_be_there() {
    let mut b = Bridge::new(Settings::default());
    let mw = |a: &str| Settings { server_address: a.into(), ..Settings::default() };
    b.set_settings(mw("http://mw.example:8080"));
    assert_eq!(b.stream_address(), "", "not checked yet: no fetch");
    b.set_missing_hosts(vec!["http://mw.example:8080/*".into()]);
    assert_eq!(b.stream_address(), "", "no access: no fetch");
    drain(&mut b);
    b.set_missing_hosts(vec![]);
    assert_eq!(b.stream_address(), "http://mw.example:8080");
    let fx = drain(&mut b);
    assert!(fx.iter().any(|e| matches!(e, Effect::LinkConfig(_))), "the shell is asked to configure again");
    b.set_missing_hosts(vec![]);
    assert!(!drain(&mut b).iter().any(|e| matches!(e, Effect::LinkConfig(_))), "nothing changed: no new configuration");
    // Another address must be checked again; other settings keep the check.
    b.set_settings(mw("http://other.example:8080"));
    assert_eq!(b.stream_address(), "");
    b.set_missing_hosts(vec![]);
    b.set_settings(Settings { extension_number: "101".into(), ..mw("http://other.example:8080") });
    assert_eq!(b.stream_address(), "http://other.example:8080");
    // Access missing only for the PestRoutes page does not hold the stream back.
    b.set_missing_hosts(vec!["https://crm.example.com/*".into()]);
    assert_eq!(b.stream_address(), "http://other.example:8080");
}

#[test]
fn another_pestroutes_address_does_not_close_the_stream_for_a_check() {
    let mut b = Bridge::new(Settings { server_address: "127.0.0.1:8080".into(), ..Settings::default() });
    b.set_missing_hosts(vec![]);
    b.set_settings(Settings {
        server_address: "127.0.0.1:8080".into(),
        pestroutes_url: "https://crm.example.com/".into(),
        ..Settings::default()
    });
    assert_eq!(b.stream_address(), "127.0.0.1:8080");
}
