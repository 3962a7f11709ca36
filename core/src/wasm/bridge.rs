//! wasm-bindgen surface of the call path's state machine (`crate::bridge`), which runs in
//! the offscreen document.
//! Translation only: numbers and strings in, plain JS objects out.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{from_json, ms, to_js};
use crate::bridge::status::Text;
use crate::bridge::trust::Verdict;
use crate::bridge::{self, Accepted, Effect, Identity, LinkReport, Settings, StreamReport};
use crate::connector::Command;

/// Settings come from the extension's own stores (already combined and checked).
const SETTINGS_MAX: usize = 1 << 20;
/// A report or a command from the offscreen document: a state and a port or two, or a
/// number and a call id.
const OFFSCREEN_MAX: usize = 4096;

fn settings(json: &str) -> Settings {
    from_json(json, SETTINGS_MAX).unwrap_or_else(|| {
        web_sys::console::warn_1(&"[3CX Bridge] settings of the wrong shape, defaults apply".into());
        Settings::default()
    })
}

fn accepted(a: Accepted) -> u8 {
    match a {
        Accepted::Yes => 0,
        Accepted::Repeat => 1,
        Accepted::Refused => 2,
    }
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum EffectView<'a> {
    #[serde(rename_all = "camelCase")]
    ToConnector {
        generation: u64,
        seq: u64,
        text: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    Dialer {
        tab: u32,
        token: u32,
        number: &'a str,
        confirm: bool,
        wait_ms: u32,
    },
    Recording {
        tab: u32,
        until: u64,
    },
    LinkConfig {
        config: &'a bridge::LinkConfig,
    },
    Pin {
        origin: Option<&'a str>,
    },
    Log {
        line: &'a str,
    },
    Trace {
        line: &'a str,
    },
}

/// `{kind:'dial', number}` or `{kind:'drop', callId?}`. A plain struct rather than a
/// tagged enum: serde reads tagged enums through a buffering layer of its own.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommandView {
    kind: String,
    number: Option<String>,
    call_id: Option<String>,
}

/// The call path's state: WebClient tabs, trust, outbox, commands, status.
#[wasm_bindgen]
pub struct Bridge {
    inner: bridge::Bridge,
    /// Pages named by `page()`, one per tab: a frame then crosses with a number instead
    /// of two strings to encode and copy.
    pages: Vec<Page>,
    next_page: u32,
}

/// A WebClient page: its tab, its origin as Chrome reported it, its page id.
struct Page {
    handle: u32,
    tab: u32,
    origin: Rc<str>,
    id: Rc<str>,
}

/// More pages than tabs the core tracks (`bridge::MAX_TABS`) is not a WebClient: the
/// oldest is forgotten (its handle is refused; its tab gets a new one on its next message).
const MAX_PAGES: usize = 64;

#[wasm_bindgen]
impl Bridge {
    #[wasm_bindgen(constructor)]
    pub fn new(settings_json: &str) -> Bridge {
        Bridge { inner: bridge::Bridge::new(settings(settings_json)), pages: Vec::new(), next_page: 1 }
    }

    /// Rebuilds the state from `snapshot()` (the offscreen document was opened again);
    /// throws on a bad one.
    pub fn restore(snapshot: &str, settings_json: &str) -> Result<Bridge, JsError> {
        let bytes = BASE64.decode(snapshot).map_err(|_| JsError::new("bad snapshot: not base64"))?;
        bridge::Bridge::restore(&bytes, settings(settings_json))
            .map(|inner| Bridge { inner, pages: Vec::new(), next_page: 1 })
            .map_err(|e| JsError::new(&format!("bad snapshot: {e}")))
    }

    /// The state to keep in `storage.session` (a string: storage holds JSON values).
    pub fn snapshot(&self) -> String {
        BASE64.encode(self.inner.snapshot())
    }

    #[wasm_bindgen(js_name = setSettings)]
    pub fn set_settings(&mut self, settings_json: &str) {
        self.inner.set_settings(settings(settings_json));
    }

    #[wasm_bindgen(js_name = restorePin)]
    pub fn restore_pin(&mut self, origin: &str) {
        self.inner.restore_pin(origin);
    }

