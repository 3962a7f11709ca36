//! The WebAssembly surface used by the extension's offscreen document, service worker and
//! options page.
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
mod settings;
mod stream;

pub use bridge::Bridge;
pub use session::ConnectorSession;
pub use stream::PestRoutesStream;

/// Structured inputs (settings, reports, a command) cross as JSON text and are read with
/// serde_json, the one JSON deserializer this module carries (the connector protocol needs
/// it anyway; postcard reads only the snapshot). Reading JS values directly would compile
/// another deserializer, and another copy of every input type's visitor, into the module.
/// Text beyond `max` bytes is not read.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str, max: usize) -> Option<T> {
    if text.len() > max {
        return None;
    }
    serde_json::from_str(text).ok()
}

pub(crate) fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Plain objects (not Maps) so the shell can read fields and hand them to chrome.* APIs.
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

pub(crate) fn ms(now_ms: f64) -> u64 {
    if now_ms.is_finite() && now_ms > 0.0 {
        now_ms as u64
    } else {
        0
    }
}
