#![cfg(not(target_arch = "wasm32"))]
//! Call tracking: the mapping table of spec/3cx-webclient.md, the connector guide's
//! console traces, multi-leg calls, reconciliation, duplicates, transfers, interleaving,
//! expiry, resync and restore; plus invariants over random traffic.

mod common;

use common::*;
use cti_core::testkit::{delete, frame18, info_frame, leg, list, update};
use cti_core::{CallState, CallTracker};

// ---- the mapping table, row by row --------------------------------------------------

#[test]
fn first_seen_ringing_and_incoming_is_offered_inbound() {
    let mut t = tracker();
    let ev = run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891111111")]))]);
    assert_eq!(brief(&ev), ["7 offered in"]);
    assert_eq!(ev[0].call.remote_number, "+49891111111");
}

#[test]
fn first_seen_dialing_is_dialing_outbound() {
    let mut t = tracker();
    let ev = run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, DIALING, false, "+49893333333")]))]);
    assert_eq!(brief(&ev), ["7 dialing out"]);
}

#[test]
fn ringing_while_outgoing_is_ringing_outbound() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[(1, frame18(vec![leg(INSERTED, 28, 7, DIALING, false, "200")])), (2, frame18(vec![update(28, RINGING)]))],
    );
    assert_eq!(brief(&ev), ["7 dialing out", "7 ringing out"]);
    // First seen already ringing while outgoing: ringing, and no dialing afterwards.
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[(1, frame18(vec![leg(INSERTED, 30, 8, RINGING, false, "200")])), (2, frame18(vec![update(30, DIALING)]))],
    );
    assert_eq!(brief(&ev), ["8 ringing out"]);
}

#[test]
fn up_for_the_first_time_is_connected() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[(1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")])), (2, frame18(vec![update(28, CONNECTED)]))],
    );
    assert_eq!(brief(&ev), ["7 offered in", "7 connected in"]);
}

#[test]
fn first_seen_up_is_connected_even_in_a_transfer_state() {
    for state in [CONNECTED, WAITING, TRANSFERRING] {
        let mut t = tracker();
        let ev = run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, state, true, "1")]))]);
        assert_eq!(brief(&ev), ["7 connected in"], "state {state}");
        let mut t = tracker();
        let ev = run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, state, false, "1")]))]);
        assert_eq!(brief(&ev), ["7 connected out"], "state {state}");
    }
}

#[test]
fn last_leg_deleted_ends_with_hangup_when_connected_else_unknown() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")])),
            (2, frame18(vec![update(28, CONNECTED)])),
            (3, frame18(vec![delete(28)])),
        ],
    );
    assert_eq!(brief(&ev), ["7 offered in", "7 connected in", "7 ended in hangup"]);
    let mut t = tracker();
    let ev =
        run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")])), (3, frame18(vec![delete(28)]))]);
    assert_eq!(brief(&ev), ["7 offered in", "7 ended in unknown"]);
}

#[test]
fn absent_from_a_full_update_ends_the_call() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "1"), leg(INSERTED, 40, 9, RINGING, true, "2")])),
            (2, info_frame(None, Some(list(FULL, vec![leg(FULL, 40, 9, RINGING, true, "2")])), None)),
        ],
    );
    assert_eq!(brief(&ev), ["7 connected in", "9 offered in", "7 ended in hangup"]);
    // An empty full update ends everything left in that list.
    let ev = run(&mut t, &[(3, info_frame(None, Some(list(FULL, vec![])), None))]);
    assert_eq!(brief(&ev), ["9 ended in unknown"]);
}

#[test]
fn transfer_states_on_a_call_that_is_up_send_nothing() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, CONNECTED, false, "1")])),
            (2, frame18(vec![update(28, WAITING)])),
            (3, frame18(vec![update(28, TRANSFERRING)])),
            (4, frame18(vec![update(28, CONNECTED)])),
            (5, frame18(vec![update(28, RINGING)])),
            (6, frame18(vec![delete(28)])),
        ],
    );
    assert_eq!(brief(&ev), ["7 connected out", "7 ended out hangup"]);
}