    #[wasm_bindgen(js_name = forgetPinned)]
    pub fn forget_pinned(&mut self, now: f64) {
        self.inner.forget_pinned(ms(now));
    }

    /// The middleware address the stream may use now ("" while access is unchecked or missing).
    #[wasm_bindgen(js_name = streamAddress)]
    pub fn stream_address(&self) -> String {
        self.inner.stream_address().to_owned()
    }

    #[wasm_bindgen(js_name = setMissingHosts)]
    pub fn set_missing_hosts(&mut self, hosts: Vec<String>) {
        self.inner.set_missing_hosts(hosts);
    }

    /// "trusted", "unpinned" (may talk; its login pins it) or "untrusted".
    #[wasm_bindgen(js_name = pageVerdict)]
    pub fn page_verdict(&mut self, origin: &str, now: f64) -> String {
        match self.inner.page_verdict(origin, ms(now)) {
            Verdict::Trusted => "trusted",
            Verdict::Unpinned => "unpinned",
            Verdict::Untrusted => "untrusted",
        }
        .into()
    }

    /// 0 accepted, 1 repeat, 2 refused. The identity crosses as four strings, not as JSON
    /// text: they come from the page's storage, and a field the core would not use (too
    /// long, control characters, a lone surrogate, which arrives as U+FFFD) is then blanked
    /// on its own (`Identity::sanitised`) instead of losing the other three with it.
    #[wasm_bindgen(js_name = handleLogin)]
    #[allow(clippy::too_many_arguments)] // each is a plain value; an object would need a deserializer
    pub fn handle_login(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: f64,
        extension: String,
        domain: String,
        webclient_version: String,
        user_name: String,
        choice: &str,
        now: f64,
    ) -> u8 {
        let identity = Identity { extension, domain, webclient_version, user_name };
        accepted(self.inner.handle_login(tab, origin, page_id, ms(seq), &identity, choice, ms(now)))
    }

    /// One of the WebClient's own requests (only while a recording runs) and its answer.
    #[wasm_bindgen(js_name = handleExchange)]
    #[allow(clippy::too_many_arguments)] // the page's numbering, then what it saw
    pub fn handle_exchange(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: f64,
        ts: f64,
        request: Option<Vec<u8>>,
        status: u16,
        answer: &[u8],
    ) -> u8 {
        let request = request.as_deref();
        accepted(self.inner.handle_exchange(tab, origin, page_id, ms(seq), ms(ts), request, status, answer))
    }

    /// The WebClient's socket said START (`started`) or NOT AUTH / STOP.
    #[wasm_bindgen(js_name = handleSession)]
    pub fn handle_session(&mut self, tab: u32, origin: &str, page_id: &str, seq: f64, started: bool, now: f64) -> u8 {
        accepted(self.inner.handle_session(tab, origin, page_id, ms(seq), started, ms(now)))
    }

    /// The device chosen in the WebClient changed (the page's stored choice, JSON text).
    #[wasm_bindgen(js_name = handleDeviceChoice)]
    pub fn handle_device_choice(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: f64,
        choice: &str,
        now: f64,
    ) -> u8 {
        accepted(self.inner.handle_device_choice(tab, origin, page_id, ms(seq), choice, ms(now)))
    }

    #[wasm_bindgen(js_name = handleSocketClosed)]
    pub fn handle_socket_closed(&mut self, tab: u32, origin: &str, page_id: &str, seq: f64, now: f64) -> u8 {
        accepted(self.inner.handle_socket_closed(tab, origin, page_id, ms(seq), ms(now)))
    }

    #[wasm_bindgen(js_name = handleLost)]
    pub fn handle_lost(&mut self, tab: u32, origin: &str, page_id: &str, seq: f64, now: f64) -> u8 {
        accepted(self.inner.handle_lost(tab, origin, page_id, ms(seq), ms(now)))
    }

