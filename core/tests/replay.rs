#![cfg(not(target_arch = "wasm32"))]
//! The `replay` command, run as a real process.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use cti_core::testkit::{ack_answer, delete, frame18, info_frame, leg, list, other_frame, update};

fn replay(args: &[&str], input: &str) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn replays_a_call_and_reports_bad_lines() {
    let input = [
        format!("1700000001000 {}", b64(&frame18(vec![leg(2, 28, 7, 1, true, "+49891111111")]))),
        format!("1700000001500 {}", b64(&other_frame(122, 100))),
        "this is not a line".to_owned(),
        "1700000002000 !!!notbase64".to_owned(),
        format!("1700000003000 {}", b64(&[0x08, 0xc9, 0x01, 0xca, 0x0c, 0x10])),
        format!("1700000005000 {}", b64(&frame18(vec![update(28, 3)]))),
        String::new(),
        "# a comment".to_owned(),
        format!("1700000060000 {}", b64(&frame18(vec![delete(28)]))),
    ]
    .join("\n");
    let (out, err, code) = replay(&["--extension", "101"], &input);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<_> = lines.iter().map(|l| (l["ts"].as_u64().unwrap(), l["call"]["state"].as_str().unwrap())).collect();
    assert_eq!(got, [(1700000001000, "offered"), (1700000005000, "connected"), (1700000060000, "ended")]);
    assert_eq!(lines[2]["call"]["reason"], "hangup");
    assert_eq!(lines[0]["context"]["extension"], "101");
    assert!(err.contains("line 3: expected `TS_MS BASE64`, `TS_MS POST BASE64`"), "{err}");
    assert!(err.contains("line 4: bad base64"), "{err}");
    assert!(err.contains("line 5: malformed frame"), "{err}");
    assert!(!err.contains("4989"), "numbers never reach stderr: {err}");
}

#[test]
fn stale_age_and_final_clock_are_options() {
    let input = format!("1000 {}\n", b64(&frame18(vec![leg(2, 28, 7, 3, false, "200")])));
    let (out, _, code) = replay(&["--stale-after-ms", "500", "--final-ts", "1500"], &input);
    assert_eq!(code, 0);
    let states: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["call"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["connected", "ended"]);
    let (_, err, code) = replay(&["--bogus"], "");
    assert_eq!(code, 2);
    assert!(err.contains("usage"));
}

#[test]
fn requests_and_answers_of_a_diagnostics_file_are_shown_and_a_state_answer_is_read() {
    use cti_core::command::{make_call_request, DialString};
    use cti_core::diagnostics::mask_message;
    let n = DialString::parse("0891234567").unwrap();
    let request = mask_message(&make_call_request(&n, "sip:101@192.168.1.50")).unwrap();
    let refusal = mask_message(&ack_answer(false, Some(9), "No permission")).unwrap();
    // RequestMyInfo's answer carries a call in progress: state, like a pushed frame.
    let state = info_frame(Some("101"), Some(list(1, vec![leg(1, 28, 7, 3, true, "+49891111111")])), None);
    let input = [
        format!("1000 POST {}", b64(&request)),
        format!("1010 ANSWER 200 {}", b64(&refusal)),
        format!("1020 ANSWER 200 {}", b64(&state)),
        format!("1030 ANSWER 401 {}", b64(&[])),
        "1040 ANSWER x AAAA".to_owned(),
    ]
    .join("\n");
    let (out, err, code) = replay(&[], &input);
    assert_eq!(code, 0);
    assert!(err.contains(r#"line 1: POST {1: 119, 119: {1: "08******67", 3: "sip:101@192.168.1.50", 4: 1}}"#), "{err}");
    assert!(err.contains(r#"line 2: ANSWER 200 {1: 207, 207: {1: 0, 2: 9, 3: "No permission"}}"#), "{err}");
    assert!(err.contains("line 4: ANSWER 401 {}"), "{err}");
    assert!(err.contains("line 5: the status of an ANSWER is a number"), "{err}");
    let states: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["call"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["connected"]);
}