#[test]
fn unknown_legs_alone_say_nothing() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, 0, true, "1")])),
            (2, frame18(vec![update(28, 99)])),
            (3, frame18(vec![delete(28)])),
        ],
    );
    assert!(ev.is_empty(), "{:?}", brief(&ev));
}

// ---- the connector guide's console traces -------------------------------------------

/// The four traces of "Console Test Mode", as (ts, id, direction, number, state, reason).
fn guide_traces() -> Vec<Vec<serde_json::Value>> {
    let text = r#"
{"v":1,"type":"CALL_EVENT","ts":1700000001,"call":{"id":"c1","direction":"inbound","remoteNumber":"+49891111111","state":"offered"}}
{"v":1,"type":"CALL_EVENT","ts":1700000010,"call":{"id":"c1","direction":"inbound","remoteNumber":"+49891111111","state":"ended","reason":"unknown"}}
--
{"v":1,"type":"CALL_EVENT","ts":1700000001,"call":{"id":"c2","direction":"inbound","remoteNumber":"+49892222222","state":"offered"}}
{"v":1,"type":"CALL_EVENT","ts":1700000005,"call":{"id":"c2","direction":"inbound","remoteNumber":"+49892222222","state":"connected"}}
{"v":1,"type":"CALL_EVENT","ts":1700000060,"call":{"id":"c2","direction":"inbound","remoteNumber":"+49892222222","state":"ended","reason":"hangup"}}
--
{"v":1,"type":"CALL_EVENT","ts":1700000001,"call":{"id":"c3","direction":"outbound","remoteNumber":"+49893333333","state":"dialing"}}
{"v":1,"type":"CALL_EVENT","ts":1700000005,"call":{"id":"c3","direction":"outbound","remoteNumber":"+49893333333","state":"connected"}}
{"v":1,"type":"CALL_EVENT","ts":1700000120,"call":{"id":"c3","direction":"outbound","remoteNumber":"+49893333333","state":"ended","reason":"hangup"}}
--
{"v":1,"type":"CALL_EVENT","ts":1700000001,"call":{"id":"c4","direction":"outbound","remoteNumber":"+49894444444","state":"dialing"}}
{"v":1,"type":"CALL_EVENT","ts":1700000030,"call":{"id":"c4","direction":"outbound","remoteNumber":"+49894444444","state":"ended","reason":"unknown"}}
"#;
    text.split("--")
        .map(|block| block.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect())
        .collect()
}

/// Plays each trace as the PBX would show it (insert, update, delete of one leg) and
/// checks that our events carry exactly the trace's fields, with our id for the call.
#[test]
fn console_traces_of_the_connector_guide() {
    for (n, trace) in guide_traces().into_iter().enumerate() {
        let call_id = n as i64 + 1;
        let leg_id = 100 + call_id;
        let mut t = tracker();
        let mut got = Vec::new();
        for (i, want) in trace.iter().enumerate() {
            let c = &want["call"];
            let ts = want["ts"].as_u64().unwrap();
            let incoming = c["direction"] == "inbound";
            let number = c["remoteNumber"].as_str().unwrap();
            let item = match (i, c["state"].as_str().unwrap()) {
                (0, "offered") => leg(INSERTED, leg_id, call_id, RINGING, incoming, number),
                (0, "dialing") => leg(INSERTED, leg_id, call_id, DIALING, incoming, number),
                (_, "connected") => update(leg_id, CONNECTED),
                (_, "ended") => delete(leg_id),
                other => panic!("unexpected step {other:?}"),
            };
            got.extend(t.handle_frame(&frame18(vec![item]), ts).unwrap().events);
        }
        assert_eq!(got.len(), trace.len(), "trace {}", n + 1);
        for (ev, want) in got.iter().zip(&trace) {
            let ours: serde_json::Value = serde_json::from_str(&ev.to_json()).unwrap();
            assert_eq!(ours["v"], 1);
            assert_eq!(ours["type"], "CALL_EVENT");
            assert_eq!(ours["ts"], want["ts"]);
            assert_eq!(ours["call"]["id"], call_id.to_string());
            for key in ["direction", "remoteNumber", "state"] {
                assert_eq!(ours["call"][key], want["call"][key], "trace {} {key}", n + 1);
            }
            let reason = want["call"].get("reason").cloned().unwrap_or(serde_json::json!(""));
            assert_eq!(ours["call"]["reason"], reason);
            assert_eq!(ours["context"]["extension"], "101");
        }
    }
}