    /// The handle for frames from this page (`handleFrame`), never 0. It stays valid until
    /// the tab closes or names another page; an old handle is refused, never reused.
    pub fn page(&mut self, tab: u32, origin: &str, page_id: &str) -> u32 {
        let same = |p: &Page| p.tab == tab && *p.origin == *origin && *p.id == *page_id;
        if let Some(p) = self.pages.iter().find(|p| same(p)) {
            return p.handle;
        }
        self.pages.retain(|p| p.tab != tab);
        if self.pages.len() >= MAX_PAGES {
            self.pages.remove(0);
        }
        let handle = self.next_page;
        self.next_page = self.next_page.checked_add(1).unwrap_or(1);
        self.pages.push(Page { handle, tab, origin: origin.into(), id: page_id.into() });
        handle
    }

    /// A frame from the page `page()` named. 0 accepted, 1 repeat, 2 refused (also for a
    /// handle that is not current). Nothing crosses back: `hasEffects()` tells whether
    /// anything follows.
    #[wasm_bindgen(js_name = handleFrame)]
    pub fn handle_frame(&mut self, page: u32, seq: f64, ts: f64, bytes: &[u8]) -> u8 {
        let Some(p) = self.pages.iter().find(|p| p.handle == page) else {
            return accepted(Accepted::Refused);
        };
        let (tab, origin, id) = (p.tab, Rc::clone(&p.origin), Rc::clone(&p.id));
        accepted(self.inner.handle_frame(tab, &origin, &id, ms(seq), ms(ts), bytes))
    }

    #[wasm_bindgen(js_name = handleOversizedFrame)]
    pub fn handle_oversized_frame(&mut self, tab: u32, origin: &str, size: f64, now: f64) {
        self.inner.handle_oversized_frame(tab, origin, ms(size), ms(now));
    }

    #[wasm_bindgen(js_name = handleTabClosed)]
    pub fn handle_tab_closed(&mut self, tab: u32, now: f64) {
        self.pages.retain(|p| p.tab != tab);
        self.inner.handle_tab_closed(tab, ms(now));
    }

    /// See `bridge::Bridge::retain_tabs`.
    #[wasm_bindgen(js_name = retainTabs)]
    pub fn retain_tabs(&mut self, open: &[u32], now: f64) {
        self.inner.retain_tabs(open, ms(now));
    }

    #[wasm_bindgen(js_name = handleLinkReady)]
    pub fn handle_link_ready(&mut self, generation: f64, now: f64) {
        self.inner.handle_link_ready(ms(generation), ms(now));
    }

    /// `by_connector`: the connector closed the socket (see `crate::link`).
    #[wasm_bindgen(js_name = handleLinkDown)]
    pub fn handle_link_down(&mut self, generation: f64, by_connector: bool) {
        self.inner.handle_link_down(ms(generation), by_connector);
    }

    /// See `bridge::Bridge::handle_link_unsent`.
    #[wasm_bindgen(js_name = handleLinkUnsent)]
    pub fn handle_link_unsent(&mut self, generation: f64, seq: f64, now: f64) {
        self.inner.handle_link_unsent(ms(generation), ms(seq), ms(now));
    }

    #[wasm_bindgen(js_name = handleLinkRestarted)]
    pub fn handle_link_restarted(&mut self) {
        self.inner.handle_link_restarted();
    }

    #[wasm_bindgen(js_name = handleLinkReport)]
    pub fn handle_link_report(&mut self, report_json: &str, now: f64) {
        let report: LinkReport = from_json(report_json, OFFSCREEN_MAX).unwrap_or_default();
        self.inner.handle_link_report(report, ms(now));
    }

    #[wasm_bindgen(js_name = handleStreamReport)]
    pub fn handle_stream_report(&mut self, report_json: &str) {
        let report: StreamReport = from_json(report_json, OFFSCREEN_MAX).unwrap_or_default();
        self.inner.handle_stream_report(report);
    }

    /// `{kind:'dial', number}` or `{kind:'drop', callId?}` from our connector, as JSON
    /// text; throws on anything else.
    #[wasm_bindgen(js_name = handleCommand)]
    pub fn handle_command(&mut self, command_json: &str, now: f64) -> Result<(), JsError> {
        let cmd: CommandView = from_json(command_json, OFFSCREEN_MAX).ok_or_else(|| JsError::new("bad command"))?;
        let command = match (cmd.kind.as_str(), cmd.number) {
            ("dial", Some(number)) => Command::Dial { number, sync_id: None },
            ("drop", _) => Command::Drop { call_id: cmd.call_id },
            _ => return Err(JsError::new("bad command")),
        };
        self.inner.handle_command(command, ms(now));
        Ok(())
    }

