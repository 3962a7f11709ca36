//! wasm-bindgen surface of the PestRoutes stream machine (`crate::stream`), used by the
//! offscreen document. Translation only.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{ms, to_js};
use crate::screenpop::ScreenPop;
use crate::stream::{self, StreamEffect, StreamState};

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum EffectView<'a> {
    Open { generation: u64, url: &'a str },
    Abort { generation: u64 },
    ScreenPop { pop: &'a ScreenPop },
    Status { status: StatusView<'a> },
    Log { line: &'a str },
}

#[derive(Serialize)]
struct StatusView<'a> {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
}

/// The PestRoutes middleware's event stream.
#[wasm_bindgen]
pub struct PestRoutesStream {
    inner: stream::PestRoutesStream,
}

#[wasm_bindgen]
impl PestRoutesStream {
    #[wasm_bindgen(constructor)]
    pub fn new() -> PestRoutesStream {
        PestRoutesStream { inner: stream::PestRoutesStream::new() }
    }

    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&mut self, address: &str, secret: &str, agent: &str, now: f64) {
        self.inner.set_config(address, secret, agent, ms(now));
    }

    #[wasm_bindgen(js_name = handleResponse)]
    pub fn handle_response(&mut self, generation: f64, status: u16, now: f64) {
        self.inner.handle_response(ms(generation), status, ms(now));
    }

    #[wasm_bindgen(js_name = handleBytes)]
    pub fn handle_bytes(&mut self, generation: f64, bytes: &[u8], now: f64) {
        self.inner.handle_bytes(ms(generation), bytes, ms(now));
    }

    #[wasm_bindgen(js_name = handleEnd)]
    pub fn handle_end(&mut self, generation: f64, now: f64) {
        self.inner.handle_end(ms(generation), ms(now));
    }

    #[wasm_bindgen(js_name = handleError)]
    pub fn handle_error(&mut self, generation: f64, now: f64) {
        self.inner.handle_error(ms(generation), ms(now));
    }

    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.inner.handle_timeout(ms(now));
    }

    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.inner.poll_timeout().map(|t| t as f64)
    }

    /// Everything to do now, in order, as plain objects.
    pub fn poll(&mut self) -> js_sys::Array {
        let out = js_sys::Array::new();
        while let Some(e) = self.inner.poll_effect() {
            out.push(&to_js(&match &e {
                StreamEffect::Open { generation, url } => EffectView::Open { generation: *generation, url },
                StreamEffect::Abort { generation } => EffectView::Abort { generation: *generation },
                StreamEffect::ScreenPop(pop) => EffectView::ScreenPop { pop },
                StreamEffect::Status(state) => EffectView::Status {
                    status: StatusView {
                        state: state.name(),
                        agent: match state {
                            StreamState::Connected { agent } => Some(agent),
                            _ => None,
                        },
                    },
                },
                StreamEffect::Log(line) => EffectView::Log { line },
            }));
        }
        out
    }
}

impl Default for PestRoutesStream {
    fn default() -> Self {
        Self::new()
    }
}