// ---- multi-leg calls ----------------------------------------------------------------

/// The queue call seen on a real PBX: legs 28, 29, 30 with call id 7.
fn queue_call_frames(one_frame: bool) -> Vec<(u64, Vec<u8>)> {
    let legs = vec![
        leg(1, 28, 7, RINGING, true, "+49891111111"),
        leg(1, 29, 7, RINGING, true, "+49891111111"),
        leg(1, 30, 7, RINGING, true, "+49891111111"),
    ];
    let mut frames = Vec::new();
    if one_frame {
        frames.push((1, frame18(legs)));
    } else {
        for (i, l) in legs.into_iter().enumerate() {
            frames.push((1 + i as u64, frame18(vec![l])));
        }
    }
    frames.push((10, frame18(vec![update(29, CONNECTED)])));
    frames.push((11, frame18(vec![delete(28)])));
    frames.push((12, frame18(vec![delete(30)])));
    frames.push((60, frame18(vec![delete(29)])));
    frames
}

#[test]
fn a_three_leg_queue_call_is_one_call() {
    for one_frame in [true, false] {
        let mut t = tracker();
        let ev = run(&mut t, &queue_call_frames(one_frame));
        assert_eq!(brief(&ev), ["7 offered in", "7 connected in", "7 ended in hangup"], "one frame: {one_frame}");
        assert_eq!(ev[2].ts, 60, "ends with the last leg, not the first");
    }
}

#[test]
fn item_action_1_reads_the_same_as_inserted() {
    let as_inserted: Vec<(u64, Vec<u8>)> = vec![
        (1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1"), leg(INSERTED, 29, 7, RINGING, true, "1")])),
        (2, frame18(vec![leg(INSERTED, 29, 7, CONNECTED, true, "1")])),
        (3, frame18(vec![delete(28), delete(29)])),
    ];
    let as_full: Vec<(u64, Vec<u8>)> = vec![
        (1, frame18(vec![leg(FULL, 28, 7, RINGING, true, "1"), leg(FULL, 29, 7, RINGING, true, "1")])),
        (2, frame18(vec![leg(FULL, 29, 7, CONNECTED, true, "1")])),
        (3, frame18(vec![delete(28), delete(29)])),
    ];
    let a = run(&mut tracker(), &as_inserted);
    let b = run(&mut tracker(), &as_full);
    assert_eq!(a, b);
    assert_eq!(brief(&a), ["7 offered in", "7 connected in", "7 ended in hangup"]);
}

#[test]
fn only_list_18_makes_calls_and_list_20_changes_nothing() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            // A colleague's call, only in OtherConnections: nothing (the WebClient shows none).
            (1, info_frame(None, None, Some(list(UPDATED, vec![leg(2, 90, 50, RINGING, true, "2")])))),
            (
                2,
                info_frame(
                    None,
                    Some(list(UPDATED, vec![leg(2, 28, 7, CONNECTED, true, "1")])),
                    Some(list(UPDATED, vec![leg(2, 50, 7, CONNECTED, true, "1")])),
                ),
            ),
            // A full update of list 20 without leg 50: the operator's call goes on.
            (3, info_frame(None, None, Some(list(FULL, vec![])))),
        ],
    );
    assert_eq!(brief(&ev), ["7 connected in"]);
    // List 18 without leg 28: the call ends, whatever list 20 still holds.
    let l20 = Some(list(FULL, vec![leg(FULL, 50, 7, CONNECTED, true, "1")]));
    let ev = run(&mut t, &[(4, info_frame(None, Some(list(FULL, vec![])), l20))]);
    assert_eq!(brief(&ev), ["7 ended in hangup"]);
}