    /// The page's report of a request: HTTP status (0: not sent, `why` says why) and body.
    #[wasm_bindgen(js_name = handleAnswer)]
    pub fn handle_answer(&mut self, tab: u32, token: u32, status: u16, body: &[u8], why: &str, now: f64) {
        self.inner.handle_answer(tab, token, status, body, why, ms(now));
    }

    /// The page did not send a request: the device chosen in the WebClient changed.
    #[wasm_bindgen(js_name = handleStaleChoice)]
    pub fn handle_stale_choice(&mut self, tab: u32, token: u32, choice: &str, now: f64) {
        self.inner.handle_stale_choice(tab, token, choice, ms(now));
    }

    /// The page's report of a dialer step.
    #[wasm_bindgen(js_name = handleDialerResult)]
    pub fn handle_dialer_result(&mut self, tab: u32, token: u32, ok: bool, why: &str, now: f64) {
        self.inner.handle_dialer_result(tab, token, ok, why, ms(now));
    }

    /// A request or dialer step never reached the tab's page.
    #[wasm_bindgen(js_name = handleUndelivered)]
    pub fn handle_undelivered(&mut self, tab: u32, token: u32, why: &str, now: f64) {
        self.inner.handle_undelivered(tab, token, why, ms(now));
    }

    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.inner.handle_timeout(ms(now));
    }

    #[wasm_bindgen(js_name = handlePopResult)]
    pub fn handle_pop_result(&mut self, term: &str, key: &str, args: Vec<String>, ok: bool, now: f64) {
        self.inner.handle_pop_result(term, Text { key: key.to_owned(), args }, ok, ms(now));
    }

    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.inner.poll_timeout().map(|t| t as f64)
    }

    #[wasm_bindgen(js_name = hasEffects)]
    pub fn has_effects(&self) -> bool {
        self.inner.has_effects()
    }

    /// Everything the shell must do now, in order, as plain objects.
    pub fn poll(&mut self) -> js_sys::Array {
        let out = js_sys::Array::new();
        while let Some(e) = self.inner.poll_effect() {
            out.push(&match &e {
                Effect::ToConnector { generation, seq, text } => {
                    to_js(&EffectView::ToConnector { generation: *generation, seq: *seq, text })
                }
                Effect::Request { tab, token, body, choice, wait_ms } => {
                    // Bytes cross as a Uint8Array, not as a list of numbers.
                    let obj = js_sys::Object::new();
                    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&obj, &k.into(), v).ok();
                    set("kind", &"request".into());
                    set("tab", &(*tab).into());
                    set("token", &(*token).into());
                    set("body", &js_sys::Uint8Array::from(body.as_slice()));
                    set("choice", &choice.as_deref().map_or(JsValue::NULL, JsValue::from));
                    set("waitMs", &(*wait_ms).into());
                    obj.into()
                }
                Effect::Dialer { tab, token, number, confirm, wait_ms } => to_js(&EffectView::Dialer {
                    tab: *tab,
                    token: *token,
                    number,
                    confirm: *confirm,
                    wait_ms: *wait_ms,
                }),
                Effect::Recording { tab, until } => to_js(&EffectView::Recording { tab: *tab, until: *until }),
                Effect::LinkConfig(config) => to_js(&EffectView::LinkConfig { config }),
                Effect::Pin(origin) => to_js(&EffectView::Pin { origin: origin.as_deref() }),
                Effect::Log(line) => to_js(&EffectView::Log { line }),
                Effect::Trace(line) => to_js(&EffectView::Trace { line }),
            });
        }
        out
    }

    #[wasm_bindgen(js_name = takeDirty)]
    pub fn take_dirty(&mut self) -> bool {
        self.inner.take_dirty()
    }

    #[wasm_bindgen(js_name = takeStatusDirty)]
    pub fn take_status_dirty(&mut self) -> bool {
        self.inner.take_status_dirty()
    }

    /// What the popup shows (see `crate::bridge::status`).
    pub fn status(&self, now: f64) -> JsValue {
        to_js(&self.inner.status_view(ms(now)))
    }

    /// The connector session the core believes is up (a generation), if any.
    pub fn session(&self) -> Option<f64> {
        self.inner.session().map(|g| g as f64)
    }

    #[wasm_bindgen(js_name = linkConfig)]
    pub fn link_config(&self) -> JsValue {
        to_js(&self.inner.link_config())
    }

    /// Whether click-to-dial is on for a page on `origin` (as Chrome reports it).
    #[wasm_bindgen(js_name = clickToDialAllowed)]
    pub fn click_to_dial_allowed(&self, origin: &str) -> bool {
        self.inner.click_to_dial_allowed(origin)
    }

    /// A click on a phone number in a PestRoutes page (`origin` as Chrome reports it).
    #[wasm_bindgen(js_name = handleClickToDial)]
    pub fn handle_click_to_dial(&mut self, origin: &str, number: &str, now: f64) {
        self.inner.handle_click_to_dial(origin, number, ms(now));
    }

    /// Starts a diagnostics recording of `duration_ms` (see `crate::diagnostics`).
    #[wasm_bindgen(js_name = diagStart)]
    pub fn diag_start(&mut self, now: f64, duration_ms: f64) {
        self.inner.start_recording(ms(now), ms(duration_ms));
    }

    #[wasm_bindgen(js_name = diagStop)]
    pub fn diag_stop(&mut self, now: f64) {
        self.inner.stop_recording(ms(now));
    }

    /// Until when a new page should copy the WebClient's own requests (0: no recording).
    #[wasm_bindgen(js_name = recordingUntil)]
    pub fn recording_until(&self, now: f64) -> f64 {
        self.inner.recording_until(ms(now)) as f64
    }

    /// `{active, until, frames, bytes, full}`.
    #[wasm_bindgen(js_name = diagStatus)]
    pub fn diag_status(&mut self, now: f64) -> JsValue {
        to_js(&self.inner.recorder().status(ms(now)))
    }

    /// One line of the extension's log, kept for the report.
    #[wasm_bindgen(js_name = diagLog)]
    pub fn diag_log(&mut self, line: &str) {
        self.inner.recorder().log(line);
    }

    /// The file: the status report as comments, then the masked frames.
    #[wasm_bindgen(js_name = diagText)]
    pub fn diag_text(&mut self, report: &str) -> String {
        self.inner.recorder().text(report)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    max_frame_bytes: usize,
    queue_max: usize,
    in_flight: usize,
    batch_max: usize,
}

