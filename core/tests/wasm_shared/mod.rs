//! The WASM surface exercised inside a JavaScript engine. Included by each
//! `wasm_*` suite, which picks the context: page, dedicated worker, service worker.

use cti_core::testkit::{delete, frame18, leg, other_frame, update};
use cti_core::wasm::{hello_message, parse_connector_message, parse_open_customer, Core, EventStream};
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn events(out: &JsValue) -> Vec<serde_json::Value> {
    Array::from(&get(out, "events"))
        .iter()
        .map(|s| serde_json::from_str(&s.as_string().unwrap()).unwrap())
        .collect()
}

#[wasm_bindgen_test]
fn a_call_through_the_wasm_core() {
    let mut core = Core::new("101", "tab-9", 4.0 * 3600.0 * 1000.0);
    let out = core.handle_frame(&other_frame(227, 500), 1.0).unwrap();
    assert!(events(&out).is_empty());
    let out = core.handle_frame(&frame18(vec![leg(2, 28, 7, 1, true, "+49891111111"), leg(2, 29, 7, 1, true, "+49891111111")]), 1_700_000_000_000.0).unwrap();
    let ev = events(&out);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["call"]["state"], "offered");
    assert_eq!(ev[0]["ts"], 1_700_000_000_000u64);
    assert_eq!(ev[0]["context"]["tabId"], "tab-9");
    // Log summaries never carry the number in full.
    let summary = Array::from(&get(&out, "summaries")).get(0).as_string().unwrap();
    assert!(!summary.contains("891111111"), "{summary}");
    let out = core.handle_frame(&frame18(vec![update(28, 3), delete(29)]), 1_700_000_001_000.0).unwrap();
    assert_eq!(events(&out)[0]["call"]["state"], "connected");
    assert_eq!(core.active_calls(), 1);
    assert_eq!(core.current_calls(5.0).len(), 1);
}

#[wasm_bindgen_test]
fn malformed_frames_throw_and_change_nothing() {
    let mut core = Core::new("101", "", 1e6);
    let f = frame18(vec![leg(2, 28, 7, 1, true, "1")]);
    for cut in 1..f.len() {
        if let Ok(out) = core.handle_frame(&f[..cut], 1.0) {
            assert!(events(&out).is_empty());
        }
    }
    assert_eq!(core.active_calls(), 0);
    assert!(core.handle_frame(&[], 1.0).is_err());
    assert_eq!(events(&core.handle_frame(&f, 2.0).unwrap()).len(), 1);
}

#[wasm_bindgen_test]
fn snapshot_and_restore_carry_a_call_over() {
    let mut core = Core::new("101", "t", 1e7);
    core.handle_frame(&frame18(vec![leg(2, 28, 7, 1, true, "1")]), 1.0).unwrap();
    let dial = core.dial("+49 89 1234567", 2.0, 3000.0).unwrap();
    assert!(!dial.is_empty());
    let mut restored = Core::restore(&core.snapshot()).unwrap();
    let out = restored.handle_frame(&frame18(vec![update(28, 3)]), 3.0).unwrap();
    assert_eq!(events(&out)[0]["call"]["state"], "connected");
    // The pending dial survived the restart and is confirmed by the new outbound call.
    let out = restored.handle_frame(&frame18(vec![leg(2, 40, 8, 2, false, "0891234567")]), 4.0).unwrap();
    assert_eq!(Array::from(&get(&out, "confirmed")).length(), 1);
    assert!(Core::restore("{").is_err());
}

#[wasm_bindgen_test]
fn commands_and_connector_messages() {
    let mut core = Core::new("101", "", 1e7);
    assert!(core.dial("12a", 0.0, 1.0).is_err());
    assert!(core.drop_call(None, 0.0, 1.0).is_err());
    core.handle_frame(&frame18(vec![leg(2, 28, 7, 3, true, "1")]), 1.0).unwrap();
    let d = core.drop_call(Some("7".into()), 2.0, 1000.0).unwrap();
    assert_eq!(get(&d, "callId").as_string().as_deref(), Some("7"));
    // Unconfirmed commands expire at their deadline.
    let out = core.handle_timeout(1002.0);
    assert_eq!(Array::from(&get(&out, "expired")).length(), 1);

    assert_eq!(hello_message("101", None, None, None), r#"{"v":1,"type":"HELLO","extension":"101","identity":"3CX WebClient"}"#);
    let ack = parse_connector_message(r#"{"v":1,"type":"HELLO_ACK","port":19801,"ready":true}"#).unwrap();
    assert_eq!(get(&ack, "kind").as_string().as_deref(), Some("helloAck"));
    assert_eq!(get(&ack, "port").as_f64(), Some(19801.0));
    let dial = parse_connector_message(r#"{"v":1,"type":"COMMAND","cmd":"DIAL","number":"+49891234567"}"#).unwrap();
    assert_eq!(get(&dial, "masked").as_string().as_deref(), Some("+49*******67"));
    assert!(parse_connector_message(r#"{"v":2,"type":"HELLO_ACK"}"#).is_err());
}

#[wasm_bindgen_test]
fn event_stream_and_screen_pop() {
    let mut s = EventStream::new();
    assert_eq!(Array::from(&s.feed(b"retry: 3000\r\nevent: openCustomer\r\ndata: {\"customerID\":\"12\",\"phone\":\"555\",\"agent\":\"101\"}\r")).length(), 0);
    let ev = Array::from(&s.feed(b"\n\r\n"));
    assert_eq!(ev.length(), 1);
    assert_eq!(s.retry_ms(), Some(3000.0));
    let data = get(&ev.get(0), "data").as_string().unwrap();
    let pop = parse_open_customer(&data, "101").unwrap();
    assert_eq!(Array::from(&get(&pop, "searchTerms")).length(), 2);
    assert!(parse_open_customer(r#"{"phone":"<script>","agent":"101"}"#, "101").is_err());
}