// ---- duplicates, interleaving, numbers ------------------------------------------------

#[test]
fn duplicated_frames_change_nothing() {
    let frames = queue_call_frames(true);
    let mut doubled = Vec::new();
    for f in &frames {
        doubled.push(f.clone());
        doubled.push(f.clone());
    }
    assert_eq!(run(&mut tracker(), &frames), run(&mut tracker(), &doubled));
}

#[test]
fn two_interleaved_calls() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+4911")])),
            (2, frame18(vec![leg(INSERTED, 31, 8, DIALING, false, "+4922")])),
            (3, frame18(vec![update(28, CONNECTED)])),
            (4, frame18(vec![update(31, RINGING)])),
            (5, frame18(vec![update(31, CONNECTED), delete(28)])),
            (6, frame18(vec![delete(31)])),
        ],
    );
    assert_eq!(
        brief(&ev),
        [
            "7 offered in",
            "8 dialing out",
            "7 connected in",
            "8 ringing out",
            "8 connected out",
            "7 ended in hangup",
            "8 ended out hangup"
        ]
    );
    let numbers: Vec<_> = ev.iter().map(|e| (e.call.id.as_str(), e.call.remote_number.as_str())).collect();
    assert!(numbers.iter().all(|(id, n)| (*id == "7") == (*n == "+4911")));
}

#[test]
fn remote_number_prefers_caller_id_and_keeps_the_latest() {
    use cti_core::schema::LocalConnection;
    let mut t = tracker();
    let first = LocalConnection {
        action: Some(2),
        id: Some(28),
        call_id: Some(7),
        state: Some(RINGING),
        is_incoming: Some(true),
        other_party_dn: Some("200".into()),
        other_party_display_name: Some("Reception".into()),
        ..Default::default()
    };
    let better = LocalConnection {
        action: Some(3),
        id: Some(28),
        other_party_caller_id: Some("+49891234567".into()),
        other_party_display_name: Some("Max Mustermann".into()),
        state: Some(CONNECTED),
        ..Default::default()
    };
    let ev = run(&mut t, &[(1, frame18(vec![first])), (2, frame18(vec![better])), (3, frame18(vec![delete(28)]))]);
    assert_eq!(ev[0].call.remote_number, "200");
    assert_eq!(ev[0].call.remote_name, "Reception");
    assert_eq!(ev[1].call.remote_number, "+49891234567");
    assert_eq!(ev[2].call.remote_name, "Max Mustermann");
}

#[test]
fn a_reused_pbx_call_id_is_a_new_call_with_its_own_id() {
    let mut t = tracker();
    let ev = run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")])),
            (2, frame18(vec![delete(28)])),
            (3, frame18(vec![leg(INSERTED, 29, 7, RINGING, true, "2")])),
            (4, frame18(vec![delete(29)])),
        ],
    );
    assert_eq!(brief(&ev), ["7 offered in", "7 ended in unknown", "7-2 offered in", "7-2 ended in unknown"]);
}

#[test]
fn extension_number_comes_from_the_pbx_when_not_configured() {
    let mut t = CallTracker::new("", "", 1000);
    let out = t.handle_frame(&info_frame(Some("105"), None, None), 1).unwrap();
    assert_eq!(out.extension_detected.as_deref(), Some("105"));
    assert_eq!(t.extension(), "105");
    let ev = run(&mut t, &[(2, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")]))]);
    assert_eq!(ev[0].context.extension, "105");
    // A configured number wins.
    t.set_extension("101");
    assert_eq!(t.extension(), "101");
}

// ---- expiry, resync, restore ----------------------------------------------------------

#[test]
fn calls_older_than_the_stale_age_expire() {
    let mut t = CallTracker::new("101", "", 10_000);
    run(
        &mut t,
        &[(1_000, frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "1"), leg(INSERTED, 29, 8, 0, true, "2")]))],
    );
    assert_eq!(t.poll_timeout(), Some(11_000));
    assert!(t.handle_timeout(10_999).is_empty());
    let ev = t.handle_timeout(11_000);
    assert_eq!(brief(&ev), ["7 ended in hangup"]);
    assert_eq!(t.poll_timeout(), None);
    // A late update for the expired leg is a new call, never a revival of the old one.
    let ev = run(&mut t, &[(12_000, frame18(vec![update(28, CONNECTED)]))]);
    assert!(ev.iter().all(|e| e.call.id != "7"), "{:?}", brief(&ev));
}

