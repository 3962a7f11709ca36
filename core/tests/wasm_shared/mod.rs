//! The WASM surface exercised inside a JavaScript engine. Included by each
//! `wasm_*` suite, which picks the context: page, dedicated worker, service worker.

use cti_core::testkit::{call_control_answer, devices_frame, endpoint_frame, frame18, leg, registration, update};
use cti_core::wasm::{Bridge, ConnectorSession, PestRoutesStream};
use gloo_utils::format::JsValueSerdeExt;
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const PBX: &str = "https://pbx.example.com";

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

// Structured inputs cross as JSON text (see `cti_core::wasm`).
const SETTINGS: &str = r#"{"webclientOrigins":["https://pbx.example.com"],"dialMethod":"auto"}"#;

/// The effects of one poll, as (kind, effect).
fn effects(b: &mut Bridge) -> Vec<(String, JsValue)> {
    b.poll().iter().map(|e| (get(&e, "kind").as_string().unwrap(), e)).collect()
}

fn sent(fx: &[(String, JsValue)]) -> Vec<serde_json::Value> {
    fx.iter()
        .filter(|(k, _)| k == "toConnector")
        .map(|(_, e)| serde_json::from_str(&get(e, "text").as_string().unwrap()).unwrap())
        .collect()
}

fn ready_bridge() -> Bridge {
    let mut b = Bridge::new(SETTINGS);
    assert_eq!(
        b.handle_login(
            9,
            PBX,
            "page",
            1.0,
            "101".into(),
            "pbx.example.com".into(),
            String::new(),
            String::new(),
            "",
            1.0
        ),
        0
    );
    b.handle_link_ready(1.0, 1.0);
    effects(&mut b);
    b
}

#[wasm_bindgen_test]
fn a_call_through_the_wasm_bridge() {
    let mut b = ready_bridge();
    let page = b.page(9, PBX, "page");
    assert_eq!(b.handle_frame(page, 2.0, 5.0, &endpoint_frame(true, "sip:101@10.0.0.9", 500)), 0);
    assert!(!b.has_effects(), "a frame that changes nothing returns nothing");
    b.handle_frame(page, 3.0, 1_700_000_000_000.0, &frame18(vec![leg(2, 28, 7, 1, true, "+49891111111")]));
    let fx = effects(&mut b);
    let ev = sent(&fx);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["call"]["state"], "offered");
    assert_eq!(ev[0]["ts"], 1_700_000_000_000u64);
    assert_eq!(ev[0]["context"]["tabId"], "9");
    // Log and trace lines never carry the number in full; the call's step is a trace.
    let lines: Vec<(String, String)> = fx
        .iter()
        .filter(|(k, _)| k == "log" || k == "trace")
        .map(|(k, e)| (k.clone(), get(e, "line").as_string().unwrap()))
        .collect();
    assert!(lines.iter().any(|(k, l)| k == "trace" && l.contains("call 7")), "{lines:?}");
    assert!(lines.iter().all(|(_, l)| !l.contains("891111111")), "{lines:?}");
    // The status the popup renders, whole, as the offscreen document hands it over.
    let st: serde_json::Value = b.status(2.0).into_serde().expect("the status is plain data");
    assert_eq!(st["badge"]["text"], "badgeTextSearching", "no link report yet: searching");
    assert_eq!(
        st["calls"],
        serde_json::json!([{"direction": "inbound", "state": "offered", "number": "+49*******11", "name": ""}])
    );
    assert_eq!(st["rows"]["webclient"]["text"]["key"], "wcConnected");
}

#[wasm_bindgen_test]
fn malformed_frames_and_strangers_change_nothing() {
    let mut b = ready_bridge();
    let f = frame18(vec![leg(2, 28, 7, 1, true, "1")]);
    let page = b.page(9, PBX, "page");
    let mut seq = 2.0;
    for cut in 1..f.len() {
        b.handle_frame(page, seq, 1.0, &f[..cut]);
        seq += 1.0;
        assert!(sent(&effects(&mut b)).is_empty());
    }
    let evil = b.page(3, "https://evil.example", "x");
    assert_eq!(b.handle_frame(evil, 1.0, 1.0, &f), 2);
    assert_eq!(b.handle_frame(0, 1.0, 1.0, &f), 2, "no page has handle 0");
    assert!(sent(&effects(&mut b)).is_empty());
    assert_eq!(b.page_verdict("https://evil.example", 1.0), "untrusted");
    // The same page keeps its handle; a new page in the tab gets a new one, the old is refused.
    assert_eq!(b.page(9, PBX, "page"), page);
    let reloaded = b.page(9, PBX, "reloaded");
    assert_ne!(reloaded, page);
    assert_eq!(b.handle_frame(page, seq, 2.0, &f), 2, "an old handle is not reused");
    let page = b.page(9, PBX, "page");
    b.handle_frame(page, seq, 2.0, &f);
    assert_eq!(sent(&effects(&mut b)).len(), 1);
}

