//! The WebAssembly surface used by the extension's service worker and offscreen document.
//!
//! Bytes come in as `&[u8]`; only what the shell must act on goes out: CALL_EVENT texts
//! ready to send, command frames ready to put on the WebClient socket, screen-pops to run,
//! and short log lines. Decoded protobuf fields never cross into JavaScript.

use serde::Serialize;
use wasm_bindgen::prelude::*;

// One submodule per browser role's state machine; each only translates between JS and
// the core.
mod bridge;
mod session;
mod stream;

pub use bridge::Bridge;
pub use session::ConnectorSession;

use crate::screenpop;
use crate::sse::SseParser;

pub(crate) fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Plain objects (not Maps) so the shell can read fields and hand them to chrome.* APIs.
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

pub(crate) fn ms(now_ms: f64) -> u64 {
    if now_ms.is_finite() && now_ms > 0.0 {
        now_ms as u64
    } else {
        0
    }
}

/// The PestRoutes middleware's event stream, fed network chunks.
#[wasm_bindgen]
pub struct EventStream {
    parser: SseParser,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StreamEvent {
    event: String,
    data: String,
}

#[wasm_bindgen]
impl EventStream {
    #[wasm_bindgen(constructor)]
    pub fn new() -> EventStream {
        EventStream { parser: SseParser::new() }
    }

    /// Returns the events this chunk completed: `[{event, data}]`.
    pub fn feed(&mut self, chunk: &[u8]) -> JsValue {
        let events: Vec<StreamEvent> =
            self.parser.feed(chunk).into_iter().map(|e| StreamEvent { event: e.event, data: e.data }).collect();
        to_js(&events)
    }

    /// The server's `retry` in ms, if it sent one.
    #[wasm_bindgen(js_name = retryMs)]
    pub fn retry_ms(&self) -> Option<f64> {
        self.parser.retry_ms().map(|r| r as f64)
    }

    pub fn reset(&mut self) {
        self.parser.reset();
    }
}

impl Default for EventStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Validates an `openCustomer` payload for `agent`: `{customerId, phone, searchTerms}`,
/// or throws with the reason it was refused.
#[wasm_bindgen(js_name = parseOpenCustomer)]
pub fn parse_open_customer(data: &str, agent: &str) -> Result<JsValue, JsError> {
    screenpop::parse_open_customer(data, agent).map(|p| to_js(&p)).map_err(|e| JsError::new(&e.to_string()))
}

/// Texts sent on the current connector session (see `crate::link::RecentTexts`).
#[wasm_bindgen]
#[derive(Default)]
pub struct RecentTexts {
    inner: crate::link::RecentTexts,
}

#[wasm_bindgen]
impl RecentTexts {
    #[wasm_bindgen(constructor)]
    pub fn new() -> RecentTexts {
        RecentTexts::default()
    }

    /// Whether `text` has not been sent on this session yet (and is now remembered).
    pub fn admit(&mut self, text: &str) -> bool {
        self.inner.admit(text)
    }

    pub fn clear(&mut self) {
        self.inner.clear();
    }
}