#[test]
fn current_calls_reannounce_what_is_in_progress() {
    let mut t = tracker();
    run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")])),
            (2, frame18(vec![leg(INSERTED, 31, 8, DIALING, false, "2")])),
            (3, frame18(vec![update(31, CONNECTED)])),
            (4, frame18(vec![leg(INSERTED, 40, 9, 0, false, "3")])),
        ],
    );
    let now = t.current_calls(99);
    assert_eq!(brief(&now), ["7 offered in", "8 connected out"]);
    assert!(now.iter().all(|e| e.ts == 99));
    // Re-announcing is not a transition: the real ones still come once.
    let ev = run(&mut t, &[(5, frame18(vec![update(28, CONNECTED)]))]);
    assert_eq!(brief(&ev), ["7 connected in"]);
}

#[test]
fn a_restored_tracker_carries_on_exactly() {
    let frames = queue_call_frames(false);
    let straight = run(&mut tracker(), &frames);
    for cut in 0..=frames.len() {
        let mut t = tracker();
        let mut ev = run(&mut t, &frames[..cut]);
        let json = serde_json::to_string(&t).unwrap();
        let mut restored: CallTracker = serde_json::from_str(&json).unwrap();
        assert_eq!(restored, t);
        ev.extend(run(&mut restored, &frames[cut..]));
        assert_eq!(ev, straight, "restored after {cut} frames");
    }
}

#[test]
fn end_all_ends_every_call_in_progress_once() {
    let mut t = tracker();
    run(
        &mut t,
        &[
            (1, frame18(vec![leg(INSERTED, 28, 7, CONNECTED, true, "1"), leg(INSERTED, 31, 8, RINGING, true, "2")])),
            (2, frame18(vec![leg(INSERTED, 40, 9, 0, false, "3")])),
        ],
    );
    assert_eq!(brief(&t.end_all(5)), ["7 ended in hangup", "8 ended in unknown"]);
    assert!(t.end_all(6).is_empty());
    assert_eq!(t.active_calls(), 0);
}

// ---- invariants over random traffic ---------------------------------------------------

/// Order in which states may appear for one call.
fn allowed_after(prev: &[CallState], next: CallState) -> bool {
    use CallState::*;
    if prev.contains(&next) || prev.contains(&Ended) {
        return false;
    }
    match next {
        Offered | Dialing => prev.is_empty(),
        Ringing => !prev.contains(&Connected) && !prev.contains(&Offered),
        Connected => true,
        Ended => !prev.is_empty(),
    }
}