#[wasm_bindgen_test]
fn snapshot_and_restore_carry_a_call_and_a_dial_over() {
    let mut b = ready_bridge();
    let page = b.page(9, PBX, "page");
    b.handle_frame(page, 2.0, 1.0, &frame18(vec![leg(2, 28, 7, 1, true, "1")]));
    // The answer to the WebClient's own RequestMyInfo names a desk phone.
    let devices = devices_frame(vec![registration(4, "Yealink SIP-T46S", "sip:101@192.168.1.50")]);
    assert_eq!(b.handle_exchange(9, PBX, "page", 3.0, 2.0, None, 200, &devices), 0);
    b.handle_command(r#"{"kind":"dial","number":"+49 89 1234567"}"#, 2.0).unwrap();
    let fx = effects(&mut b);
    let request = fx.iter().find(|(k, _)| k == "request").expect("a RequestMakeCall to POST").1.clone();
    assert!(get(&request, "body").dyn_into::<Uint8Array>().unwrap().length() > 0, "bytes cross as bytes");
    assert_eq!(get(&request, "choice").as_string().as_deref(), Some(""));
    let token = get(&request, "token").as_f64().unwrap() as u32;
    let mut restored = Bridge::restore(&b.snapshot(), SETTINGS).unwrap();
    let page = restored.page(9, PBX, "page");
    assert_eq!(restored.handle_frame(page, 2.0, 1.0, &[]), 1, "a repeat after a restart");
    restored.handle_frame(page, 4.0, 3.0, &frame18(vec![update(28, 3)]));
    assert_eq!(sent(&effects(&mut restored))[0]["call"]["state"], "connected");
    // The pending dial survived: its answer settles it, nothing is left to time out.
    restored.handle_answer(9, token, 200, &call_control_answer(true, Some(40), ""), "", 5.0);
    effects(&mut restored);
    let four_hours = 4.0 * 3600.0 * 1000.0;
    assert_eq!(restored.poll_timeout(), Some(1.0 + four_hours), "only call 7 turning stale is left");
    let notes = Array::from(&get(&restored.status(6.0), "notes"));
    assert_eq!(notes.length(), 0, "a dial the PBX took is nothing to tell");
    assert!(Bridge::restore("{", SETTINGS).is_err());
    assert!(b.handle_command(r#"{"kind":"launch"}"#, 3.0).is_err());
    assert!(b.handle_command(r#"{"kind":"dial"}"#, 3.0).is_err(), "a dial without a number");
    assert!(b.handle_command("[", 3.0).is_err());
}

#[wasm_bindgen_test]
fn connector_session() {
    let mut s = ConnectorSession::new();
    s.set_config("101", "", "", "", 0.0, 0.0, "", 1.0);
    let fx = Array::from(&s.poll());
    let probe = fx.iter().find(|e| get(e, "kind").as_string().as_deref() == Some("probe")).expect("a probe");
    assert_eq!(Array::from(&get(&probe, "ports")).get(0).as_f64(), Some(19901.0));
}

#[wasm_bindgen_test]
fn pestroutes_stream_and_screen_pop() {
    let mut s = PestRoutesStream::new();
    s.set_config("mw:3000", "secret", "101", 1.0);
    let fx = s.poll();
    let open = fx.iter().find(|e| get(e, "kind").as_string().as_deref() == Some("open")).expect("an open");
    let g = get(&open, "generation").as_f64().unwrap();
    assert_eq!(get(&open, "url").as_string().unwrap(), "http://mw:3000/sse?agent=101&secret=secret");
    s.handle_response(g, 200, 2.0);
    s.handle_bytes(g, b"event: connected\r\ndata: {}\r\n\r\nevent: openCustomer\r\ndata: {\"customerID\":\"12\",\"phone\":\"5551234567\",\"agent\":\"101\"}\r", 3.0);
    s.handle_bytes(g, b"\n\r\n", 4.0);
    let fx = s.poll();
    let pop = fx.iter().find(|e| get(e, "kind").as_string().as_deref() == Some("screenPop")).expect("a screen-pop");
    assert_eq!(Array::from(&get(&get(&pop, "pop"), "searchTerms")).length(), 2, "the phone, then the customer id");
    let status = fx.iter().find(|e| get(e, "kind").as_string().as_deref() == Some("status")).unwrap();
    assert_eq!(get(&get(&status, "status"), "agent").as_string().as_deref(), Some("101"));
}