/// What a WebClient page may hold for the core and how it sends it:
/// `{maxFrameBytes, queueMax, inFlight, batchMax}`.
#[wasm_bindgen(js_name = pageLimits)]
pub fn page_limits() -> JsValue {
    to_js(&Limits {
        max_frame_bytes: bridge::MAX_FRAME_BYTES,
        queue_max: bridge::PAGE_QUEUE_MAX,
        in_flight: bridge::PAGE_IN_FLIGHT,
        batch_max: bridge::PAGE_BATCH_MAX,
    })
}

/// Host patterns PestRoutes needs beyond the install-time grant.
#[wasm_bindgen(js_name = hostPatterns)]
pub fn host_patterns(server_address: &str, pestroutes_url: &str) -> Vec<String> {
    bridge::host_patterns(server_address, pestroutes_url)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PopPlan {
    load_timeout_ms: u32,
    poll_ms: u32,
    poll_for_ms: u32,
    queue_max: u32,
}

/// How a screen-pop waits for the PestRoutes tab and its search results.
#[wasm_bindgen(js_name = screenPopPlan)]
pub fn screen_pop_plan() -> JsValue {
    to_js(&PopPlan {
        load_timeout_ms: bridge::POP_LOAD_TIMEOUT_MS,
        poll_ms: bridge::POP_POLL_MS,
        poll_for_ms: bridge::POP_POLL_FOR_MS,
        queue_max: bridge::POP_QUEUE_MAX,
    })
}