#[test]
fn random_traffic_keeps_every_call_consistent() {
    use cti_core::schema::LocalConnection;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        let mut t = CallTracker::new("101", "", 1_000_000);
        let mut seen: std::collections::HashMap<String, Vec<CallState>> = Default::default();
        let mut dirs: std::collections::HashMap<String, cti_core::Direction> = Default::default();
        let mut ts = 0;
        let steps = 5 + rng.below(40);
        let check = |events: Vec<cti_core::CallEvent>,
                     seen: &mut std::collections::HashMap<String, Vec<CallState>>,
                     dirs: &mut std::collections::HashMap<String, cti_core::Direction>| {
            for e in events {
                let prev = seen.entry(e.call.id.clone()).or_default();
                assert!(
                    allowed_after(prev, e.call.state),
                    "round {round}: {} {:?} after {:?}",
                    e.call.id,
                    e.call.state,
                    prev
                );
                let dir = *dirs.entry(e.call.id.clone()).or_insert(e.call.direction);
                assert_eq!(dir, e.call.direction, "round {round}: call {} changed direction", e.call.id);
                let want = match e.call.state {
                    CallState::Ended if prev.contains(&CallState::Connected) => cti_core::EndReason::Hangup,
                    CallState::Ended => cti_core::EndReason::Unknown,
                    _ => cti_core::EndReason::None,
                };
                assert_eq!(e.call.reason, want, "round {round}: call {}", e.call.id);
                prev.push(e.call.state);
            }
        };
        for _ in 0..steps {
            ts += 1 + rng.below(5000);
            let mut items = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let id = 1 + rng.below(8) as i64;
                let mut item =
                    LocalConnection { id: Some(id), action: Some(rng.below(6) as i64), ..Default::default() };
                if rng.below(3) > 0 {
                    item.call_id = Some(1 + rng.below(4) as i64);
                }
                if rng.below(4) > 0 {
                    item.state = Some(rng.below(7) as i64);
                }
                if rng.below(2) > 0 {
                    item.is_incoming = Some(rng.below(2) == 1);
                }
                items.push(item);
            }
            let list_action = if rng.below(6) == 0 { FULL } else { UPDATED };
            let l = list(list_action, items);
            let f = if rng.below(4) == 0 { info_frame(None, None, Some(l)) } else { info_frame(None, Some(l), None) };
            check(t.handle_frame(&f, ts).unwrap().events, &mut seen, &mut dirs);
        }
        // Both lists emptied: every announced call must have ended, exactly once.
        check(
            t.handle_frame(&info_frame(None, Some(list(FULL, vec![])), Some(list(FULL, vec![]))), ts + 1)
                .unwrap()
                .events,
            &mut seen,
            &mut dirs,
        );
        for (id, states) in &seen {
            assert_eq!(states.last(), Some(&CallState::Ended), "round {round}: call {id} never ended: {states:?}");
        }
        assert_eq!(t.active_calls(), 0);
    }
}

// ---- bounds ---------------------------------------------------------------------------

#[test]
fn the_leg_table_is_bounded_and_the_refusal_is_counted_once_per_frame() {
    let mut t = tracker();
    let legs: Vec<_> = (0..300).map(|i| leg(INSERTED, 1000 + i, 5000 + i, RINGING, true, "+4989123")).collect();
    let out = t.handle_frame(&frame18(legs), 1).unwrap();
    assert_eq!(t.sizes().0, cti_core::tracker::MAX_LEGS);
    assert!(t.sizes().1 <= cti_core::tracker::MAX_LEGS);
    assert_eq!(out.events.len(), cti_core::tracker::MAX_LEGS);
    assert_eq!(out.notes, ["leg table full (256 legs), 44 new legs refused"]);
    // Known legs still change, and once some end, new ones are taken again.
    let out = t.handle_frame(&frame18(vec![delete(1000), update(1001, CONNECTED)]), 2).unwrap();
    assert_eq!(brief(&out.events), ["5000 ended in unknown", "5001 connected in"]);
    let out = t.handle_frame(&frame18(vec![leg(INSERTED, 9, 9, RINGING, true, "1")]), 3).unwrap();
    assert_eq!(brief(&out.events), ["9 offered in"]);
    assert!(out.notes.is_empty());
}

#[test]
fn numbers_and_names_are_cut_so_a_call_event_stays_small() {
    let mut t = tracker();
    let mut l = leg(INSERTED, 28, 7, RINGING, true, &"9".repeat(500_000));
    l.other_party_display_name = Some("Ä".repeat(400_000));
    let ev = run(&mut t, &[(1, frame18(vec![l]))]);
    assert_eq!(ev[0].call.remote_number.chars().count(), cti_core::tracker::MAX_NUMBER_CHARS);
    assert_eq!(ev[0].call.remote_name.chars().count(), cti_core::tracker::MAX_NAME_CHARS);
    let text = ev[0].to_json();
    assert!(text.len() < 4096, "CALL_EVENT of {} bytes", text.len());
}
