//! wasm-bindgen surface of the connector session machine (`crate::session`), used by the
//! offscreen document. It only translates: numbers and strings in, plain effect objects
//! out. Every decision is in `crate::session`.

use wasm_bindgen::prelude::*;

use super::{ms, to_js};
use crate::session::{self, LinkConfig};

fn port(p: f64) -> u16 {
    if p.is_finite() && (0.0..=65535.0).contains(&p) {
        p as u16
    } else {
        0
    }
}

/// The connector session (see `crate::session`). Times are ms since the epoch.
#[wasm_bindgen]
pub struct ConnectorSession {
    inner: session::ConnectorSession,
}

#[wasm_bindgen]
impl ConnectorSession {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> ConnectorSession {
        ConnectorSession { inner: session::ConnectorSession::new() }
    }

    /// Ports are numbers, 0 meaning none; the strings may be empty.
    #[wasm_bindgen(js_name = setConfig)]
    #[allow(clippy::too_many_arguments)]
    pub fn set_config(
        &mut self,
        extension: &str,
        domain: &str,
        webclient_version: &str,
        user_name: &str,
        bridge_port: f64,
        last_good_port: f64,
        accepted_extension: &str,
        now_ms: f64,
    ) {
        let cfg = LinkConfig {
            extension: extension.to_owned(),
            domain: domain.to_owned(),
            webclient_version: webclient_version.to_owned(),
            user_name: user_name.to_owned(),
            bridge_port: port(bridge_port),
            last_good_port: port(last_good_port),
            accepted_extension: accepted_extension.to_owned(),
        };
        self.inner.set_config(cfg, ms(now_ms));
    }

    #[wasm_bindgen(js_name = handleProbeResult)]
    pub fn handle_probe_result(&mut self, generation: u32, probed_port: f64, ok: bool, now_ms: f64) {
        self.inner.handle_probe_result(generation, port(probed_port), ok, ms(now_ms));
    }

    #[wasm_bindgen(js_name = handleOpen)]
    pub fn handle_open(&mut self, generation: u32, now_ms: f64) {
        self.inner.handle_open(generation, ms(now_ms));
    }

    #[wasm_bindgen(js_name = handleText)]
    pub fn handle_text(&mut self, generation: u32, text: &str, now_ms: f64) {
        self.inner.handle_text(generation, text, ms(now_ms));
    }

    /// A text message longer than `textMax()` UTF-16 units, so over the limit in bytes too:
    /// not copied into the module.
    #[wasm_bindgen(js_name = handleOversizedText)]
    pub fn handle_oversized_text(&mut self, generation: u32, units: f64) {
        self.inner.handle_oversized_text(generation, units as usize);
    }

    /// The longest text message the connector may send, in bytes (`connector::MAX_MESSAGE_BYTES`).
    #[wasm_bindgen(js_name = textMax)]
    pub fn text_max() -> u32 {
        crate::connector::MAX_MESSAGE_BYTES as u32
    }

    #[wasm_bindgen(js_name = handleBinary)]
    pub fn handle_binary(&mut self, generation: u32, now_ms: f64) {
        self.inner.handle_binary(generation, ms(now_ms));
    }

    #[wasm_bindgen(js_name = handleClose)]
    pub fn handle_close(&mut self, generation: u32, now_ms: f64) {
        self.inner.handle_close(generation, ms(now_ms));
    }

    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now_ms: f64) {
        self.inner.handle_timeout(ms(now_ms));
    }

    /// When `handleTimeout` should next run (ms since the epoch), or undefined.
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.inner.poll_timeout().map(|t| t as f64)
    }

    /// Every effect queued since the last call, in order, as plain objects.
    pub fn poll(&mut self) -> JsValue {
        let effects: Vec<_> = std::iter::from_fn(|| self.inner.poll_effect()).collect();
        to_js(&effects)
    }

    #[wasm_bindgen(js_name = canSend)]
    pub fn can_send(&self, generation: u32) -> bool {
        self.inner.can_send(generation)
    }

    pub fn status(&self) -> JsValue {
        to_js(&self.inner.status())
    }
}
